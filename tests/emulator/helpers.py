"""Helpers shared by the emulator tests."""

from __future__ import annotations

from typing import Any

import httpx

KEY = "test-key"


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def create(client: httpx.Client, model: str, **inputs: Any) -> str:
    response = client.post(
        "/v1/prediction", json={"model": model, "version": "0.0.1", "input": inputs}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success"
    assert body["message"] == "Prediction created successfully"
    return str(body["predictionID"])


def poll(client: httpx.Client, pid: str) -> dict[str, Any]:
    response = client.get(f"/v1/prediction/{pid}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def run(client: httpx.Client, clock: FakeClock, model: str, **inputs: Any) -> dict[str, Any]:
    """Create a prediction, move time past any model's duration, return the final poll."""
    pid = create(client, model, **inputs)
    clock.advance(400)
    return poll(client, pid)


def upload(client: httpx.Client, data: bytes, content_type: str = "image/png") -> str:
    """Presign, PUT ``data`` with the signed headers; the public URL."""
    response = client.post("/v1/upload/presign", json={"content_type": content_type})
    assert response.status_code == 200, response.text
    info = response.json()
    headers = {"Content-Type": content_type, **info["required_headers"]}
    put = client.put(info["presigned_url"], content=data, headers=headers)
    assert put.status_code == 200, put.text
    return str(info["public_url"])
