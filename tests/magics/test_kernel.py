"""``%%eachgen`` in a real ipykernel against an emulator served on loopback by this process:
live cards, ``--background``, interrupting a wait, and a kernel killed mid-prediction."""

from __future__ import annotations

import time
from typing import Any

import pytest

from eachlabs_widgets.emulator import Emulator, serve

from ..kernel_driver import (
    KEY,
    poll_status,
    started,
    statuses,
    wait_until,
    widget_states,
)
from .conftest import FLUX, SLOW, kernel_on_emulator

pytestmark = pytest.mark.kernel


def _rows(path: Any) -> list[Any]:
    """The journal's rows as another process sees them (nothing while it does not exist)."""
    import sqlite3

    if not path.exists():
        return []
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT * FROM predictions").fetchall()
    except sqlite3.Error:
        return []


served = kernel_on_emulator("kernel", speed=1.0)


def test_live_card_updates_then_the_static_result(served):
    _, kernel = served
    reply, messages = kernel.run(f"%%eachgen {FLUX} --seed 1 -o g\na fox on a hill")
    assert reply["status"] == "ok", reply
    shown = statuses(messages)
    assert shown[0] == "queued" and shown[-1] == "success"
    assert {"starting", "processing"} & set(shown)
    # the thumbnails travel as binary buffers, not inside the state
    images = [(m, s) for m, s in widget_states(messages) if s.get("_model_name") == "ImageModel"]
    assert images and all(m["buffers"] and m["buffers"][0][:2] == b"\xff\xd8" for m, _ in images)
    # the cards were displayed, replaced in place by the static result, and closed
    shown_display = next(m for m in messages if m["msg_type"] == "display_data")
    display_id = shown_display["content"]["transient"]["display_id"]
    assert "application/vnd.jupyter.widget-view+json" in shown_display["content"]["data"]
    update = next(m for m in messages if m["msg_type"] == "update_display_data")
    assert update["content"]["transient"]["display_id"] == display_id
    # the thumbnail is stored once: inside the HTML figure, as a data: URI with alt text
    data = update["content"]["data"]
    assert "image/jpeg" not in data
    assert data["text/html"].count("data:image/jpeg;base64,") == 1
    assert "alt='a fox on a hill'" in data["text/html"]
    assert "a fox on a hill" in update["content"]["data"]["text/html"]
    opened = {m["content"]["comm_id"] for m in messages if m["msg_type"] == "comm_open"}
    closed = {m["content"]["comm_id"] for m in messages if m["msg_type"] == "comm_close"}
    left = [
        m["content"]["data"]["state"].get("_model_name")
        for m in messages
        if m["msg_type"] == "comm_open" and m["content"]["comm_id"] not in closed
    ]
    assert opened and left == []  # no widget state is left behind
    out = kernel.stdout("print(type(g).__name__, g.status, len(g.images), g.seed)")
    assert out.split() == ["Generation", "success", "1", "1"]


def test_background_returns_at_once_and_sets_the_variable_later(served):
    emulator, kernel = served
    before = emulator.stats.predictions_created
    emulator.speed = 3.0  # about 5 s: the cell must be back long before the prediction ends
    try:
        reply, messages = kernel.run(f"%%eachgen {FLUX} --seed 2 --background -o bg\na quiet lake")
        assert reply["status"] == "ok", reply
        wait_until(lambda: emulator.stats.predictions_created == before + 1)
        running = poll_status(emulator, emulator.stats.prediction_ids[-1])
    finally:
        emulator.speed = 1.0
    assert running in ("starting", "processing")  # the cell ended, the prediction had not
    # -o is a handle at once: not done yet, its repr shows the progress
    out = kernel.stdout("print(type(bg).__name__, bg.done(), repr(bg))")
    assert out.startswith("BackgroundRun False <BackgroundRun running: 1 run")
    cell = messages[0]["parent_header"]["msg_id"]
    # the card keeps updating after the cell ended, in that cell's output
    kernel.wait_for(
        lambda m: m["parent_header"].get("msg_id") == cell and "success" in statuses([m]),
        timeout=20,
    )
    wait_until(lambda: kernel.stdout("print(bg.done())").strip() == "True", 10)
    out = kernel.stdout("print(type(bg.result()).__name__, bg.status, bg.prompt)")
    assert out.strip() == "Generation success a quiet lake"
    # the live card was replaced by the static result, by display id (update_display_data)
    card = next(
        m
        for m in kernel.of(cell)
        if m["msg_type"] == "display_data"
        and "application/vnd.jupyter.widget-view+json" in m["content"]["data"]
    )
    display_id = card["content"]["transient"]["display_id"]
    kernel.wait_for(
        lambda m: (
            m["msg_type"] == "update_display_data"
            and m["content"]["transient"]["display_id"] == display_id
            and "data:image/jpeg;base64," in m["content"]["data"].get("text/html", "")
        ),
        timeout=10,
    )
    assert not any(
        m["msg_type"] == "stream" and "in the background" in m["content"]["text"]
        for m in kernel.of(cell)
    )
    assert emulator.stats.predictions_created == before + 1


def test_interrupt_cancels_the_prediction_on_the_service(served):
    emulator, kernel = served
    before = emulator.stats.predictions_created
    msg_id = kernel.submit(f"%%eachgen {SLOW} --seed 3 -o never\na slow storm")
    wait_until(lambda: emulator.stats.predictions_created == before + 1)
    prediction_id = emulator.stats.prediction_ids[-1]
    time.sleep(0.3)  # the kernel is waiting between polls
    kernel.km.interrupt_kernel()
    reply = kernel.wait_idle(msg_id)
    assert reply["status"] == "error"
    assert reply["ename"] == "EachGenInterrupted"
    assert prediction_id in reply["evalue"] and "cancelled" in reply["evalue"]
    errors = [m for m in kernel.of(msg_id) if m["msg_type"] == "error"]
    assert len(errors[0]["content"]["traceback"]) == 1  # one line, no traceback
    assert poll_status(emulator, prediction_id) == "cancelled"
    assert emulator.stats.requests.get("cancel") == 1
    assert kernel.stdout("print('never' in globals())").strip() == "False"


def test_a_killed_kernel_loses_nothing(tmp_path, monkeypatch):
    from eachlabs_widgets import history, resume

    emulator = Emulator(speed=0.5)  # flux-2-klein: 3 s
    model = "flux-2-klein-9b-base-text-to-image"
    with serve(emulator) as server:
        home = tmp_path / "home"
        with started(server.url, tmp_path, poll=None) as kernel:
            kernel.submit(f"%%eachgen {model} --seed 1,2,3\na lighthouse")
            wait_until(lambda: emulator.stats.predictions_created == 3)
            # Each row is written by the journal's thread right after its create answers.
            wait_until(lambda: len(_rows(home / "journal.sqlite3")) == 3, timeout=10)
            kernel.kill()
        ids = set(emulator.stats.prediction_ids)
        monkeypatch.setenv("EACHLABS_HOME", str(home))
        monkeypatch.setenv("EACHLABS_API_KEY", KEY)
        entries = history(emulator=True)  # made by another process, on an emulator
        assert {e.id for e in entries} == ids
        assert all(e.status in ("created", "starting", "processing") for e in entries)
        assert all(e.base_url == server.url for e in entries)
        for entry in entries:
            generation = resume(entry.id)
            assert generation.status == "success" and len(generation.images) == 1
            assert generation.seed == entry.inputs["seed"]
            assert all(p.is_file() for p in generation.paths)
        assert {e.status for e in history(emulator=True)} == {"success"}
        assert emulator.stats.predictions_created == 3  # nothing was created again


def test_run_all_saves_the_images_without_widget_state(tmp_path):
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("%load_ext eachlabs_widgets"),
        nbformat.v4.new_code_cell(f"%%eachgen {FLUX} --seed 1,2 -o r\na red fox"),
        nbformat.v4.new_code_cell("print(len(r), [g.status for g in r])"),
    ]
    NotebookClient(
        notebook, timeout=60, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute()
    outputs = notebook.cells[1].outputs
    assert [o.output_type for o in outputs] == ["display_data"]
    data = outputs[0].data
    assert "application/vnd.jupyter.widget-view+json" not in data
    assert data["text/html"].count("<img") == 2 and "seed=1" in data["text/html"]
    assert notebook.cells[2].outputs[0].text.strip() == "2 ['success', 'success']"
