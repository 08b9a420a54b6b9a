"""``EachGen.budget`` in a shell, on the embedded emulator: a sweep runs the cells that fit and
says what it left out, on their cards and in its text; the session's spend is shown against the
budget; a single cell past it ends with the budget's one line; ``%eachgen config`` shows it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from eachlabs_widgets._exceptions import BudgetExceededError
from eachlabs_widgets._generation import Generation
from eachlabs_widgets._notebook.runs import CellRun, Job, budget_note
from eachlabs_widgets._service import budget as budget_module
from eachlabs_widgets._service.budget import usd
from eachlabs_widgets._service.client import AsyncEachLabs
from eachlabs_widgets.magics import EachGenError

from .conftest import FLUX


@pytest.fixture(autouse=True)
def _fresh_session(monkeypatch) -> Iterator[None]:
    monkeypatch.delenv("EACHLABS_BUDGET", raising=False)
    budget_module.session.reset()
    yield
    budget_module.session.reset()


def created(emulator) -> int:
    return emulator.stats.predictions_created


def _learn_a_price(shell) -> float:
    shell.run_cell_magic("eachgen", f"{FLUX} -o t_first", "a price to learn")
    return float(shell.user_ns["t_first"].cost)


def test_config_sets_the_sessions_budget_and_config_shows_it(shell):
    shell.run_line_magic("config", "EachGen.budget = 1.5")
    assert budget_module.session.limit == 1.5
    table = shell.run_line_magic("eachgen", "config")
    assert "$0.000 of $1.50 budget" in table.plain(200)
    shell.run_line_magic("config", "EachGen.budget = None")
    assert budget_module.session.limit is None
    shell.run_line_magic("config", "EachGen.budget = -1")  # refused (%config logs why)
    assert budget_module.session.limit is None


def test_a_sweep_runs_the_cells_that_fit_and_says_what_it_left_out(shell, displays, emulator):
    price = _learn_a_price(shell)
    spent = budget_module.session.spent
    limit = round(spent + price * 2.5, 4)
    shell.run_line_magic("config", f"EachGen.budget = {limit}")
    before = created(emulator)
    shell.run_cell_magic("eachgen", f"{FLUX} --seed 1,2,3,4,5 -o t_g", "a fox")
    assert created(emulator) == before + 2  # nothing sent for the three left out
    grid = shell.user_ns["t_g"]
    outcomes = [item for _, item in grid.items]
    assert [isinstance(o, Generation) for o in outcomes] == [True, True, False, False, False]
    assert all(isinstance(o, BudgetExceededError) for o in outcomes[2:])
    text = displays.final["text/plain"]
    assert f"budget {usd(limit)}: 2 of 5 cells run (3 left out" in text
    assert f"this session: {usd(spent + 2 * price)} of {usd(limit)} budget" in text
    page = displays.final["text/html"]
    # Never "failed": the header counts the cells left out by the budget apart.
    header = f"5 cells · 2 run · 3 left out by the budget · total ${2 * price:.3f}"
    assert header in text and header in page
    assert "failed" not in text and "eachlabs-failure" not in page
    assert page.count("eachlabs-not-run") == 3  # their cells: neutral, saying why
    assert text.count("] not run: budget ") == 3


def test_a_single_cell_past_the_budget_ends_with_its_one_line(shell, emulator):
    _learn_a_price(shell)
    shell.run_line_magic("config", "EachGen.budget = 0")
    before = created(emulator)
    with pytest.raises(EachGenError) as caught:
        shell.run_cell_magic("eachgen", FLUX, "a fox")
    assert created(emulator) == before
    assert isinstance(caught.value.error, BudgetExceededError)  # type: ignore[attr-defined]
    assert str(caught.value).startswith("budget $0.000:")


def test_a_grid_left_out_whole_sends_nothing_and_says_so_without_an_error(
    shell, emulator, displays, capsys, monkeypatch
):
    from eachlabs_widgets._doctor import ask as ask_module

    _learn_a_price(shell)
    shell.run_line_magic("config", "EachGen.budget = 0.001")
    shell.run_line_magic("config", "EachGen.confirm_above = 0")
    asked: list[str] = []
    monkeypatch.setattr(ask_module, "ask", lambda question: asked.append(question) or True)
    before = created(emulator)
    shown = len(displays.items)
    # As a declined confirm: one line, no traceback, nothing displayed, nothing sent.
    assert shell.run_cell_magic("eachgen", f"{FLUX} --seed 1,2,3 -o t_none", "a fox") is None
    assert created(emulator) == before
    said = capsys.readouterr().out
    assert said.startswith("not run: the budget leaves out all 3 cells (budget $0.001: ")
    assert "nothing was sent" in said and "failed" not in said
    assert len(displays.items) == shown and "t_none" not in shell.user_ns
    assert asked == []  # nothing would be sent: nothing to confirm


def test_a_grid_whose_every_cell_was_refused_at_its_create_is_not_an_error():
    refused = BudgetExceededError(budget=0.01, spent=0.01, model=FLUX)
    jobs = [Job(str(i), FLUX, {"prompt": "x", "seed": i}, axes={"seed": i}) for i in range(3)]
    run = CellRun(AsyncEachLabs(base_url="emulator"), jobs)
    try:
        run.outcomes = [refused] * 3  # as the client's run() ends each one
        assert run.failure() is None and run.all_left_out
        assert run.summary().startswith("3 cells · 3 left out by the budget")
        result = run.result()
        assert result.summary() == "3 cells · none run · 3 left out by the budget"
        assert budget_note(run.outcomes) == (
            "budget $0.010: none of the 3 cells run (the spend reached it and their price is "
            "unknown)"
        )
    finally:
        run.close()


def test_a_grid_whose_sent_runs_failed_says_so_apart_from_those_left_out():
    from eachlabs_widgets._exceptions import PredictionFailedError
    from eachlabs_widgets.magics._magic import cell_error

    refused = BudgetExceededError(budget=0.01, spent=0.0, estimate=0.008, model=FLUX)
    failed = PredictionFailedError(prediction_id="p1", model=FLUX, message="content moderation")
    jobs = [Job(str(i), FLUX, {"prompt": "x", "seed": i}, axes={"seed": i}) for i in range(3)]
    run = CellRun(AsyncEachLabs(base_url="emulator"), jobs, left_out={1: refused, 2: refused})
    try:
        run.outcomes[0] = failed
        assert run.failure() is failed and not run.all_left_out
        assert run.summary().startswith("3 cells · 1 failed · 2 left out by the budget")
        assert run.result().summary() == "3 cells · 1 run · 1 failed · 2 left out by the budget"
        error = cell_error(failed, 3, 2)
        assert str(error) == (
            "the 1 run sent failed (each one's error is in the grid above); 2 left out by the "
            "budget"
        )
    finally:
        run.close()


def test_the_cards_of_cells_left_out_say_why_before_anything_runs():
    refused = BudgetExceededError(budget=0.035, spent=0.0, reserved=0.03, estimate=0.01, model=FLUX)
    jobs = [Job(str(i), FLUX, {"prompt": "x", "seed": i}, axes={"seed": i}) for i in range(3)]
    run = CellRun(AsyncEachLabs(base_url="emulator"), jobs, left_out={2: refused})
    try:
        card = run.cards[2]
        assert card.status == "not run" and "budget $0.035" in card.detail
        assert run.summary() == "3 cells · 2 queued · 1 left out by the budget · price unknown"
        assert "failed" not in run.summary()
        assert any("2 of 3 cells run" in note for note in run.notes())  # said from the start
        assert budget_note(run.outcomes) == (
            "budget $0.035: 2 of 3 cells run (1 left out, nothing sent for them: their "
            "learned price would pass it)"
        )
    finally:
        run.close()
