"""Cost first: a cell of several predictions says its estimate before anything is created and,
above ``EachGen.confirm_above``, asks (``--yes`` answers; headless, it stops and says so)."""

from __future__ import annotations

import pytest

from eachlabs_widgets._doctor import ask as ask_module
from eachlabs_widgets._notebook.runs import Job
from eachlabs_widgets.magics import EachGenError
from eachlabs_widgets.magics._cost import Estimate, estimate, must_ask

from .conftest import FLUX, NANO


def created(emulator) -> int:
    return emulator.stats.predictions_created


class _Journal:
    def __init__(self, costs: dict[str, list[float]], saved: set[int] = frozenset()) -> None:
        self._costs, self._saved = costs, saved

    def costs(self, model: str, base_url: str) -> list[float]:
        return self._costs.get(model, [])

    def find_reusable(self, model: str, inputs: dict, base_url: str) -> object | None:
        return object() if inputs.get("seed") in self._saved else None


def test_the_estimate_is_the_learned_price_times_the_images_and_reused_cells_are_free():
    jobs = [
        Job("a", "m", {"prompt": "x", "seed": 1}),
        Job("b", "m", {"prompt": "x", "seed": 2, "num_images": 2}),
        Job("c", "m", {"prompt": "x", "seed": 3}),
    ]
    journal = _Journal({"m": [0.01, 0.03, 0.02]}, saved={1})
    cost = estimate(jobs, journal, "u", reuse=True)
    assert cost == Estimate(pytest.approx(0.06), 2, 1)
    assert cost.text == "est. $0.060 (1 reused, $0)"
    assert estimate(jobs, journal, "u", reuse=False).total == pytest.approx(0.08)
    unknown = estimate([*jobs, Job("d", "other", {})], journal, "u", reuse=True)
    assert unknown.total is None and unknown.text == "price unknown (1 reused, $0)"
    assert estimate(jobs, None, "u", reuse=True).text == "price unknown"


def test_a_confirm_is_asked_only_above_the_limit_with_a_known_price():
    asked: list[str] = []

    def ask(question: str) -> bool | None:
        asked.append(question)
        return None

    assert must_ask(Estimate(0.4, 4, 0), 0.5, False, ask, "w") is True
    assert must_ask(Estimate(None, 40, 0), 0.0, False, ask, "w") is True
    assert must_ask(Estimate(0.6, 4, 0), 0.5, True, ask, "w") is True
    assert asked == []
    assert must_ask(Estimate(0.6, 4, 0), 0.5, False, ask, "9 predictions") is None
    assert asked == ["9 predictions: est. $0.600, above EachGen.confirm_above ($0.50). Go on?"]


# -- in a shell, on the emulator -----------------------------------------------------------------


def _learn_a_price(shell) -> float:
    shell.run_cell_magic("eachgen", f"{FLUX} -o t_first", "a price to learn")
    cost = shell.user_ns["t_first"].cost
    assert cost and cost > 0
    return float(cost)


def test_headless_a_cell_above_the_limit_stops_and_says_to_add_yes(shell, emulator):
    price = _learn_a_price(shell)
    shell.run_line_magic("config", f"EachGen.confirm_above = {price * 2}")
    before = created(emulator)
    with pytest.raises(EachGenError) as caught:
        shell.run_cell_magic("eachgen", f"{FLUX} --seed 1,2,3", "a fox")
    assert "add --yes" in str(caught.value) and f"est. ${price * 3:.3f}" in str(caught.value)
    assert "3 predictions of flux-2-turbo-text-to-image" in str(caught.value)
    assert created(emulator) == before  # nothing was sent
    shell.run_cell_magic("eachgen", f"{FLUX} --seed 1,2,3 --yes -o t_r", "a fox")
    assert created(emulator) == before + 3 and len(shell.user_ns["t_r"]) == 3


def test_the_person_is_asked_and_a_no_sends_nothing(shell, emulator, monkeypatch, capsys):
    price = _learn_a_price(shell)
    shell.run_line_magic("config", f"EachGen.confirm_above = {price}")
    questions: list[str] = []
    answers = iter([False, True])

    def ask(question: str) -> bool | None:
        questions.append(question)
        return next(answers)

    monkeypatch.setattr(ask_module, "ask", ask)
    before = created(emulator)
    shell.run_cell_magic("eachgen", f"{FLUX} --image_size square,square_hd -o t_no", "a fox")
    assert created(emulator) == before and "t_no" not in shell.user_ns
    assert "not run: nothing was sent" in capsys.readouterr().out
    shell.run_cell_magic("eachgen", f"{FLUX} --image_size square,square_hd -o t_yes", "a fox")
    assert created(emulator) == before + 2 and len(questions) == 2
    assert questions[0].startswith(f"2 predictions of {FLUX}: est. ${price * 2:.3f}")


def test_nothing_is_asked_while_the_price_is_unknown_or_for_one_prediction(
    shell, emulator, monkeypatch
):
    shell.run_line_magic("config", "EachGen.confirm_above = 0")

    def ask(question: str) -> bool | None:
        raise AssertionError(f"asked: {question}")

    monkeypatch.setattr(ask_module, "ask", ask)
    shell.run_cell_magic("eachgen", f"{NANO} -o t_r", "a cat\n---\na dog")  # price unknown
    assert len(shell.user_ns["t_r"]) == 2
    shell.run_cell_magic("eachgen", f"{FLUX} -o t_one", "a cat")  # one prediction: no estimate
    assert shell.user_ns["t_one"].cost


def test_widening_a_grid_estimates_only_the_new_cells(shell, emulator, monkeypatch):
    price = _learn_a_price(shell)
    shell.run_cell_magic("eachgen", f"{FLUX} --seed 7 --image_size square,square_hd", "a fox")
    shell.run_line_magic("config", "EachGen.confirm_above = 0")
    questions: list[str] = []
    monkeypatch.setattr(ask_module, "ask", lambda q: questions.append(q) or False)
    shell.run_cell_magic(
        "eachgen", f"{FLUX} --seed 7 --image_size square,square_hd,portrait_4_3", "a fox"
    )
    assert questions == [
        f"1 prediction of {FLUX}: est. ${price:.3f} (2 reused, $0), above "
        "EachGen.confirm_above ($0.00). Go on?"
    ]


def test_confirm_above_is_in_usd_and_never_negative(shell):
    with pytest.raises(ValueError, match="cannot be negative"):
        shell.magics_manager.registry["EachGen"].confirm_above = -1
