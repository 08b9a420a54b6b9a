"""The key goes only to the API origin, never into an error, a traceback's locals or a message."""

import json
import traceback

import httpx
import pytest

import eachlabs_widgets as el
from eachlabs_widgets._service.http import KeyAuth, _redirect_refusal, origin_of
from eachlabs_widgets._settings import Secret
from tests.scripted_server import as_json

from .conftest import SECRET

REDIRECTS = (301, 302, 303, 307, 308)
ENDPOINTS = [
    ("get_model", "GET /v1/model"),
    ("list_models", "GET /v1/models"),
    ("create", "POST /v1/prediction"),
    ("get_prediction", "GET /v1/prediction/"),
    ("cancel", "POST /v1/prediction/p1/cancel"),
    ("presign", "POST /v1/upload/presign"),
]


async def _call(client, what: str):
    if what == "get_model":
        return await client.get_model("flux-2-turbo-text-to-image")
    if what == "list_models":
        return await client.list_models()
    if what == "create":
        return await client.create_prediction("flux-2-turbo-text-to-image", {"prompt": "a fox"})
    if what == "get_prediction":
        return await client.get_prediction("p1")
    if what == "cancel":
        return await client.cancel_prediction("p1")
    return await client.upload(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)


@pytest.mark.parametrize("status", REDIRECTS)
@pytest.mark.parametrize(("what", "route"), ENDPOINTS)
async def test_no_redirect_carries_the_key_to_another_origin(
    api, foreign, client, status, what, route
):
    api.routes[route] = lambda h: (status, {"Location": f"{foreign.url}/collect{h.path}"}, b"")
    with pytest.raises(el.APIError) as caught:
        await _call(client, what)
    assert foreign.log == []  # not followed at all: nothing, key or not, reached the other host
    assert "redirected" in str(caught.value) and "another origin" in str(caught.value)
    assert SECRET not in str(caught.value)


async def test_a_same_origin_redirect_of_a_read_is_followed_with_the_key(api, client):
    api.routes["GET /v1/model?"] = lambda h: (
        302,
        {"Location": h.path.replace("/v1/model", "/v1/model-moved")},
        b"",
    )
    api.routes["GET /v1/model-moved"] = lambda h: (
        200,
        {},
        as_json({"slug": "flux-2-turbo-text-to-image", "request_schema": {"properties": {}}}),
    )
    model = await client.get_model("flux-2-turbo-text-to-image")
    assert model["slug"] == "flux-2-turbo-text-to-image"
    moved = api.requests("GET", "/v1/model-moved")
    assert moved and moved[0]["headers"]["x-api-key"] == SECRET


@pytest.mark.parametrize("status", [301, 302, 303])
async def test_a_redirected_create_is_never_turned_into_a_get(api, client, status):
    api.routes["POST /v1/prediction"] = lambda h: (
        status,
        {"Location": "/v1/prediction-elsewhere"},
        b"",
    )
    with pytest.raises(el.APIError) as caught:
        await client.create_prediction("flux-2-turbo-text-to-image", {"prompt": "x"})
    assert "redirected" in str(caught.value) and "nothing was created" in str(caught.value)
    assert api.requests("GET", "/v1/prediction-elsewhere") == []


@pytest.mark.parametrize("status", [307, 308])
async def test_a_create_moved_with_307_or_308_keeps_its_method_and_body(api, client, status):
    api.routes["POST /v1/prediction"] = lambda h: (
        (status, {"Location": "/v1/prediction/"}, b"")
        if h.path == "/v1/prediction"
        else (200, {}, as_json({"predictionID": "moved-1"}))
    )
    pid = await client.create_prediction("flux-2-turbo-text-to-image", {"prompt": "x"})
    assert pid == "moved-1"
    moved = [r for r in api.requests("POST") if r["path"] == "/v1/prediction/"]
    assert moved and json.loads(moved[0]["body"])["input"] == {"prompt": "x"}


def test_redirect_rules_for_unauthenticated_downloads():
    source = httpx.URL("https://files.example/a.png")
    assert (
        _redirect_refusal("GET", 302, source, httpx.URL("https://cdn.example/a.png"), None) is None
    )
    downgrade = _redirect_refusal("GET", 302, source, httpx.URL("http://cdn.example/a.png"), None)
    assert downgrade and "plain http" in downgrade
    auth = KeyAuth(Secret(SECRET), origin_of("https://api.example"))
    api = httpx.URL("https://api.example/v1/model")
    assert _redirect_refusal("GET", 301, api, httpx.URL("http://api.example/v1/model"), auth)


def test_key_auth_adds_the_key_only_for_its_origin():
    auth = KeyAuth(Secret(SECRET), origin_of("https://api.example"))
    mine = next(auth.auth_flow(httpx.Request("GET", "https://api.example:443/v1/models")))
    other = next(auth.auth_flow(httpx.Request("GET", "https://evil.example/v1/models")))
    assert mine.headers["x-api-key"] == SECRET
    assert "x-api-key" not in other.headers
    assert SECRET not in repr(auth)


async def test_an_error_echoing_the_key_is_redacted_and_no_traceback_local_holds_it(api, client):
    api.routes["POST /v1/prediction"] = lambda h: (
        401,
        {},
        as_json({"error": f"Invalid API key: {h.headers.get('X-API-Key')}"}),
    )
    with pytest.raises(el.AuthenticationError) as caught:
        await client.run("flux-2-turbo-text-to-image", {"prompt": "a fox"})
    error = caught.value
    assert SECRET not in str(error) and "***" in str(error)
    assert "login()" in str(error)  # says how to give the key without writing it in a cell
    text = "".join(
        traceback.TracebackException(
            type(error), error, error.__traceback__, capture_locals=True
        ).format()
    )
    assert SECRET not in text
    assert error.__context__ is None and error.__cause__ is None
    assert all(SECRET not in repr(value) for value in vars(error).values())


@pytest.mark.parametrize("spelled", [SECRET + "\n", f"  {SECRET}\t", f"\r\n{SECRET}\r\n"])
async def test_surrounding_whitespace_is_stripped(api, spelled):
    el.configure(api_key=spelled, base_url=api.url)
    await el.AsyncEachLabs(journal=False).create_prediction("m", {"prompt": "x"})
    assert api.requests("POST")[0]["headers"]["x-api-key"] == SECRET


@pytest.mark.parametrize(
    ("spelled", "what"),
    [
        (SECRET[:8] + "\n" + SECRET[8:], "control character"),
        (SECRET[:8] + " " + SECRET[8:], "space"),
        (SECRET[:8] + "é" + SECRET[8:], "non-ASCII"),
    ],
)
async def test_a_key_that_cannot_be_sent_is_refused_up_front(api, monkeypatch, spelled, what):
    with pytest.raises(el.ConfigurationError) as caught:
        el.configure(api_key=spelled)
    assert what in str(caught.value) and SECRET[8:] not in str(caught.value)
    monkeypatch.setenv("EACHLABS_API_KEY", spelled)
    client = el.AsyncEachLabs(base_url=api.url, journal=False)
    with pytest.raises(el.ConfigurationError):
        await client.create_prediction("m", {"prompt": "x"})
    assert api.log == []


def test_the_missing_key_message_never_suggests_writing_the_key_in_a_cell():
    with pytest.raises(el.ConfigurationError) as caught:
        el.AsyncEachLabs(base_url="https://api.example").settings().require_key()
    assert "%env" not in str(caught.value)
