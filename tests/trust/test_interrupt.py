"""No paid prediction is orphaned: an interrupt during a create waits for its answer and cancels
what it made, in a task, in a script (SIGINT) and in a real kernel (the Stop button)."""

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import eachlabs_widgets as el
from eachlabs_widgets._journal.journal import Journal
from eachlabs_widgets._service import client as _client
from tests.scripted_server import MODEL_SLUG, as_json

from .conftest import SECRET


def _slow_create(seconds: float):
    def answer(handler):
        time.sleep(seconds)
        return 200, {}, as_json({"predictionID": "paid-1"})

    return answer


def _running(handler):
    return 200, {}, as_json({"id": handler.path.split("/")[3], "status": "processing"})


def _running_until_cancelled(api):
    """Polls say "processing" until a cancel of the prediction was posted, then "cancelled"
    (a cancel that takes effect; the service's 200 alone says only that it was accepted)."""

    def answer(handler):
        prediction_id = handler.path.split("/")[3]
        posted = [r["path"] for r in api.requests("POST") if r["path"].endswith("/cancel")]
        cancelled = f"/v1/prediction/{prediction_id}/cancel" in posted
        status = "cancelled" if cancelled else "processing"
        return 200, {}, as_json({"id": prediction_id, "status": status})

    return answer


async def _until(predicate, limit: float = 20.0) -> None:
    end = time.monotonic() + limit
    while not predicate():
        assert time.monotonic() < end, "condition not reached"
        await asyncio.sleep(0.02)


def _cancels(api) -> list[str]:
    return [r["path"] for r in api.requests("POST") if r["path"].endswith("/cancel")]


async def test_a_cancel_during_the_create_cancels_what_it_made(api, tmp_path):
    api.routes["POST /v1/prediction"] = _slow_create(1.0)
    api.routes["GET /v1/prediction/"] = _running_until_cancelled(api)
    journal = Journal(tmp_path / "j.sqlite3")
    client = el.AsyncEachLabs(api_key=SECRET, base_url=api.url, journal=journal)
    told: list[str] = []
    task = asyncio.ensure_future(
        client.run(MODEL_SLUG, {"prompt": "x"}, on_update=lambda p: told.append(p.id))
    )
    await _until(lambda: api.creates == 1)
    task.cancel()
    await asyncio.sleep(0.2)
    task.cancel()  # a second interrupt while the create is held must not abandon it
    with pytest.raises(asyncio.CancelledError):
        await task
    assert told[:1] == ["paid-1"]
    assert _cancels(api) == ["/v1/prediction/paid-1/cancel"]
    await _until(lambda: journal.get("paid-1") is not None)
    assert journal.get("paid-1").status == "cancelled"


async def test_a_create_slower_than_the_hold_is_cancelled_when_it_answers(api, monkeypatch):
    monkeypatch.setattr(_client, "CREATE_HOLD", 0.2)
    api.routes["POST /v1/prediction"] = _slow_create(1.0)
    client = el.AsyncEachLabs(api_key=SECRET, base_url=api.url, journal=False)
    task = asyncio.ensure_future(client.run(MODEL_SLUG, {"prompt": "x"}))
    await _until(lambda: api.creates == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert _cancels(api) == []  # the create has not answered yet
    await _until(lambda: _cancels(api) == ["/v1/prediction/paid-1/cancel"])


async def test_a_cancel_that_cannot_be_sent_leaves_the_prediction_resumable(
    api, tmp_path, monkeypatch
):
    monkeypatch.setattr(_client, "CANCEL_HOLD", 0.5)
    api.routes["GET /v1/prediction/"] = _running
    api.routes["POST /v1/prediction/"] = lambda h: (503, {}, as_json({"error": "down"}))
    journal = Journal(tmp_path / "j.sqlite3")
    client = el.AsyncEachLabs(api_key=SECRET, base_url=api.url, journal=journal)
    task = asyncio.ensure_future(client.run(MODEL_SLUG, {"prompt": "x"}))
    await _until(lambda: len(api.requests("GET", "/v1/prediction/")) >= 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await _until(lambda: (journal.get("p1") or None) is not None and journal.get("p1").error)
    entry = journal.get("p1")
    assert entry.status != "cancelled" and "could not be cancelled" in entry.error


SCRIPT = textwrap.dedent(
    """
    import eachlabs_widgets as el
    el.configure(api_key={key!r}, base_url={url!r})
    try:
        el.generate({model!r}, "a fox")
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        raise
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_in_a_script_during_the_create_cancels_the_prediction(api, tmp_path):
    api.routes["POST /v1/prediction"] = _slow_create(1.5)
    api.routes["GET /v1/prediction/"] = _running_until_cancelled(api)
    env = {**os.environ, "EACHLABS_HOME": str(tmp_path / "home")}
    code = SCRIPT.format(key=SECRET, url=api.url, model=MODEL_SLUG)
    proc = subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        end = time.monotonic() + 30
        while api.creates == 0:
            assert time.monotonic() < end and proc.poll() is None, proc.stderr.read()
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode != 0 and b"interrupted" in out, err.decode()[-2000:]
    assert b"KeyboardInterrupt" in err
    assert _cancels(api) == ["/v1/prediction/paid-1/cancel"]
    journal = Journal(tmp_path / "home" / "journal.sqlite3")
    assert journal.get("paid-1").status == "cancelled"
    assert SECRET.encode() not in out + err


@pytest.mark.kernel
def test_the_stop_button_during_the_create_cancels_the_prediction(api, tmp_path):
    from tests.kernel_driver import Kernel

    api.routes["POST /v1/prediction"] = _slow_create(2.0)
    api.routes["GET /v1/prediction/"] = _running_until_cancelled(api)
    env = {
        "EACHLABS_API_KEY": SECRET,
        "EACHLABS_BASE_URL": api.url,
        "EACHLABS_HOME": str(tmp_path / "home"),
        "EACHLABS_OUTPUT_DIR": str(tmp_path / "out"),
    }
    kernel = Kernel(env, cwd=str(tmp_path))
    try:
        kernel.execute("%load_ext eachlabs_widgets")
        cell = kernel.submit(f"%%eachgen {MODEL_SLUG}\na fox")
        end = time.monotonic() + 30
        while api.creates == 0:
            assert time.monotonic() < end
            time.sleep(0.02)
        kernel.km.interrupt_kernel()
        reply = kernel.wait_idle(cell, 60)
        text = " ".join(
            str(m["content"]) for m in kernel.of(cell) if m["msg_type"] != "status"
        ) + str(reply)
        assert reply["status"] == "error"
        assert "nothing was sent" not in text
        assert "paid-1" in text
        assert _cancels(api) == ["/v1/prediction/paid-1/cancel"]
        rows = kernel.stdout(
            "import eachlabs_widgets as el\nprint([(e.id, e.status) for e in el.history(None)])"
        )
        assert "('paid-1', 'cancelled')" in rows
        assert SECRET not in text + rows
    finally:
        kernel.stop()
