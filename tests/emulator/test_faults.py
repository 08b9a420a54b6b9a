"""One-shot fault switches, over the sync and async in-process transport."""

from __future__ import annotations

import time

import httpx
import pytest

from eachlabs_widgets.emulator import Emulator
from eachlabs_widgets.emulator.faults import parse_spec

from .helpers import FakeClock, create, poll

TURBO = "flux-2-turbo-text-to-image"
CREATE = {"model": TURBO, "input": {"prompt": "x"}}


def test_rate_limit_on_create_creates_nothing(client: httpx.Client, emu: Emulator) -> None:
    emu.inject("rate_limit", endpoint="create", times=2, retry_after=3)
    for _ in range(2):
        response = client.post("/v1/prediction", json=CREATE)
        assert response.status_code == 429
        assert response.headers["retry-after"] == "3"
        body = response.json()
        assert body["status"] == 429 and body["error"] == "too many requests"
        assert body["details"].startswith("Account rate limited: ")
    assert emu.stats.predictions_created == 0
    assert client.post("/v1/prediction", json=CREATE).status_code == 200
    assert emu.stats.predictions_created == 1
    assert emu.stats.faults_pending == []


def test_rate_limit_without_retry_after(client: httpx.Client, emu: Emulator) -> None:
    emu.inject("rate_limit", endpoint="poll", retry_after=None)
    pid = create(client, TURBO, prompt="x")  # create is not affected
    response = client.get(f"/v1/prediction/{pid}")
    assert response.status_code == 429
    assert "retry-after" not in response.headers
    assert client.get(f"/v1/prediction/{pid}").status_code == 200


def test_rate_limit_fractional_retry_after(client: httpx.Client, emu: Emulator) -> None:
    emu.inject("rate_limit", retry_after=0.25)
    assert client.get("/v1/models").headers["retry-after"] == "0.25"


def test_payment_required(client: httpx.Client, emu: Emulator) -> None:
    emu.inject("payment_required", endpoint="create")
    response = client.post("/v1/prediction", json=CREATE)
    assert response.status_code == 402
    body = response.json()
    assert body["status"] == 402 and body["error"] == "payment required"
    assert "balance" in body["details"]
    assert emu.stats.predictions_created == 0


def test_server_error_bodies(client: httpx.Client, emu: Emulator) -> None:
    emu.inject("server_error", endpoint="create")
    emu.inject("server_error", endpoint="presign", status=503)
    emu.inject("server_error", endpoint="models", status=502)
    created = client.post("/v1/prediction", json=CREATE)
    assert created.status_code == 500
    assert created.json() == {"error": "Failed to create prediction"}
    presigned = client.post("/v1/upload/presign", json={"content_type": "image/png"})
    assert presigned.status_code == 503
    assert presigned.json() == {"error": "Failed to generate presigned URL"}
    listed = client.get("/v1/models")
    assert listed.status_code == 502
    assert "error" in listed.json()
    assert emu.stats.predictions_created == 0


def test_drop_before_processing(client: httpx.Client, emu: Emulator) -> None:
    emu.inject("drop", endpoint="create")
    with pytest.raises(httpx.ConnectError):
        client.post("/v1/prediction", json=CREATE)
    assert emu.stats.predictions_created == 0


def test_drop_after_processing_creates(client: httpx.Client, emu: Emulator) -> None:
    emu.inject("drop", endpoint="create", after_processing=True)
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/v1/prediction", json=CREATE)
    stats = emu.stats
    assert stats.predictions_created == 1
    assert poll(client, stats.prediction_ids[0])["status"] == "starting"


def test_drop_after_cancel_takes_effect(
    client: httpx.Client, emu: Emulator, clock: FakeClock
) -> None:
    pid = create(client, TURBO, prompt="x")
    emu.inject("drop", endpoint="cancel", after_processing=True)
    with pytest.raises(httpx.RemoteProtocolError):
        client.post(f"/v1/prediction/{pid}/cancel")
    assert poll(client, pid)["status"] == "cancelled"


def test_slow_sync(client: httpx.Client, emu: Emulator) -> None:
    emu.inject("slow", endpoint="models", seconds=0.2)
    start = time.perf_counter()
    assert client.get("/v1/models").status_code == 200
    assert time.perf_counter() - start >= 0.19
    start = time.perf_counter()
    client.get("/v1/models")
    assert time.perf_counter() - start < 0.15


def test_slow_create_times_out_but_creates(emu: Emulator) -> None:
    emu.inject("slow", endpoint="create", seconds=0.3)
    with (
        httpx.Client(transport=emu.transport(), headers={"X-API-Key": "k"}) as c,
        pytest.raises(httpx.ReadTimeout),
    ):
        c.post(
            "http://emulator.eachlabs.invalid/v1/prediction",
            json=CREATE,
            timeout=httpx.Timeout(0.1),
        )
    # The request was processed before the answer was delayed.
    assert emu.stats.predictions_created == 1


async def test_async_faults(aclient: httpx.AsyncClient, emu: Emulator) -> None:
    emu.inject("slow", endpoint="poll", seconds=0.2)
    emu.inject("drop", endpoint="create")
    emu.inject("drop", endpoint="create", after_processing=True)
    emu.inject("rate_limit", endpoint="create")
    with pytest.raises(httpx.ConnectError):
        await aclient.post("/v1/prediction", json=CREATE)
    with pytest.raises(httpx.RemoteProtocolError):
        await aclient.post("/v1/prediction", json=CREATE)
    assert (await aclient.post("/v1/prediction", json=CREATE)).status_code == 429
    assert emu.stats.predictions_created == 1
    start = time.perf_counter()
    response = await aclient.get(f"/v1/prediction/{emu.stats.prediction_ids[0]}")
    assert response.status_code == 200
    assert time.perf_counter() - start >= 0.19


def test_endpoint_matching_and_order(client: httpx.Client, emu: Emulator) -> None:
    emu.inject("server_error", endpoint="model")
    emu.inject("payment_required", endpoint="any")
    assert client.get("/v1/models").status_code == 402  # "any" matches the first request
    assert client.get("/v1/model", params={"slug": "flux-2-pro"}).status_code == 500
    assert client.get("/v1/models").status_code == 200


def test_forever_fault_and_clear(client: httpx.Client, emu: Emulator) -> None:
    emu.inject("server_error", endpoint="files", times=None)
    for _ in range(3):
        assert client.get("/files/x/0.png").status_code == 500
    emu.clear_faults()
    assert client.get("/files/x/0.png").status_code == 404


def test_faults_on_put_and_files(client: httpx.Client, emu: Emulator, clock: FakeClock) -> None:
    info = client.post("/v1/upload/presign", json={"content_type": "image/png"}).json()
    emu.inject("server_error", endpoint="put")
    headers = {"Content-Type": "image/png", **info["required_headers"]}
    assert client.put(info["presigned_url"], content=b"x", headers=headers).status_code == 500
    assert client.put(info["presigned_url"], content=b"x", headers=headers).status_code == 200
    emu.inject("drop", endpoint="files")
    with pytest.raises(httpx.ConnectError):
        client.get(info["public_url"])
    assert client.get(info["public_url"]).content == b"x"


def test_control_plane_is_never_faulted(client: httpx.Client, emu: Emulator) -> None:
    emu.inject("server_error")
    assert client.get("/_emulator/stats").status_code == 200
    assert client.get("/v1/models").status_code == 500


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("explode",), {}),
        (("rate_limit",), {"endpoint": "nowhere"}),
        (("rate_limit",), {"times": 0}),
        (("rate_limit",), {"seconds": 1}),
        (("slow",), {"seconds": -1}),
        (("server_error",), {"status": 404}),
    ],
)
def test_inject_validates(emu: Emulator, args: tuple[str], kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        emu.inject(*args, **kwargs)


def test_parse_spec() -> None:
    fault = parse_spec("rate_limit:create:2")
    assert (fault.kind, fault.endpoint, fault.times) == ("rate_limit", "create", 2)
    assert parse_spec("drop").endpoint == "any"
    assert parse_spec("slow:poll:*").times is None
    for bad in ("", "nope", "rate_limit:create:x", "a:b:c:d"):
        with pytest.raises(ValueError):
            parse_spec(bad)
