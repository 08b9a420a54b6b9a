"""``--replay TRACE``: a recorded trace served back, driven by the real client."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from eachlabs_widgets import AsyncEachLabs
from eachlabs_widgets._service.limiter import PredictionLimiter
from eachlabs_widgets.emulator import EmulatorServer, serve
from eachlabs_widgets.emulator.replay import Replay, placeholder

API = "https://api.eachlabs.ai"
CDN = "https://cdn-us.eachlabs.ai"
PID = "1e44a6f0-0000-4000-8000-000000000001"
PNG_SHA = "ab" * 32


def exchange(method: str, url: str, status: int, body: Any, **response: Any) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", "X-Request-Id": "r-1"}
    headers.update(response.pop("headers", {}))
    return {
        "request": {"method": method, "url": url, "headers": {}, "body": None},
        "response": {"status": status, "headers": headers, "body": body},
        "elapsed_ms": 12,
    }


def poll_body(status: str, output: Any = None, cost: float = 0) -> dict[str, Any]:
    return {
        "id": PID,
        "input": {"prompt": "a fox"},
        "status": status,
        "output": output,
        "logs": None,
        "metrics": {"predict_time": 1.2, "cost": cost},
        "urls": {
            "get": f"{API}/v1/prediction/{PID}",
            "cancel": f"{API}/v1/prediction/{PID}/cancel",
        },
    }


def write_trace(path: Path) -> Path:
    image = f"{CDN}/outputs/{PID}/0.png?X-Amz-Signature=cut"
    lines = [
        {"trace": "eachlabs-widgets", "version": 1, "base_url": API, "written": "test"},
        exchange(
            "POST",
            f"{API}/v1/prediction",
            200,
            {
                "status": "success",
                "message": "Prediction created successfully",
                "predictionID": PID,
            },
        ),
        exchange("GET", f"{API}/v1/prediction/{PID}", 200, poll_body("processing")),
        exchange("GET", f"{API}/v1/prediction/{PID}", 200, poll_body("success", [image], 0.008)),
        exchange(
            "GET",
            image,
            200,
            {"bytes": 48213, "sha256": PNG_SHA, "content_type": "image/png"},
            headers={"Content-Type": "image/png", "Content-Length": "48213"},
        ),
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def replayed(tmp_path: Path) -> Iterator[tuple[Replay, EmulatorServer]]:
    replay = Replay.load(write_trace(tmp_path / "trace.jsonl"))
    with serve(replay) as server:
        yield replay, server


async def no_sleep(seconds: float) -> None:
    await asyncio.sleep(min(seconds, 0.01))


async def test_the_client_runs_a_full_prediction_on_a_replayed_trace(
    replayed: tuple[Replay, EmulatorServer],
) -> None:
    replay, server = replayed
    async with AsyncEachLabs(
        api_key="smk_test",
        base_url=server.url,
        sleep=no_sleep,
        journal=False,
        limiter=PredictionLimiter(10),
    ) as client:
        pid = await client.create_prediction("flux-2-turbo-text-to-image", {"prompt": "a fox"})
        assert pid == PID
        prediction = await client.wait(pid, timeout=30)
        assert prediction.status == "success"
        assert prediction.metrics["cost"] == 0.008
        [url] = prediction.output
        # the CDN's URL now points back here, under the replay's prefix; the query is kept
        assert url == f"{server.url}/_replay/https/cdn-us.eachlabs.ai/outputs/{PID}/0.png" + (
            "?X-Amz-Signature=cut"
        )
        assert prediction.raw["urls"]["get"] == f"{server.url}/v1/prediction/{PID}"
        data = await client.download(url)
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.size == (64, 64)
    assert data == placeholder(48213, PNG_SHA, "image/png")  # deterministic
    assert replay.remaining == 0


def test_requests_match_in_order_and_run_out(replayed: tuple[Replay, EmulatorServer]) -> None:
    replay, server = replayed
    with httpx.Client(base_url=server.url, timeout=5) as http:
        # the query is ignored, the method is not
        assert http.get(f"/v1/prediction/{PID}", params={"x": 1}).json()["status"] == "processing"
        assert http.get(f"/v1/prediction/{PID}").json()["status"] == "success"
        assert http.post(f"/v1/prediction/{PID}").status_code == 404
        gone = http.get(f"/v1/prediction/{PID}")
        assert gone.status_code == 404
        assert gone.json() == {"error": f"no recorded exchange for GET /v1/prediction/{PID}"}
        assert gone.headers["x-eachlabs-emulator"] == "replay"
        # an API path is not matched under a foreign origin, nor the other way round
        assert http.get(f"/outputs/{PID}/0.png").status_code == 404
        missing = http.get("/_replay/https/api.eachlabs.ai/v1/prediction")
        assert missing.status_code == 404
    assert replay.remaining == 2  # the create and the download


def test_text_and_empty_bodies_and_recorded_headers(tmp_path: Path) -> None:
    lines = [
        {"trace": "eachlabs-widgets", "version": 1, "base_url": API + "/"},
        exchange("DELETE", f"{API}/v1/files/abc", 204, None, headers={"Content-Type": "x/y"}),
        exchange(
            "PUT",
            f"{CDN}/uploads/abc.png",
            403,
            {"text": f"<Error><Code>AccessDenied</Code><Url>{CDN}/uploads/abc.png</Url></Error>"},
            headers={"Content-Type": "application/xml", "Transfer-Encoding": "chunked"},
        ),
        exchange(
            "POST",
            f"{API}/v1/upload/presign",
            200,
            {"id": "abc", "presigned_url": f"{CDN}/uploads/abc.png", "elsewhere": "https://x.io/a"},
        ),
    ]
    trace = tmp_path / "t.jsonl"
    trace.write_text("\n\n".join(json.dumps(line) for line in lines), encoding="utf-8")
    with serve(Replay.load(trace)) as server, httpx.Client(base_url=server.url) as http:
        deleted = http.delete("/v1/files/abc")
        assert deleted.status_code == 204 and deleted.content == b""
        presign = http.post("/v1/upload/presign", json={"content_type": "image/png"}).json()
        target = f"{server.url}/_replay/https/cdn-us.eachlabs.ai/uploads/abc.png"
        assert presign["presigned_url"] == target
        assert presign["elsewhere"] == "https://x.io/a"  # not in the trace: left alone
        put = http.put(presign["presigned_url"], content=b"png")
        assert put.status_code == 403
        assert put.headers["content-type"] == "application/xml"
        assert put.text == f"<Error><Code>AccessDenied</Code><Url>{target}</Url></Error>"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ('{"trace": "other", "version": 1, "base_url": "https://a"}', "not an eachlabs-widgets"),
        ('{"trace": "eachlabs-widgets", "version": 2, "base_url": "https://a"}', "version 2"),
        ('{"trace": "eachlabs-widgets", "version": 1}', "base_url"),
        ('{"trace": "eachlabs-widgets", "version": 1, "base_url": "https://a"}\n{oops', "line 2"),
        (
            '{"trace": "eachlabs-widgets", "version": 1, "base_url": "https://a"}\n'
            '{"request": {"method": "GET", "url": "/relative"}, "response": {"status": 200}}',
            "absolute",
        ),
    ],
)
def test_a_bad_trace_is_refused_naming_the_line(text: str, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        Replay.parse(text.splitlines())


def test_placeholders_keep_their_type_and_size() -> None:
    jpeg = placeholder(10, "cd" * 32, "image/jpeg")
    assert Image.open(io.BytesIO(jpeg)).format == "JPEG"
    blob = placeholder(1000, "ef" * 32, "application/octet-stream")
    assert len(blob) == 1000 and blob == placeholder(1000, "ef" * 32, "application/octet-stream")
    assert hashlib.sha256(blob).hexdigest() != hashlib.sha256(jpeg).hexdigest()


def test_the_command_line_replays_a_trace(tmp_path: Path) -> None:
    trace = write_trace(tmp_path / "trace.jsonl")
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    args = [sys.executable, "-m", "eachlabs_widgets.emulator", "--port", "0", "--replay"]
    proc = subprocess.Popen(
        [*args, str(trace)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith(f"Replaying {trace} (4 exchanges) on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1].strip()
        created = httpx.post(f"{url}/v1/prediction", json={}, timeout=5)
        assert created.json()["predictionID"] == PID
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{}\n", encoding="utf-8")
    started = time.monotonic()
    failed = subprocess.run([*args, str(bad)], capture_output=True, text=True, env=env)
    assert failed.returncode == 2 and "not an eachlabs-widgets trace" in failed.stderr
    assert time.monotonic() - started < 30
