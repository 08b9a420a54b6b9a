"""GET /v1/models and GET /v1/model, and the packaged catalog."""

from __future__ import annotations

import httpx
import pytest

from eachlabs_widgets.emulator import EMULATOR_BASE_URL, Emulator, load_catalog

from .helpers import FakeClock, run


@pytest.fixture
def anon(emu: Emulator) -> httpx.Client:
    # No key at all: the catalog endpoints do not need one.
    return httpx.Client(transport=emu.transport(), base_url=EMULATOR_BASE_URL)


def test_load_catalog_has_26_models_with_schemas() -> None:
    catalog = load_catalog()
    assert len(catalog) == 26
    assert len({m["slug"] for m in catalog}) == 26
    assert all(m["request_schema"]["type"] == "object" for m in catalog)
    catalog[0]["slug"] = "changed"
    assert load_catalog()[0]["slug"] != "changed"  # each call is a fresh copy


@pytest.mark.parametrize("limit", [1, 5, 7, 26, 50])
def test_paging_until_a_short_page_gets_all_26(anon: httpx.Client, limit: int) -> None:
    slugs: list[str] = []
    offset = 0
    while True:
        response = anon.get("/v1/models", params={"limit": limit, "offset": offset})
        assert response.status_code == 200
        page = response.json()
        assert isinstance(page, list)  # a bare array, no envelope
        slugs += [m["slug"] for m in page]
        if len(page) < limit:
            break
        offset += limit
    assert slugs == [m["slug"] for m in load_catalog()]


def test_list_items_are_model_details_without_category(anon: httpx.Client) -> None:
    """API.md, "Endpoints": the same objects as /v1/model, with request_schema, no category."""
    page = anon.get("/v1/models").json()
    assert len(page) == 26  # default limit 50
    for entry in page:
        assert set(entry) == {"title", "slug", "version", "output_type", "request_schema"}
        detail = anon.get("/v1/model", params={"slug": entry["slug"]}).json()
        assert entry == detail
    assert page[0]["version"] == "0.0.1"
    assert all(isinstance(m["output_type"], str) and m["output_type"] for m in page)


def test_list_items_honour_string_defaults(emu: Emulator, anon: httpx.Client) -> None:
    emu.string_defaults = True
    [turbo] = anon.get("/v1/models", params={"name": "flux-2-turbo"}).json()
    assert turbo["request_schema"]["properties"]["num_images"]["default"] == "1"


def test_name_filter_is_case_insensitive_on_slug_and_title(anon: httpx.Client) -> None:
    by_slug = anon.get("/v1/models", params={"name": "FLUX-2"}).json()
    assert by_slug and all("flux-2" in m["slug"] for m in by_slug)
    by_title = anon.get("/v1/models", params={"name": "nano banana"}).json()
    assert [m["slug"] for m in by_title] == ["nano-banana-pro"]
    assert anon.get("/v1/models", params={"name": "no-such-thing"}).json() == []


@pytest.mark.parametrize("limit", ["0", "501", "-1", "ten", "1.5"])
def test_bad_limit(anon: httpx.Client, limit: str) -> None:
    response = anon.get("/v1/models", params={"limit": limit})
    assert response.status_code == 400
    assert response.json() == {"error": "invalid limit parameter"}


@pytest.mark.parametrize("offset", ["-1", "x"])
def test_bad_offset(anon: httpx.Client, offset: str) -> None:
    response = anon.get("/v1/models", params={"offset": offset})
    assert response.status_code == 400
    assert response.json() == {"error": "invalid offset parameter"}


def test_limit_bounds_are_inclusive(anon: httpx.Client) -> None:
    assert len(anon.get("/v1/models", params={"limit": 1}).json()) == 1
    assert len(anon.get("/v1/models", params={"limit": 500}).json()) == 26
    assert anon.get("/v1/models", params={"offset": 100}).json() == []


def test_model_detail(anon: httpx.Client) -> None:
    response = anon.get("/v1/model", params={"slug": "flux-2-turbo-text-to-image"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"title", "slug", "version", "output_type", "request_schema"}
    assert body["title"] == "Flux 2 | Turbo | Text to Image"
    schema = body["request_schema"]
    assert schema["required"] == ["prompt"]
    assert schema["properties"]["num_images"]["default"] == 1
    assert schema["properties"]["enable_prompt_expansion"]["default"] is False
    # The record's own annotations are not part of what the service serves.
    assert not any(k.startswith("x-") for p in schema["properties"].values() for k in p)
    # Property order is the schema's own.
    assert list(schema["properties"])[:3] == ["prompt", "guidance_scale", "image_size"]


def test_model_detail_errors(anon: httpx.Client) -> None:
    missing = anon.get("/v1/model")
    assert missing.status_code == 400
    assert missing.json() == {"error": "slug parameter is required"}
    unknown = anon.get("/v1/model", params={"slug": "nope"})
    assert unknown.status_code == 404
    assert unknown.json() == {"error": "Failed to fetch model: model not found"}


def test_string_defaults_switch(emu: Emulator, anon: httpx.Client) -> None:
    emu.string_defaults = True
    props = anon.get("/v1/model", params={"slug": "flux-2-flex"}).json()["request_schema"][
        "properties"
    ]
    assert props["guidance_scale"]["default"] == "3.5"
    assert props["guidance_scale"]["minimum"] == "1.5"
    assert props["num_inference_steps"]["maximum"] == "50"
    assert props["enable_safety_checker"]["default"] == "True"
    assert props["safety_tolerance"]["enum"] == ["1", "2", "3", "4", "5"]
    lora = anon.get("/v1/model", params={"slug": "flux-2-lora"}).json()["request_schema"]
    assert lora["properties"]["sync_mode"]["default"] == "false"  # the catalog's own literal
    emu.string_defaults = False
    props = anon.get("/v1/model", params={"slug": "flux-2-flex"}).json()["request_schema"][
        "properties"
    ]
    assert props["guidance_scale"]["default"] == 3.5
    assert props["guidance_scale"]["minimum"] == 1.5


def test_catalog_endpoints_accept_a_key_too(client: httpx.Client) -> None:
    assert client.get("/v1/models").status_code == 200
    assert client.get("/v1/model", params={"slug": "flux-2-pro"}).status_code == 200


def test_unknown_route_and_method(anon: httpx.Client) -> None:
    assert anon.get("/v2/whatever").status_code == 404
    response = anon.post("/v1/models")
    assert response.status_code == 405
    assert response.json() == {"error": "Method not allowed"}


def _schema(anon: httpx.Client, slug: str) -> dict:
    response = anon.get("/v1/model", params={"slug": slug})
    assert response.status_code == 200, response.text
    schema: dict = response.json()["request_schema"]
    return schema


def test_the_lora_models_and_the_record_s_new_inputs(anon: httpx.Client) -> None:
    for slug in ("bfl-flux-lora", "z-image-turbo-lora"):
        loras = _schema(anon, slug)["properties"]["loras"]
        assert loras["type"] == "array"
        assert loras["items"]["required"] == ["path"]
    turbo = _schema(anon, "flux-turbo-trainer")["properties"]
    assert (turbo["trigger_phrase"]["default"], turbo["steps"]["default"]) == ("ohwx", 1000)
    moderation = _schema(anon, "gpt-image-v1-5-text-to-image")["properties"]["moderation"]
    assert moderation["enum"] == ["low", "auto"] and moderation["default"] == "low"
    trainer = anon.get("/v1/model", params={"slug": "flux-lora-portrait-trainer"}).json()
    assert trainer["output_type"] == "code"


def test_ideogram_resolution_takes_any_width_x_height(
    anon: httpx.Client, client: httpx.Client, clock: FakeClock
) -> None:
    """The record's list is cut short: a pattern, not an enum; the known values described."""
    resolution = _schema(anon, "ideogram-v3-turbo")["properties"]["resolution"]
    assert "enum" not in resolution and "default" not in resolution
    assert resolution["pattern"] == r"^\d+x\d+$"
    assert "640x1344" in resolution["description"]
    unlisted = run(client, clock, "ideogram-v3-turbo", prompt="x", resolution="1024x1024")
    assert unlisted["status"] == "success"
    wrong = run(client, clock, "ideogram-v3-turbo", prompt="x", resolution="big")
    assert wrong["status"] == "error"
    assert "resolution: 'big' does not match the pattern" in wrong["output"]["error_message"]
