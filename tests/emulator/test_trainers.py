"""Trainers return LoRA weights stamped with their family; LoRA models load only their own
(API.md, "LoRA training")."""

from __future__ import annotations

import io
import json
import struct

import httpx
import pytest
from PIL import Image, ImageStat

from eachlabs_widgets.emulator import EMULATOR_BASE_URL, Emulator

from .helpers import FakeClock, create, poll, run, upload

ZIP = "https://example.com/faces.zip"


def train(client: httpx.Client, clock: FakeClock, slug: str = "z-image-trainer") -> dict:
    body = (
        run(client, clock, slug, image_data_url=ZIP)
        if slug == "z-image-trainer"
        else run(client, clock, slug, images_data_url=ZIP, trigger_phrase="TOK")
    )
    assert body["status"] == "success", body
    return body


def test_trainer_output_shape_and_safetensors(client: httpx.Client, clock: FakeClock) -> None:
    body = train(client, clock, "flux-lora-portrait-trainer")
    out = body["output"]
    weights = out["diffusers_lora_file"]
    assert weights["url"] == f"{EMULATOR_BASE_URL}/files/{body['id']}/0.safetensors"
    assert weights["file_name"].endswith(".safetensors")
    blob = client.get(weights["url"]).content
    assert weights["file_size"] == len(blob)
    (size,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + size])
    assert header["__metadata__"]["trigger_phrase"] == "TOK"
    tensors = {k: v for k, v in header.items() if k != "__metadata__"}
    assert tensors and all(v["dtype"] == "F16" for v in tensors.values())
    assert max(v["data_offsets"][1] for v in tensors.values()) == len(blob) - 8 - size
    config = client.get(out["config_file"]["url"])
    assert config.status_code == 200
    assert json.loads(config.content)["model"] == "flux-lora-portrait-trainer"
    assert body["metrics"]["cost"] > 0.5
    assert body["metrics"]["predict_time"] > 100


def test_trainers_take_minutes(client: httpx.Client, clock: FakeClock) -> None:
    pid = create(client, "flux-turbo-trainer", images_data_url=ZIP)
    clock.advance(60)
    assert poll(client, pid)["status"] == "processing"
    clock.advance(300)
    assert poll(client, pid)["status"] == "success"


def test_weights_are_deterministic_per_run(client: httpx.Client, clock: FakeClock) -> None:
    a = train(client, clock)["output"]["diffusers_lora_file"]["url"]
    b = train(client, clock)["output"]["diffusers_lora_file"]["url"]
    assert client.get(a).content == client.get(a).content
    assert client.get(a).content != client.get(b).content


def test_lora_changes_the_image(client: httpx.Client, clock: FakeClock) -> None:
    lora_url = train(client, clock)["output"]["diffusers_lora_file"]["url"]
    plain = run(client, clock, "z-image-turbo-lora", prompt="portrait", seed=1, image_size="square")
    styled = run(
        client,
        clock,
        "z-image-turbo-lora",
        prompt="portrait",
        seed=1,
        image_size="square",
        loras=[{"path": lora_url, "scale": 1.0}],
    )
    assert styled["status"] == "success", styled
    plain_img = Image.open(io.BytesIO(client.get(plain["output"][0]).content))
    styled_img = Image.open(io.BytesIO(client.get(styled["output"][0]).content))
    diff = [
        abs(a - b)
        for a, b in zip(
            ImageStat.Stat(plain_img).mean, ImageStat.Stat(styled_img).mean, strict=True
        )
    ]
    assert max(diff) > 3
    again = run(
        client,
        clock,
        "z-image-turbo-lora",
        prompt="portrait",
        seed=1,
        image_size="square",
        loras=[{"path": lora_url, "scale": "1.0"}],
    )
    assert client.get(again["output"][0]).content == client.get(styled["output"][0]).content


def test_this_emulator_s_files_that_are_not_weights_fail(
    client: httpx.Client, clock: FakeClock
) -> None:
    image_url = run(client, clock, "flux-2-flash-text-to-image", prompt="x")["output"][0]
    not_weights = upload(client, b"just some bytes", "application/octet-stream")
    missing = f"{EMULATOR_BASE_URL}/files/no-such-prediction/0.safetensors"
    for path in (image_url, not_weights, missing):
        body = run(client, clock, "flux-2-lora", prompt="x", loras=[{"path": path, "scale": 1}])
        assert body["status"] == "error"
        output = body["output"]
        assert output["classification"] == {"category": "invalid_user_input"}
        assert "loras[0].path: could not load LoRA weights" in output["error_message"]


def test_weights_from_elsewhere_are_taken_as_they_are(
    client: httpx.Client, clock: FakeClock
) -> None:
    """A Hugging Face repo id or a URL a user brings carries no stamp: nothing tells its
    family, so flux-2-lora (FLUX.2 [dev] only) takes it."""
    for path in ("user/some-flux2-lora", "https://example.com/x.safetensors"):
        body = run(client, clock, "flux-2-lora", prompt="x", loras=[{"path": path, "scale": 1}])
        assert body["status"] == "success", body["output"]


def test_lora_from_unfinished_trainer_fails(client: httpx.Client, clock: FakeClock) -> None:
    pid = create(client, "z-image-trainer", image_data_url=ZIP)
    url = f"{EMULATOR_BASE_URL}/files/{pid}/0.safetensors"
    assert client.get(url).status_code == 404
    body = run(client, clock, "z-image-turbo-lora", prompt="x", loras=[{"path": url}])
    assert body["status"] == "error"


def test_trainer_without_archive_fails(client: httpx.Client, clock: FakeClock) -> None:
    response = client.post(
        "/v1/prediction", json={"model": "z-image-trainer", "input": {"steps": 100}}
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "Invalid input for model",
        "details": "image_data_url: field required",
    }
    body = run(client, clock, "z-image-trainer", image_data_url="not a url")
    assert body["status"] == "error"


FAMILIES = {
    "z-image-trainer": ("Z-Image Turbo", "z-image-turbo-lora"),
    "flux-lora-portrait-trainer": ("FLUX.1 [dev]", "bfl-flux-lora"),
    "flux-turbo-trainer": ("FLUX.1 [dev]", "bfl-flux-lora"),
}
LORA_MODELS = ("z-image-turbo-lora", "bfl-flux-lora", "flux-2-lora")


@pytest.mark.parametrize("trainer", sorted(FAMILIES))
def test_each_trainer_s_lora_loads_only_into_its_family(
    client: httpx.Client, clock: FakeClock, trainer: str
) -> None:
    family, loader = FAMILIES[trainer]
    url = train(client, clock, trainer)["output"]["diffusers_lora_file"]["url"]
    blob = client.get(url).content
    (size,) = struct.unpack("<Q", blob[:8])
    assert json.loads(blob[8 : 8 + size])["__metadata__"]["base_model"] == family
    for model in LORA_MODELS:
        body = run(client, clock, model, prompt="x", loras=[{"path": url, "scale": 0.8}])
        if model == loader:
            assert body["status"] == "success", body["output"]
            assert body["metrics"]["cost"] > 0
            continue
        assert body["status"] == "error", model
        output = body["output"]
        assert output["error"] == "Execution failed"
        assert output["error_code"] == "PROVIDER_BAD_REQUEST"
        assert output["classification"] == {"category": "PROVIDER"}
        assert output["success"] is False and output["model_slug"] == model
        assert output["error_message"].startswith(
            f"loras[0].path: the LoRA was trained for {family}"
        )
        assert model in output["error_message"]
        assert body["metrics"]["cost"] == 0


def test_stamped_weights_uploaded_by_hand_are_checked_too(
    client: httpx.Client, clock: FakeClock
) -> None:
    """Weights downloaded from a trainer and uploaded again keep their stamp."""
    url = train(client, clock, "flux-lora-portrait-trainer")["output"]["diffusers_lora_file"]["url"]
    again = upload(client, client.get(url).content, "application/octet-stream")
    ok = run(client, clock, "bfl-flux-lora", prompt="x", loras=[{"path": again}])
    assert ok["status"] == "success", ok["output"]
    refused = run(client, clock, "flux-2-lora", prompt="x", loras=[{"path": again}])
    assert refused["output"]["error_code"] == "PROVIDER_BAD_REQUEST"
    assert "FLUX.1 [dev]" in refused["output"]["error_message"]


def test_a_trainer_s_output_may_be_a_json_string(
    client: httpx.Client, clock: FakeClock, emu: Emulator
) -> None:
    """The portrait trainer's catalog output type is ``code``: the object, maybe as a JSON
    string holding it (API.md, "LoRA training"); a switch serves the string form."""
    emu.trainer_output_string = True
    body = train(client, clock, "flux-lora-portrait-trainer")
    assert isinstance(body["output"], str)
    files = json.loads(body["output"])
    weights = files["diffusers_lora_file"]
    assert weights["url"].endswith("/0.safetensors")
    assert weights["file_size"] == len(client.get(weights["url"]).content)
    loaded = run(client, clock, "bfl-flux-lora", prompt="x", loras=[{"path": weights["url"]}])
    assert loaded["status"] == "success"
