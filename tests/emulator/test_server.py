"""The emulator on a real loopback socket, its control plane and its command line."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from PIL import Image

from eachlabs_widgets.emulator import Emulator, EmulatorServer, serve
from eachlabs_widgets.emulator.__main__ import build_parser

from .helpers import KEY, FakeClock, create, poll

TURBO = "flux-2-turbo-text-to-image"


@pytest.fixture
def server(emu: Emulator) -> Iterator[EmulatorServer]:
    with serve(emu) as running:
        yield running


@pytest.fixture
def http(server: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers={"X-API-Key": KEY}, timeout=5) as c:
        yield c


def test_server_address(server: EmulatorServer) -> None:
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert server.port > 0


def test_full_flow_over_a_socket(
    http: httpx.Client, clock: FakeClock, server: EmulatorServer
) -> None:
    models = http.get("/v1/models", params={"limit": 500}).json()
    assert len(models) == 26
    pid = create(http, TURBO, prompt="x", image_size="square", output_format="jpeg")
    assert poll(http, pid)["status"] == "starting"
    clock.advance(10)
    body = poll(http, pid)
    assert body["status"] == "success"
    assert body["urls"]["get"] == f"{server.url}/v1/prediction/{pid}"
    url = body["output"][0]
    assert url.startswith(f"{server.url}/files/{pid}/")
    image = http.get(url)
    assert image.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(image.content)).size == (512, 512)
    head = http.head(url)
    assert head.status_code == 200
    assert int(head.headers["content-length"]) == len(image.content)
    assert http.get("/v1/prediction/nope").json() == {"error": "Prediction not found"}
    assert http.get("/v1/models", headers={"X-Request-Id": "abc"}).headers["x-request-id"] == "abc"


def test_auth_over_a_socket(server: EmulatorServer, emu: Emulator) -> None:
    emu.api_key = "secret"
    payload = {"model": TURBO, "input": {"prompt": "x"}}
    with httpx.Client(base_url=server.url) as c:
        assert c.post("/v1/prediction", json=payload).status_code == 401
        bearer = c.post("/v1/prediction", json=payload, headers={"Authorization": "Bearer secret"})
        assert bearer.status_code == 200
        assert c.get("/v1/model", params={"slug": TURBO}).status_code == 200


def test_upload_over_a_socket(http: httpx.Client) -> None:
    info = http.post("/v1/upload/presign", json={"content_type": "image/png"}).json()
    assert info["public_url"].startswith(str(http.base_url).rstrip("/"))
    wrong = httpx.put(info["presigned_url"], content=b"abc", headers={"Content-Type": "image/png"})
    assert wrong.status_code == 403
    headers = {"Content-Type": "image/png", **info["required_headers"]}
    assert httpx.put(info["presigned_url"], content=b"abc", headers=headers).status_code == 200
    assert httpx.get(info["public_url"]).content == b"abc"
    assert http.delete(f"/v1/files/{info['id']}").status_code == 204


def test_drop_closes_the_socket(http: httpx.Client, emu: Emulator) -> None:
    emu.inject("drop", endpoint="create")
    emu.inject("drop", endpoint="create", after_processing=True)
    payload = {"model": TURBO, "input": {"prompt": "x"}}
    with pytest.raises(httpx.RemoteProtocolError):
        http.post("/v1/prediction", json=payload)
    assert emu.stats.predictions_created == 0
    with pytest.raises(httpx.RemoteProtocolError):
        http.post("/v1/prediction", json=payload)
    assert emu.stats.predictions_created == 1
    assert http.post("/v1/prediction", json=payload).status_code == 200  # the server lives on


def test_slow_over_a_socket_hits_the_client_timeout(http: httpx.Client, emu: Emulator) -> None:
    emu.inject("slow", endpoint="models", seconds=0.5)
    with pytest.raises(httpx.ReadTimeout):
        http.get("/v1/models", timeout=0.1)
    assert http.get("/v1/models").status_code == 200


def test_control_plane(http: httpx.Client, emu: Emulator, clock: FakeClock) -> None:
    injected = http.post(
        "/_emulator/inject",
        json={"kind": "rate_limit", "endpoint": "create", "times": 1, "retry_after": 2},
    )
    assert injected.status_code == 200
    assert injected.json()["faults_pending"][0]["kind"] == "rate_limit"
    limited = http.post("/v1/prediction", json={"model": TURBO, "input": {"prompt": "x"}})
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "2"
    assert http.post("/_emulator/inject", json={"kind": "nope"}).status_code == 400

    settings = http.post("/_emulator/settings", json={"legacy_failed_status": True, "speed": 0.5})
    assert settings.status_code == 200
    assert settings.json()["legacy_failed_status"] is True
    assert emu.speed == 0.5
    assert http.get("/_emulator/settings").json()["speed"] == 0.5
    assert http.post("/_emulator/settings", json={"speed": "fast"}).status_code == 400
    assert http.post("/_emulator/settings", json={"bogus": 1}).status_code == 400

    pid = create(http, TURBO, prompt="x", image_size="huge")
    clock.advance(100)
    assert poll(http, pid)["status"] == "failed"

    stats = http.get("/_emulator/stats").json()
    assert stats["predictions_created"] == 1
    assert stats["prediction_ids"] == [pid]
    assert stats["requests"]["create"] == 2
    assert stats["requests"]["poll"] == 1

    http.post("/_emulator/inject", json={"kind": "server_error", "times": None})
    assert http.delete("/_emulator/faults").status_code == 204
    assert http.get("/v1/models").status_code == 200

    assert http.post("/_emulator/reset").json() == {"status": "ok"}
    assert emu.speed == 1.0 and emu.legacy_failed_status is False
    assert http.get("/_emulator/stats").json()["predictions_created"] == 0
    assert http.get(f"/v1/prediction/{pid}").status_code == 404


def test_concurrent_requests(http: httpx.Client, server: EmulatorServer, clock: FakeClock) -> None:
    import concurrent.futures

    pid = create(http, TURBO, prompt="x", num_images=4, image_size="square", seed=1)
    clock.advance(10)
    urls = poll(http, pid)["output"]

    def get(url: str) -> bytes:
        return httpx.get(url, timeout=10).content

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(get, urls * 2))
    assert results[:4] == results[4:]
    assert len(set(results)) == 4


def test_close_is_idempotent(emu: Emulator) -> None:
    running = serve(emu)
    url = running.url
    assert httpx.get(f"{url}/v1/models").status_code == 200
    running.close()
    running.close()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/v1/models", timeout=1)


def test_cli_parser() -> None:
    args = build_parser().parse_args(
        [
            "--port",
            "0",
            "--fault",
            "rate_limit:create:2",
            "--fault",
            "drop",
            "--never-finish",
            "--failure",
            "provider_error",
            "--account-cap",
            "3",
            "--speed",
            "0.1",
        ]
    )
    assert args.port == 0 and args.fault == ["rate_limit:create:2", "drop"]
    assert args.never_finish and args.failure == "provider_error" and args.account_cap == 3


def test_cli_serves_until_interrupted() -> None:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "eachlabs_widgets.emulator",
            "--port",
            "0",
            "--speed",
            "0.001",
            "--api-key",
            "k",
            "--fault",
            "payment_required:create:1",
            "--string-defaults",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = line.strip().split()[-1]
        assert url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=url, headers={"X-API-Key": "k"}, timeout=5) as c:
            payload = {"model": TURBO, "input": {"prompt": "x"}}
            assert c.post("/v1/prediction", json=payload).status_code == 402
            pid = c.post("/v1/prediction", json=payload).json()["predictionID"]
            detail = c.get("/v1/model", params={"slug": TURBO}).json()
            assert detail["request_schema"]["properties"]["num_images"]["default"] == "1"
            deadline = time.monotonic() + 5
            while c.get(f"/v1/prediction/{pid}").json()["status"] != "success":
                assert time.monotonic() < deadline
                time.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            assert proc.wait(timeout=5) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_cli_rejects_bad_fault_spec() -> None:
    from eachlabs_widgets.emulator.__main__ import main

    assert main(["--port", "0", "--fault", "explode"]) == 2


def raw_exchange(server: EmulatorServer, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``data`` as it is on a fresh connection; the status, headers and body answered
    (the connection must answer, not drop)."""

    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(data)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            assert chunk, f"the connection closed without an answer: {received!r}"
            received += chunk
        head, _, body = received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    return status, headers, body


def _json_error(body: bytes) -> str:
    message = json.loads(body)["error"]
    assert isinstance(message, str) and message
    return message


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        (  # a chunk size that is not hex
            b"POST /v1/prediction HTTP/1.1\r\nHost: x\r\nX-API-Key: k\r\n"
            b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
            400,
            "chunked",
        ),
        (  # a chunk longer than it said
            b"POST /v1/prediction HTTP/1.1\r\nHost: x\r\nX-API-Key: k\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}XX\r\n0\r\n\r\n",
            400,
            "chunked",
        ),
        (
            b"POST /v1/prediction HTTP/1.1\r\nHost: x\r\nX-API-Key: k\r\n"
            b"Content-Length: ten\r\n\r\n{}",
            400,
            "Content-Length",
        ),
        (  # bigger than any API request: answered before the body is read
            b"POST /v1/prediction HTTP/1.1\r\nHost: x\r\nX-API-Key: k\r\n"
            b"Content-Length: 50000000\r\n\r\n{",
            413,
            "too large",
        ),
        (b"BREW /v1/prediction HTTP/1.1\r\nHost: x\r\n\r\n", 405, "Method not allowed"),
        (b"PATCH /v1/prediction HTTP/1.1\r\nHost: x\r\n\r\n", 405, "Method not allowed"),
        (b"GET /v1/models HTTP/9.x\r\nHost: x\r\n\r\n", 400, ""),
        (
            b"POST /v1/prediction HTTP/1.1\r\nHost: x\r\nX-API-Key: k\r\n"
            b"Content-Type: application/json\r\nContent-Length: 9\r\n\r\n{not json",
            400,
            "Invalid request body",
        ),
    ],
)
def test_malformed_requests_get_a_4xx_json_answer(
    server: EmulatorServer, emu: Emulator, data: bytes, status: int, words: str
) -> None:
    got, headers, body = raw_exchange(server, data)
    assert got == status
    assert headers["content-type"].startswith("application/json")
    assert words in _json_error(body)
    assert emu.stats.predictions_created == 0


def test_an_upload_over_the_limit_is_refused_before_it_is_read(
    server: EmulatorServer, http: httpx.Client
) -> None:
    info = http.post("/v1/upload/presign", json={"content_type": "image/png"}).json()
    target = info["presigned_url"].removeprefix(server.url)
    data = (
        f"PUT {target} HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
        f"x-amz-meta-file-id: {info['id']}\r\nContent-Length: 100000001\r\n\r\n"
    ).encode()
    status, _, body = raw_exchange(server, data)
    assert status == 400
    assert b"<Code>EntityTooLarge</Code>" in body  # the bucket speaks S3
    assert http.get(info["public_url"]).status_code == 404


def test_a_good_chunked_body_is_read(server: EmulatorServer, emu: Emulator) -> None:
    payload = b'{"model": "flux-2-turbo-text-to-image", "input": {"prompt": "x"}}'
    half = len(payload) // 2
    chunks = b"".join(
        f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (payload[:half], payload[half:])
    )
    data = (
        b"POST /v1/prediction HTTP/1.1\r\nHost: x\r\nX-API-Key: k\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"
    )
    status, _, body = raw_exchange(server, data)
    assert status == 200, body
    assert emu.stats.predictions_created == 1


def test_in_process_too_large_body_is_413(client: httpx.Client, emu: Emulator) -> None:
    response = client.post("/v1/prediction", content=b" " * 10_000_001)
    assert response.status_code == 413
    assert response.json() == {"error": "Request body too large"}
