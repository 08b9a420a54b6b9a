"""A cancel is a request, not an outcome (API.md, "Cancel"): the journal says "cancelled" only
when the service does; otherwise it keeps the service's last word with a "cancel requested"
note, and the prediction is followed until the service says how it ended."""

import asyncio

import pytest

from eachlabs_widgets._display.tables import history_table
from eachlabs_widgets._journal.journal import CANCEL_REQUESTED
from eachlabs_widgets._service import cancels


async def cancel_while_running(client, service):
    task = asyncio.create_task(client.run("flux", {"prompt": "x"}, save_to=None))
    while service.count("/v1/prediction/p1") < 1:
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def settle(journal, predicate, limit: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while True:
        journal.flush()
        entry = journal.get("p1")
        if entry is not None and predicate(entry):
            return
        assert loop.time() < end, f"not settled: {entry and (entry.status, entry.error)}"
        await asyncio.sleep(0.01)


async def test_a_cancel_the_service_carried_out_is_recorded_before_the_call_returns(
    make_client, service, journal
):
    service.statuses = [{"status": "processing"}]
    async with make_client() as client:
        await cancel_while_running(client, service)
    journal.flush()
    entry = journal.get("p1")
    assert entry.status == "cancelled" and not entry.cancel_requested
    assert cancels.outcome("p1") == cancels.CANCELLED
    # the cancel, then one poll at once that saw it cancelled
    paths = [r.url.path for r in service.requests]
    assert paths[-2:] == ["/v1/prediction/p1/cancel", "/v1/prediction/p1"]


async def test_a_prediction_that_completes_anyway_is_saved_and_its_cost_recorded(
    make_client, service, journal, tmp_path
):
    service.cancel_takes_effect = False
    service.statuses = [{"status": "processing"}] * 4 + [
        {
            "status": "success",
            "output": ["https://cdn.example/out-0.png"],
            "metrics": {"predict_time": 1.5, "cost": 0.01},
        }
    ]
    told = []
    async with make_client() as client:
        task = asyncio.create_task(
            client.run(
                "flux", {"prompt": "x"}, save_to=str(tmp_path / "out"), on_update=told.append
            )
        )
        while service.count("/v1/prediction/p1") < 1:
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        journal.flush()
        entry = journal.get("p1")
        # The service's last word, and the note: never "cancelled" on our own.
        assert entry.status == "processing" and entry.cancel_requested
        assert entry.error == CANCEL_REQUESTED
        assert "cancel requested" in str(history_table([entry]).rows[0])
        assert cancels.outcome("p1") == cancels.REQUESTED
        await settle(journal, lambda e: e.status == "success")
    entry = journal.get("p1")
    assert entry.error == "finished before the cancel took effect: saved, $0.01"
    assert entry.metrics["cost"] == 0.01 and len(entry.files) == 1
    assert (tmp_path / "out").exists() and any((tmp_path / "out").iterdir())
    assert cancels.outcome("p1") == cancels.FINISHED
    assert told[-1].status == "success"  # a card still open learns it too


async def test_a_cancel_that_takes_effect_later_is_recorded_when_the_service_says_so(
    make_client, service, journal
):
    service.cancel_takes_effect = False
    service.statuses = [{"status": "processing"}] * 3 + [
        {"status": "cancelled", "metrics": {"cost": 0}}
    ]
    async with make_client() as client:
        await cancel_while_running(client, service)
        journal.flush()
        assert journal.get("p1").cancel_requested
        await settle(journal, lambda e: e.status == "cancelled")
    entry = journal.get("p1")
    assert not entry.cancel_requested and not entry.error
    assert cancels.outcome("p1") == cancels.CANCELLED
    assert service.count("/v1/prediction/p1/cancel") == 1  # asked once


async def test_resume_settles_a_cancel_requested_row(make_client, service, journal):
    service.cancel_takes_effect = False
    service.statuses = [{"status": "processing"}] * 3 + [
        {
            "status": "success",
            "output": ["https://cdn.example/out-0.png"],
            "metrics": {"cost": 0.02},
        }
    ]
    journal.created("p1", "flux", {"prompt": "x"}, "https://api.example")
    journal.update("p1", status="processing", error=CANCEL_REQUESTED)
    assert journal.get("p1").cancel_requested
    async with make_client() as client:
        generation = await client.follow(
            "p1", "flux", {"prompt": "x"}, recorded=True, after_cancel=True
        )
    assert generation.status == "success"
    journal.flush()
    entry = journal.get("p1")
    assert entry.status == "success" and not entry.cancel_requested
    assert entry.error == "finished before the cancel took effect: saved, $0.02"


async def test_on_loopback_a_cancel_that_completes_anyway_is_billed_saved_and_said(
    journal, tmp_path
):
    """A scripted service on loopback: the cancel is accepted (200), yet the prediction goes
    on and succeeds; the client saves its file and records its cost."""
    from eachlabs_widgets import AsyncEachLabs
    from eachlabs_widgets._service.limiter import PredictionLimiter
    from tests.scripted_server import ScriptedServer, as_json

    polls_after_cancel = [0]

    with ScriptedServer() as server:

        def poll(handler):
            pid = handler.path.split("/")[3]
            cancelled = any(r["path"].endswith("/cancel") for r in server.requests("POST"))
            if not cancelled or polls_after_cancel[0] < 2:
                polls_after_cancel[0] += cancelled
                return 200, {}, as_json({"id": pid, "status": "processing"})
            output = [f"{server.url}/files/{pid}/0.png"]
            body = {"id": pid, "status": "success", "output": output, "metrics": {"cost": 0.01}}
            return 200, {}, as_json(body)

        server.routes["GET /v1/prediction/"] = poll
        client = AsyncEachLabs(
            api_key="sk-loopback-key",
            base_url=server.url,
            journal=journal,
            limiter=PredictionLimiter(10),
        )
        out = tmp_path / "out"
        task = asyncio.create_task(
            client.run("flux-2-turbo-text-to-image", {"prompt": "x"}, save_to=str(out))
        )
        while not server.requests("GET", "/v1/prediction/"):
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        journal.flush()
        assert journal.get("p1").cancel_requested
        await settle(journal, lambda e: e.status == "success", limit=30)
    entry = journal.get("p1")
    assert entry.error == "finished before the cancel took effect: saved, $0.01"
    assert [p.suffix for p in map(__import__("pathlib").Path, entry.files)] == [".png"]
