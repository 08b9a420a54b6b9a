"""Fixtures shared by the tests of the package's wings and top: an isolated journal and settings
for every test, a scripted fake service on a fake clock, and the output stand on loopback.

Each wing's ``conftest.py`` imports them by name (pytest finds a conftest's fixtures by name)."""

import asyncio
import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from eachlabs_widgets._journal.journal import Journal
from eachlabs_widgets._service.client import _model_cache, learner
from eachlabs_widgets._service.limiter import PredictionLimiter

SECRET = "sk-test-0123456789abcdefSECRET"
SCHEMA = {
    "type": "object",
    "required": ["prompt"],
    "properties": {
        "prompt": {"type": "string"},
        "image_size": {"type": "string", "enum": ["square", "landscape_16_9"], "default": "square"},
        "num_images": {"type": "integer", "default": "1", "minimum": 1, "maximum": 4},
        "seed": {"type": "integer"},
    },
}


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class FakeService:
    """A scripted EachLabs: records requests; each poll advances a prediction one step."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.statuses: list[dict] = [
            {"status": "starting"},
            {"status": "processing"},
            {
                "status": "success",
                "output": ["https://cdn.example/out-0.png"],
                "metrics": {"predict_time": 1.5, "cost": 0.01},
            },
        ]
        self.fail_next: list[Callable[[httpx.Request], httpx.Response | None]] = []
        self.created = 0
        #: False: a cancel is accepted but the prediction goes on as scripted (API.md,
        #: "Cancel": it may still complete); True: the next polls say "cancelled".
        self.cancel_takes_effect = True

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        while self.fail_next:
            answer = self.fail_next.pop(0)(request)
            if answer is not None:
                return answer
            break
        path = request.url.path
        if path == "/v1/model":
            if request.url.params["slug"] == "nope":
                return httpx.Response(404, json={"error": "Failed to fetch model: model not found"})
            return httpx.Response(
                200, json={"slug": request.url.params["slug"], "request_schema": SCHEMA}
            )
        if path == "/v1/models":
            limit, offset = int(request.url.params["limit"]), int(request.url.params["offset"])
            everything = [{"slug": f"m{i}"} for i in range(230)]
            return httpx.Response(200, json=everything[offset : offset + limit])
        if path == "/v1/prediction":
            if request.headers.get("x-api-key") != SECRET:
                return httpx.Response(401, json={"error": "Invalid or missing API key"})
            self.created += 1
            return httpx.Response(
                200, json={"status": "success", "predictionID": f"p{self.created}"}
            )
        if path.endswith("/cancel"):
            if self.cancel_takes_effect:
                self.statuses = [{"status": "cancelled", "metrics": {"cost": 0}}]
            return httpx.Response(200, json={"status": "cancelled"})
        if path.startswith("/v1/prediction/"):
            step = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
            return httpx.Response(200, json={"id": path.rsplit("/", 1)[1], **step})
        if path.endswith(".png"):
            return httpx.Response(
                200, content=b"\x89PNG\r\n\x1a\nfake", headers={"content-type": "image/png"}
            )
        return httpx.Response(404, json={"error": "not found"})

    def bodies(self, path: str) -> list[dict]:
        return [json.loads(r.content) for r in self.requests if r.url.path == path and r.content]

    def count(self, path: str) -> int:
        return sum(1 for r in self.requests if r.url.path == path)


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("EACHLABS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("EACHLABS_API_KEY", raising=False)
    monkeypatch.delenv("EACHLABS_BASE_URL", raising=False)
    _model_cache.clear()
    learner.forget()
    yield
    _model_cache.clear()
    learner.forget()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def service() -> FakeService:
    return FakeService()


@pytest.fixture
def journal(tmp_path) -> Journal:
    return Journal(tmp_path / "journal.sqlite3")


@pytest.fixture
def make_client(service, fake_time, journal):
    from eachlabs_widgets import AsyncEachLabs

    def make(**kwargs):
        options = dict(
            api_key=SECRET,
            base_url="https://api.example",
            transport=httpx.MockTransport(service.handler),
            sleep=fake_time.sleep,
            clock=fake_time.clock,
            journal=journal,
            limiter=PredictionLimiter(10),
        )
        options.update(kwargs)
        return AsyncEachLabs(**options)

    return make


async def no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


@pytest.fixture
def stand():
    """A loopback stand-in of the API and its file host (``tests/output_stand.py``)."""
    from .output_stand import Stand

    served = Stand()
    yield served
    served.close()


@pytest.fixture
def system_temp(tmp_path, monkeypatch) -> Path:
    """The system's temp folder, moved where the test can see what is left in it."""
    folder = tmp_path / "system-temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def stand_client(stand, journal, system_temp):
    """A client of ``stand``, with no waits between polls."""
    from eachlabs_widgets import AsyncEachLabs

    return AsyncEachLabs(
        api_key="sk-test-key-for-the-api-only",
        base_url=stand.url,
        sleep=no_sleep,
        journal=journal,
        limiter=PredictionLimiter(10),
    )
