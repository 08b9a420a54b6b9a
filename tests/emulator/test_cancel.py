"""The cancel as the record gives it (API.md, "Cancel"): 200 means accepted, not done."""

from __future__ import annotations

import httpx
import pytest

from eachlabs_widgets.emulator import Emulator

from .helpers import FakeClock, create, poll

TURBO = "flux-2-turbo-text-to-image"


def cancel(client: httpx.Client, pid: str) -> dict:
    response = client.post(f"/v1/prediction/{pid}/cancel")
    assert response.status_code == 200, response.text
    body: dict = response.json()
    return body


def test_an_accepted_cancel_that_takes(client: httpx.Client, clock: FakeClock) -> None:
    pid = create(client, TURBO, prompt="x")
    assert cancel(client, pid) == {
        "status": "cancelled",
        "message": "Prediction canceled successfully",
        "predictionID": pid,
    }
    clock.advance(60)
    body = poll(client, pid)
    assert body["status"] == "cancelled"
    assert body["output"] is None and body["metrics"]["cost"] == 0


def test_the_doc_page_s_success_variant(
    client: httpx.Client, emu: Emulator, clock: FakeClock
) -> None:
    emu.cancel_status_success = True
    pid = create(client, TURBO, prompt="x")
    assert cancel(client, pid)["status"] == "success"
    assert poll(client, pid)["status"] == "cancelled"


def test_an_accepted_cancel_that_completes_anyway_is_billed(
    client: httpx.Client, emu: Emulator, clock: FakeClock
) -> None:
    emu.cancel_completes = True
    pid = create(client, TURBO, prompt="x", num_images=2)
    assert cancel(client, pid)["status"] == "cancelled"  # the same answer: accepted
    assert poll(client, pid)["status"] in ("starting", "processing")
    clock.advance(60)
    body = poll(client, pid)
    assert body["status"] == "success"
    assert len(body["output"]) == 2
    assert body["metrics"]["cost"] == pytest.approx(0.016)
    assert client.get(body["output"][0]).status_code == 200
    [record] = emu.records()
    assert record["cancel_requested_at"] is not None
    assert record["ended_at"] > record["cancel_requested_at"]
    # a cancel of what has ended is refused
    late = client.post(f"/v1/prediction/{pid}/cancel")
    assert late.status_code == 400
    assert "already success" in late.json()["error"]
