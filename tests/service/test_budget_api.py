"""The session's budget through the Python API, against the in-process emulator: a create past
it is not sent and raises ``BudgetExceededError``; concurrent calls cannot both pass the last
dollar; a cancel the service confirmed gives its reservation back."""

from __future__ import annotations

import asyncio

import pytest

import eachlabs_widgets as el
from eachlabs_widgets import _settings
from eachlabs_widgets._embedded import shared_emulator
from eachlabs_widgets._service import budget as budget_module
from eachlabs_widgets._service.client import AsyncEachLabs, _model_cache, learner

TURBO = "flux-2-turbo-text-to-image"  # $0.008 an image on the emulator
FLASH = "flux-2-flash-text-to-image"


@pytest.fixture(autouse=True)
def _on_the_emulator(tmp_path, monkeypatch):
    monkeypatch.setenv("EACHLABS_BASE_URL", "emulator")
    monkeypatch.setenv("EACHLABS_EMULATOR_SPEED", "0.01")
    monkeypatch.setenv("EACHLABS_CARD", "0")
    monkeypatch.setenv("EACHLABS_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.delenv("EACHLABS_BUDGET", raising=False)
    monkeypatch.setattr(budget_module, "LEARN_POLL", 0.005)
    emulator = shared_emulator()
    emulator.reset()
    emulator.configure(speed=0.01)
    _model_cache.clear()
    learner.forget()
    _settings.reset_configuration()
    budget_module.session.reset()
    yield emulator
    _settings.reset_configuration()
    budget_module.session.reset()


def created() -> int:
    return shared_emulator().stats.predictions_created


def test_a_generate_past_the_budget_is_not_sent_and_says_budget_spent_and_estimate():
    el.configure(budget=0.01)
    first = el.generate(TURBO, "a red fox")  # price unknown, nothing spent yet: it goes
    price = first.cost
    assert price and budget_module.session.spent == pytest.approx(price)
    before = created()
    with pytest.raises(el.BudgetExceededError) as caught:
        el.generate(TURBO, "a second fox")
    assert created() == before  # nothing was sent
    error = caught.value
    assert error.budget == 0.01 and error.spent == pytest.approx(price)
    assert error.estimate == pytest.approx(price) and error.model == TURBO
    assert f"budget $0.010: ${price:.3f} spent" in str(error)
    # an explicit seed already paid for is reused, for $0: the budget does not stop it
    el.configure(budget=1)
    seeded = el.generate(TURBO, "a fox", seed=7)
    el.configure(budget=0)
    assert el.generate(TURBO, "a fox", seed=7).reused
    assert seeded.cost is not None


def test_a_model_of_unknown_price_runs_only_while_the_spend_is_below_the_budget():
    el.configure(budget=0.005)
    el.generate(TURBO, "spends $0.008, past the budget: its price was unknown")
    with pytest.raises(el.BudgetExceededError) as caught:
        el.generate(FLASH, "a price never seen")
    assert caught.value.estimate is None and "unknown price" in str(caught.value)


def test_concurrent_agenerate_calls_cannot_both_pass_the_last_dollar():
    learned = el.generate(TURBO, "teach the price")
    price = float(learned.cost)
    budget_module.session.reset()  # a new session, the journal keeps the price
    el.configure(budget=price * 2.5)  # room for two

    async def four():
        return await asyncio.gather(
            *(el.agenerate(TURBO, f"fox {i}") for i in range(4)), return_exceptions=True
        )

    before = created()
    outcomes = asyncio.run(four())
    made = [o for o in outcomes if isinstance(o, el.Generation)]
    refused = [o for o in outcomes if isinstance(o, el.BudgetExceededError)]
    assert len(made) == 2 and len(refused) == 2, outcomes
    assert created() == before + 2
    assert budget_module.session.spent == pytest.approx(price * 2)
    assert budget_module.session.reserved == pytest.approx(0)


def test_a_cancelled_run_gives_its_reservation_back(_on_the_emulator):
    emulator = _on_the_emulator
    el.generate(TURBO, "teach the price")
    el.configure(budget=1)
    spent = budget_module.session.spent
    emulator.configure(speed=1)  # slow enough to cancel while it runs

    async def cancel_one():
        client = AsyncEachLabs()
        seen: list[str] = []
        task = asyncio.ensure_future(
            client.run(TURBO, {"prompt": "cancel me"}, on_update=lambda p: seen.append(p.id))
        )
        while not seen:
            await asyncio.sleep(0.01)
        assert budget_module.session.reserved > 0  # held while it runs
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_one())
    assert budget_module.session.reserved == pytest.approx(0)
    assert budget_module.session.spent == pytest.approx(spent)


def test_a_client_may_be_given_a_budget_of_its_own():
    own = budget_module.Budget(0.0, setting="--max-cost")

    async def one():
        return await AsyncEachLabs(budget=own).run(TURBO, {"prompt": "x"})

    with pytest.raises(el.BudgetExceededError, match=r"--max-cost \$0.000"):
        asyncio.run(one())
    assert created() == 0


def test_a_run_left_at_its_timeout_keeps_its_estimate_until_resume_settles_it(_on_the_emulator):
    emulator = _on_the_emulator
    price = float(el.generate(TURBO, "teach the price").cost)
    el.configure(budget=1)
    spent = budget_module.session.spent
    emulator.configure(speed=0.5)
    with pytest.raises(el.PredictionTimeoutError) as caught:
        el.generate(TURBO, "slow", timeout=0.2)
    assert budget_module.session.reserved == pytest.approx(price)  # it may still be billed
    emulator.configure(speed=0.01)
    el.resume(caught.value.prediction_id)
    assert budget_module.session.reserved == pytest.approx(0)
    assert budget_module.session.spent == pytest.approx(spent + price)
