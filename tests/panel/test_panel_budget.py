"""The panel's header against the session's budget, on the in-process emulator: the spend the
service reported against the budget, moved by runs made elsewhere too; Generate past it sends
nothing and says why."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import eachlabs_widgets as el
from eachlabs_widgets import _settings
from eachlabs_widgets._service import budget as budget_module
from eachlabs_widgets.panel import Panel
from eachlabs_widgets.panel._pricing import format_price

TURBO = "flux-2-turbo-text-to-image"


@pytest.fixture(autouse=True)
def _a_fresh_session(monkeypatch) -> Iterator[None]:
    monkeypatch.delenv("EACHLABS_BUDGET", raising=False)
    _settings.reset_configuration()
    budget_module.session.reset()
    yield
    _settings.reset_configuration()
    budget_module.session.reset()


async def test_the_header_shows_the_sessions_spend_against_the_budget(emulated):
    el.configure(budget=1)
    panel = Panel(model=TURBO, value={"prompt": "a red fox"})
    await panel.ready()
    assert "$0 of $1.00 budget" in panel.spend.value
    panel.generate_button.click()
    await panel.wait()
    [generation] = panel.generations
    assert f"{format_price(generation.cost)} of $1.00 budget" in panel.spend.value
    # a run made elsewhere in the session (a cell, a script) moves it too
    other = await el.agenerate(TURBO, "a cat", card=False)
    total = generation.cost + other.cost
    assert f"{format_price(total)} of $1.00 budget" in panel.spend.value
    el.configure(budget=float("inf"))  # lifted: the header says the panel's own spend again
    panel._show_spend()
    assert "budget" not in panel.spend.value and "1 run" in panel.spend.value


async def test_generate_past_the_budget_sends_nothing_and_says_why(emulated):
    panel = Panel(model=TURBO, value={"prompt": "a red fox"})
    await panel.ready()
    panel.generate_button.click()
    await panel.wait()
    spent = budget_module.session.spent
    el.configure(budget=spent)
    panel._show_spend()
    assert "eachlabs-over-budget" in panel.spend.value
    before = emulated.stats.predictions_created
    panel.generate_button.click()
    await panel.wait()
    assert emulated.stats.predictions_created == before
    assert "budget $" in panel.message.value and "nothing was sent" in panel.message.value
