"""``%config EachGen.budget`` in a real ipykernel, against the emulator served on loopback: a
sweep is cut to the cells that fit, its text output and the cards of the cells left out say so,
and the session's spend is shown against the budget."""

from __future__ import annotations

import json

import pytest

from eachlabs_widgets._service.budget import usd

from ..kernel_driver import shown_text, statuses, widget_states
from .conftest import FLUX, kernel_on_emulator

pytestmark = pytest.mark.kernel


served = kernel_on_emulator("kernel-budget", speed=0.05)


def test_a_sweep_past_the_budget_runs_the_cells_that_fit_and_says_what_it_left_out(served):
    emulator, kernel = served
    kernel.execute(f"%%eachgen {FLUX} --seed 9999 -o first\na price to learn\n")
    price, spent = json.loads(
        kernel.execute(
            "import json\nfrom eachlabs_widgets._service.budget import session\n"
            "print(json.dumps([first.cost, session.spent]))"
        )
    )
    assert price > 0 and spent == pytest.approx(price)
    limit = round(spent + price * 2.5, 4)
    kernel.execute(f"%config EachGen.budget = {limit}")
    before = emulator.stats.predictions_created
    reply, messages = kernel.run(f"%%eachgen {FLUX} --seed 1,2,3,4,5 -o g\na red fox\n", 60)
    assert reply["status"] == "ok", reply
    assert emulator.stats.predictions_created == before + 2  # nothing sent for the other three
    text = shown_text(messages)
    assert f"budget {usd(limit)}: 2 of 5 cells run (3 left out" in text
    header = json.dumps("5 cells · 2 run · 3 left out by the budget · total $")[1:-1]
    assert header in text  # (the text holds the outputs as JSON)
    assert "failed" not in text  # nothing sent for them: never counted as failed
    assert f"this session: {usd(spent + 2 * price)} of {usd(limit)} budget" in text
    # the cards of the cells left out said so while the others ran
    cards = [str(state.get("value", "")) for _, state in widget_states(messages)]
    said = [c for c in cards if f"budget {usd(limit)}: {usd(spent)} spent" in c]
    assert said and all("nothing was sent" in c for c in said)
    assert statuses(messages).count("not run") >= 3
    kinds = json.loads(kernel.execute("print(json.dumps([type(x).__name__ for _, x in g.items]))"))
    assert kinds == ["Generation"] * 2 + ["BudgetExceededError"] * 3
