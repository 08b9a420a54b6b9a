"""Results in a real ipykernel, read on raw iopub (jupyter_client): ``generate()``'s live card and
its one-line errors, a background card's Cancel button, a failure said once, reuse."""

from __future__ import annotations

import pytest

from ..kernel_driver import (
    poll_status,
    shown_text,
    statuses,
    wait_until,
    widget_states,
)
from .conftest import FLUX, SLOW, kernel_on_emulator

pytestmark = pytest.mark.kernel
WIDGET = "application/vnd.jupyter.widget-view+json"


served = kernel_on_emulator("kernel-results", speed=0.3)


def test_generate_shows_a_live_card_then_one_line(served):
    _, kernel = served
    reply, messages = kernel.run(f"g = el.generate('{FLUX}', 'a fox at dawn', seed=11)")
    assert reply["status"] == "ok", reply
    card = next(m for m in messages if m["msg_type"] == "display_data")
    assert WIDGET in card["content"]["data"]
    assert statuses(messages)[-1] == "success"
    update = next(m for m in messages if m["msg_type"] == "update_display_data")
    assert update["content"]["transient"] == card["content"]["transient"]
    line = update["content"]["data"]["text/plain"]
    assert line.startswith(f"✓ {FLUX}") and "seed 11" in line and "\n" not in line
    # closed: no widget of the card is left open
    opened = {m["content"]["comm_id"] for m in messages if m["msg_type"] == "comm_open"}
    closed = {m["content"]["comm_id"] for m in messages if m["msg_type"] == "comm_close"}
    assert opened and opened <= closed


def test_generate_with_the_same_seed_reuses_unless_forced(served):
    emulator, kernel = served
    before = emulator.stats.predictions_created
    reply, messages = kernel.run(f"again = el.generate('{FLUX}', 'a fox at dawn', seed=11)")
    assert reply["status"] == "ok"
    assert "$0 (reused)" in shown_text(messages) and "force=True" in shown_text(messages)
    assert kernel.stdout("print(again.reused, again.id == g.id)").split() == ["True", "True"]
    kernel.execute(f"forced = el.generate('{FLUX}', 'a fox at dawn', seed=11, force=True)")
    assert kernel.stdout("print(forced.reused, forced.id == g.id)").split() == ["False", "False"]
    assert emulator.stats.predictions_created == before + 1


def test_generate_errors_are_one_line_and_the_card_can_be_turned_off(served):
    _, kernel = served
    reply, messages = kernel.run(f"el.generate('{FLUX}', '[moderate] a cat')")
    assert reply["status"] == "error" and reply["ename"] == "PredictionFailedError"
    (error,) = [m for m in messages if m["msg_type"] == "error"]
    (line,) = error["content"]["traceback"]
    assert "content moderation" in line and "Traceback" not in line
    assert "content_moderation" not in line  # the code stays on the exception's attributes
    assert shown_text(messages).count("content moderation") == 1
    reply, messages = kernel.run(
        f"import os\nos.environ['EACHLABS_CARD'] = '0'\nh = el.generate('{FLUX}', 'no card')\n"
        "del os.environ['EACHLABS_CARD']"
    )
    assert reply["status"] == "ok"
    assert not [m for m in messages if m["msg_type"] == "display_data"]


def test_a_failed_cell_says_it_once(served):
    _, kernel = served
    reply, messages = kernel.run(f"%%eachgen {FLUX}\n[moderate] a bird")
    assert reply["status"] == "error" and reply["ename"] == "EachGenError"
    assert shown_text(messages).count("content moderation") == 1
    # the card's place is left empty rather than repeating the error
    update = next(m for m in messages if m["msg_type"] == "update_display_data")
    assert update["content"]["data"] == {"text/plain": ""}


def test_a_background_card_is_cancelled_by_its_button(served):
    emulator, kernel = served
    before = emulator.stats.predictions_created
    reply, messages = kernel.run(f"%%eachgen {SLOW} --seed 3 --background -o bg\na long storm")
    assert reply["status"] == "ok", reply
    wait_until(lambda: emulator.stats.predictions_created == before + 1, 40)
    prediction_id = emulator.stats.prediction_ids[-1]
    button = next(
        m["content"]["comm_id"]
        for m, state in widget_states(messages)
        if state.get("_model_name") == "ButtonModel" and state.get("description") == "Cancel"
    )
    kernel.click(button)
    wait_until(lambda: poll_status(emulator, prediction_id) == "cancelled", 30)
    wait_until(lambda: kernel.stdout("print(bg.done())").strip() == "True", 10)
    out = kernel.stdout(
        "try:\n    bg.result()\nexcept Exception as e:\n    print(type(e).__name__)"
    )
    assert out.strip() == "PredictionCancelledError"
    # the note for a reopened notebook named the short id while the card ran
    cell = messages[0]["parent_header"]["msg_id"]
    notes = [
        m
        for m in kernel.of(cell)
        if m["msg_type"] == "update_display_data"
        and "eachlabs-orphan" in m["content"]["data"].get("text/html", "")
    ]
    assert any(
        f"%eachgen resume {prediction_id[:8]}" in n["content"]["data"]["text/plain"] for n in notes
    )
