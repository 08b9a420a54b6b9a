"""Malformed answers, endless listings, trickling answers, base URL slips, closed loops: each ends
in one clear error of the package's own types, or works."""

import json
import time

import pytest

import eachlabs_widgets as el
from eachlabs_widgets._service.client import MAX_PAGES, _model_cache
from eachlabs_widgets._service.retry import RetryPolicy
from eachlabs_widgets._settings import normalise_base_url
from tests.scripted_server import MODEL_SLUG, SCHEMA, as_json

from .conftest import SECRET


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ([1, 2], "expected a JSON object, got list"),
        ("model", "expected a JSON object, got str"),
        ({"slug": MODEL_SLUG, "request_schema": "object"}, "request_schema is str"),
        ({"slug": MODEL_SLUG, "request_schema": []}, "request_schema is list"),
        ({"slug": MODEL_SLUG, "request_schema": {"properties": [1]}}, "properties is list"),
    ],
)
async def test_a_malformed_model_is_an_api_error_and_is_not_cached(api, client, answer, said):
    api.routes["GET /v1/model?"] = lambda h: (200, {}, as_json(answer))
    with pytest.raises(el.APIError) as caught:
        await client.get_model(MODEL_SLUG)
    assert said in str(caught.value) and MODEL_SLUG in str(caught.value)
    assert not str(caught.value).startswith("200")
    assert _model_cache == {}
    api.routes.clear()  # the service recovers: the next lookup asks again and works
    assert (await client.get_model(MODEL_SLUG))["request_schema"] == SCHEMA


@pytest.mark.parametrize("answer", [[], "ok", {"status": "success"}, {"predictionID": None}])
async def test_a_create_answer_without_an_id_says_to_check_before_retrying(api, client, answer):
    api.routes["POST /v1/prediction"] = lambda h: (200, {}, as_json(answer))
    with pytest.raises(el.APIError) as caught:
        await client.create_prediction(MODEL_SLUG, {"prompt": "x"})
    assert "no prediction id" in str(caught.value) and "dashboard" in str(caught.value)


@pytest.mark.parametrize("answer", [[], "processing", 3])
async def test_a_poll_answer_that_is_not_an_object_is_an_api_error(api, client, answer):
    api.routes["GET /v1/prediction/"] = lambda h: (200, {}, as_json(answer))
    with pytest.raises(el.APIError, match="not a JSON object"):
        await client.get_prediction("p1")


@pytest.mark.parametrize(
    "answer", [{}, [], {"presigned_url": "x"}, {"presigned_url": "x", "public_url": 3}]
)
async def test_a_malformed_upload_answer_is_an_api_error(api, client, answer):
    api.routes["POST /v1/upload/presign"] = lambda h: (200, {}, as_json(answer))
    with pytest.raises(el.APIError, match="upload answer is malformed"):
        await client.upload(b"\x89PNG\r\n\x1a\n" + b"\0" * 16)


async def test_a_body_that_is_not_json_is_an_api_error(api, client):
    api.routes["GET /v1/prediction/"] = lambda h: (200, {}, b"<html>gateway</html>")
    with pytest.raises(el.APIError, match="not JSON"):
        await client.get_prediction("p1")


async def test_listing_stops_when_the_service_ignores_the_offset(api, client):
    page = [{"slug": f"model-{i}"} for i in range(100)]
    api.routes["GET /v1/models"] = lambda h: (200, {}, as_json(page))
    models = await client.list_models()
    assert [m["slug"] for m in models] == [m["slug"] for m in page]
    assert len(api.requests("GET", "/v1/models")) == 2


async def test_listing_stops_after_a_bound_even_if_pages_never_repeat(api, client):
    def endless(h):
        offset = int(h.path.split("offset=")[1].split("&")[0])
        return 200, {}, as_json([{"slug": f"m-{offset + i}"} for i in range(100)])

    api.routes["GET /v1/models"] = endless
    models = await client.list_models()
    assert len(api.requests("GET", "/v1/models")) == MAX_PAGES
    assert len(models) == MAX_PAGES * 100


def test_listing_that_is_not_a_list_is_an_api_error(api):
    api.routes["GET /v1/models"] = lambda h: (200, {}, as_json({"models": []}))
    el.configure(api_key=SECRET, base_url=api.url)
    with pytest.raises(el.APIError, match="not a JSON list"):
        el.list_models()


def _trickle(handler):
    pid = handler.path.split("/")[3]
    body = json.dumps({"id": pid, "status": "processing", "pad": "x" * 40}).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    for i in range(len(body)):
        try:
            handler.wfile.write(body[i : i + 1])
            handler.wfile.flush()
        except OSError:
            return None
        time.sleep(0.5)
    return None


async def test_timeout_bounds_a_poll_whose_answer_trickles(api, client):
    api.routes["GET /v1/prediction/"] = _trickle  # ~35 s for one answer
    started = time.monotonic()
    with pytest.raises(el.PredictionTimeoutError) as caught:
        await client.run(MODEL_SLUG, {"prompt": "x"}, timeout=1.5)
    # Well short of the trickle: the deadline cut the request in flight.
    assert time.monotonic() - started < 15
    assert caught.value.prediction_id == "p1"


async def test_a_create_is_not_cut_by_the_deadline(api, client):
    def slow_create(handler):
        time.sleep(1.0)
        return 200, {}, as_json({"predictionID": "slow-1"})

    api.routes["POST /v1/prediction"] = slow_create
    api.routes["GET /v1/prediction/"] = lambda h: (200, {}, as_json({"status": "processing"}))
    with pytest.raises(el.PredictionTimeoutError) as caught:
        await client.run(MODEL_SLUG, {"prompt": "x"}, timeout=0.5)
    assert caught.value.prediction_id == "slow-1"  # the create answered and is known


@pytest.mark.parametrize("suffix", ["", "/", "//", "/v1", "/v1/", " "])
def test_every_spelling_of_the_base_url_reaches_the_service(api, suffix):
    el.configure(api_key=SECRET, base_url=api.url + suffix)
    assert el.get_model(MODEL_SLUG)["slug"] == MODEL_SLUG
    assert all(r["path"].startswith("/v1/model?") for r in api.requests("GET"))


@pytest.mark.parametrize("url", ["api.eachlabs.ai", "ftp://api.eachlabs.ai", "https://"])
def test_a_base_url_that_is_not_http_is_a_configuration_error(url):
    with pytest.raises(el.ConfigurationError, match="not an http"):
        normalise_base_url(url)


def test_an_unknown_model_names_the_base_url(api):
    api.routes["GET /v1/model?"] = lambda h: (404, {}, as_json({"error": "model not found"}))
    el.configure(api_key=SECRET, base_url=api.url)
    with pytest.raises(el.NotFoundError) as caught:
        el.get_model("nope")
    assert api.url in str(caught.value)


async def test_a_mislabelled_content_encoding_is_retried_then_a_transport_error(api, client):
    api.routes["GET /v1/prediction/"] = lambda h: (
        200,
        {"Content-Encoding": "gzip"},
        as_json({"status": "processing"}),
    )
    client._http.retry = RetryPolicy(max_attempts=3, base_delay=0.01)
    with pytest.raises(el.TransportError, match="could not be decoded"):
        await client.get_prediction("p1")
    assert len(api.requests("GET", "/v1/prediction/")) == 3


REPEATED_RUNS = """
import asyncio, gc, sys
import eachlabs_widgets as el
from eachlabs_widgets._service import http as _http
from eachlabs_widgets._service.client import _model_cache
el.configure(api_key=sys.argv[1], base_url=sys.argv[2])
clients = []

async def one():
    await el.AsyncEachLabs(journal=False).get_model("flux-2-turbo-text-to-image")
    clients.append(_http.shared_client(el.AsyncEachLabs().settings()))
    _model_cache.clear()

for _ in range(5):
    asyncio.run(one())
gc.collect()
print(sum(c.is_closed for c in clients), len(clients))
print(sum(loop.is_closed() for loop in list(_http._clients.keys())))
"""


def test_repeated_asyncio_run_releases_each_loops_client(api):
    # In a process of its own: another test's nest_asyncio2 (a kernel's re-entrant loop)
    # replaces asyncio.run for the rest of the process.
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", REPEATED_RUNS, SECRET, api.url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    closed, made = done.stdout.split()[:2]
    assert (closed, made) == ("5", "5")  # each loop's client closed with its loop
    assert done.stdout.split()[2] == "0"  # no closed loop is still held


async def test_a_timed_out_prediction_stays_resumable_and_says_so(api, tmp_path):
    from eachlabs_widgets._journal.journal import Journal

    api.routes["GET /v1/prediction/"] = lambda h: (200, {}, as_json({"status": "processing"}))
    journal = Journal(tmp_path / "j.sqlite3")
    client = el.AsyncEachLabs(api_key=SECRET, base_url=api.url, journal=journal)
    with pytest.raises(el.PredictionTimeoutError) as caught:
        await client.run(MODEL_SLUG, {"prompt": "x"}, timeout=0.5)
    assert "still running" in str(caught.value) and "cancel_prediction" in str(caught.value)
    assert [r["path"] for r in api.requests("POST") if "cancel" in r["path"]] == []
    journal.flush(5)
    entry = journal.get("p1")
    assert entry.status != "cancelled" and "left running" in (entry.error or "")
