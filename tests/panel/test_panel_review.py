"""What a new user found in the redesigned panel: finished runs piling up, a stale error line,
the journal's history in a shared Voila app."""

from __future__ import annotations

import pytest

from eachlabs_widgets import generate
from eachlabs_widgets._display.card import LiveCard
from eachlabs_widgets.panel import Panel
from eachlabs_widgets.panel._history import history_mode, under_voila
from eachlabs_widgets.panel._panel import FINISHED_SHOWN

from .conftest import until

TURBO = "flux-2-turbo-text-to-image"
SLOW = "gpt-image-v1-5-text-to-image"


def cards(panel: Panel) -> list[LiveCard]:
    return [c for c in panel.runs_box.children if isinstance(c, LiveCard)]


async def test_finished_runs_fold_into_one_line(emulated):
    panel = Panel(model=TURBO, value={"prompt": "a fox"})
    await panel.ready()
    for _ in range(5):
        panel.generate()
        await panel.wait()
    shown = cards(panel)
    assert len(shown) == FINISHED_SHOWN
    assert [c.prediction_id for c in shown] == [g.id for g in reversed(panel.generations)][:2]
    assert panel.runs_box.children[-1] is panel.earlier_runs
    assert "3 earlier runs" in panel.earlier_runs.value
    assert len(panel.strip.items) == 5  # every result is still in the strip
    assert all(not c.closed for c in shown)


async def test_runs_in_flight_are_never_folded(emulated):
    panel = Panel(model=TURBO, value={"prompt": "a fox"})
    await panel.ready()
    for _ in range(3):
        panel.generate()
        await panel.wait()
    emulated.speed = 0.5  # slow enough to be running while we look
    panel.select(SLOW, value={"prompt": "slow"})
    await panel.ready()
    panel.generate()
    panel.generate()
    shown = cards(panel)
    assert [c.ended for c in shown] == [False, False, True, True]
    assert "1 earlier run " in panel.earlier_runs.value
    panel.cancel()
    await panel.wait()
    assert len(cards(panel)) == FINISHED_SHOWN and "3 earlier runs" in panel.earlier_runs.value


async def test_the_error_line_follows_the_form(emulated):
    panel = Panel(model=TURBO)
    await panel.ready()
    assert panel.generate() is None
    assert "Prompt: required" in panel.message.value
    form = panel.form
    # the user types in the browser: the text boxes change, the form follows
    form.fields["prompt"].text.value = "a cat"
    form.fields["seed"].text.value = "abc"
    assert "Prompt" not in panel.message.value
    assert "Seed" in panel.message.value and "integer" in panel.message.value
    form.fields["seed"].text.value = ""
    assert panel.message.value == ""  # nothing left to fix
    assert "fix first" not in panel.generate_button.tooltip
    form.fields["seed"].text.value = "xyz"  # still following: the line says it again
    assert "Seed" in panel.message.value and "Prompt" not in panel.message.value
    form.fields["seed"].text.value = "7"
    panel.generate()  # a run starts: the line is the run's again
    form.fields["seed"].text.value = "xyz"
    assert "fix the form first" not in panel.message.value
    await panel.wait()


def test_history_mode_follows_voila():
    assert history_mode(None, {}) == "journal"
    voila = {"VOILA_SERVER_URL": "/", "VOILA_BASE_URL": "/"}
    assert under_voila(voila) and history_mode(None, voila) == "session"
    assert history_mode("journal", voila) == "journal"  # asked for: opted in
    with pytest.raises(ValueError, match="'journal', 'session'"):
        history_mode("all")


async def test_voila_shows_this_session_only(emulated, monkeypatch):
    earlier = generate(TURBO, "an earlier visitor's secret prompt")
    panel = Panel(model=TURBO)
    await panel.ready()
    await until(lambda: bool(panel.strip.items))
    assert panel.history == "journal" and earlier.id in panel.strip.items[0]["key"]

    monkeypatch.setenv("VOILA_SERVER_URL", "/")  # what Voila puts in its kernels' environment
    shared = Panel(model=TURBO, value={"prompt": "mine"})
    await shared.ready()
    assert shared.history == "session" and shared.strip.items == []
    shared.generate()
    await shared.wait()
    keys = [i["key"] for i in shared.strip.items]
    assert keys and all(k.startswith(shared.generations[0].id) for k in keys)
    assert "secret" not in str(shared.strip.items)

    opted = Panel(model=TURBO, history="journal")
    await opted.ready()
    await until(lambda: len(opted.strip.items) >= 2)
