"""The budget mechanism on its own: reservations before a create, under concurrency; runs of
unknown price; settling with the reported cost; the session's limit from the settings."""

from __future__ import annotations

import asyncio

import pytest

from eachlabs_widgets import _settings
from eachlabs_widgets._exceptions import BudgetExceededError, ConfigurationError, EachLabsError
from eachlabs_widgets._service import budget as budget_module
from eachlabs_widgets._service.budget import Budget, images_of


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    monkeypatch.delenv("EACHLABS_BUDGET", raising=False)
    monkeypatch.setattr(budget_module, "LEARN_POLL", 0.001)
    _settings.reset_configuration()
    yield
    _settings.reset_configuration()


async def _try(budget: Budget, model: str, images: int, price: float | None):
    try:
        return await budget.reserve(model, images, price)
    except BudgetExceededError as exc:
        return exc


def test_concurrent_creates_reserve_before_sending_and_only_what_fits_passes():
    budget = Budget(0.03)

    async def race():
        return await asyncio.gather(*(_try(budget, "m", 1, 0.01) for _ in range(5)))

    held = asyncio.run(race())
    passed = [r for r in held if not isinstance(r, BudgetExceededError)]
    refused = [r for r in held if isinstance(r, BudgetExceededError)]
    assert len(passed) == 3 and len(refused) == 2
    assert budget.reserved == pytest.approx(0.03) and budget.spent == 0
    assert refused[0].estimate == pytest.approx(0.01) and refused[0].reserved == pytest.approx(0.03)
    for reservation in passed:
        reservation.settle(0.01)
    assert budget.spent == pytest.approx(0.03) and budget.reserved == pytest.approx(0)
    assert budget.counted == 3


def test_two_runs_racing_for_the_last_dollar_do_not_both_pass():
    budget = Budget(1.0)
    first = asyncio.run(budget.reserve("m", 1, 0.5))
    first.settle(0.5)

    async def race():
        return await asyncio.gather(_try(budget, "m", 1, 0.5), _try(budget, "m", 1, 0.5))

    one, two = asyncio.run(race())
    assert [isinstance(r, BudgetExceededError) for r in (one, two)].count(True) == 1


def test_a_run_fitting_to_the_cent_is_not_refused_for_a_rounding_error():
    budget = Budget(0.3)
    for _ in range(3):
        asyncio.run(budget.reserve("m", 1, 0.1)).settle(0.1)
    assert budget.spent == pytest.approx(0.3)
    with pytest.raises(BudgetExceededError):
        asyncio.run(budget.reserve("m", 1, 0.1))


def test_runs_of_unknown_price_go_one_at_a_time_and_are_held_to_the_price_learned():
    budget = Budget(0.02)

    async def scenario():
        learner = await budget.reserve("m", 1)  # price unknown: spend $0 < $0.02, it goes
        assert learner.estimate is None and learner.learning
        waiting = asyncio.ensure_future(_try(budget, "m", 1, None))
        await asyncio.sleep(0.02)
        assert not waiting.done()  # held back while the first one learns the price
        learner.settle(0.015)
        return await waiting

    refused = asyncio.run(scenario())
    assert isinstance(refused, BudgetExceededError)
    assert refused.estimate == pytest.approx(0.015)  # the price the first one taught
    assert budget.price("m") == pytest.approx(0.015)


def test_a_run_of_unknown_price_goes_only_while_the_spend_is_below_the_budget():
    budget = Budget(0.01)
    asyncio.run(budget.reserve("a", 1)).settle(0.012)  # unknown, admitted at $0 spent
    with pytest.raises(BudgetExceededError) as caught:
        asyncio.run(budget.reserve("b", 1))  # another model, still of unknown price
    assert caught.value.estimate is None and caught.value.spent == pytest.approx(0.012)
    assert "unknown price" in str(caught.value)


def test_a_learner_that_failed_lets_the_next_one_learn():
    budget = Budget(1.0)

    async def scenario():
        first = await budget.reserve("m", 1)
        second = asyncio.ensure_future(budget.reserve("m", 1))
        await asyncio.sleep(0.01)
        assert not second.done()
        first.settle(0)  # a failure costs 0: not a price
        nxt = await second
        return nxt

    nxt = asyncio.run(scenario())
    assert nxt.learning and nxt.estimate is None and budget.price("m") is None


def test_settling_a_cancel_releases_and_an_unknown_outcome_keeps_the_estimate_held():
    budget = Budget(0.05)
    cancelled = asyncio.run(budget.reserve("m", 2, 0.01))
    left_running = asyncio.run(budget.reserve("m", 1, 0.01))
    assert budget.reserved == pytest.approx(0.03)
    cancelled.settle(0)  # the service said cancelled: never billed
    cancelled.settle(0.5)  # settled once: later calls change nothing
    assert budget.reserved == pytest.approx(0.01) and budget.spent == 0
    left_running.settle(None)  # may still be billed: held
    assert budget.reserved == pytest.approx(0.01)
    never_sent = asyncio.run(budget.reserve("m", 1, 0.01))
    never_sent.release()
    assert budget.reserved == pytest.approx(0.01) and budget.counted == 2


def test_the_price_is_learned_per_image_and_wins_over_the_given_one():
    budget = Budget(1.0)
    asyncio.run(budget.reserve("m", 4, 0.1)).settle(0.08)  # 4 images for $0.08
    assert budget.price("m") == pytest.approx(0.02)
    again = asyncio.run(budget.reserve("m", 2, 0.5))
    assert again.estimate == pytest.approx(0.04)


def test_without_a_limit_spend_is_counted_and_nothing_waits_or_is_refused():
    budget = Budget(None)

    async def many():
        return await asyncio.gather(*(budget.reserve("m", 1) for _ in range(20)))

    held = asyncio.run(many())
    assert not any(r.learning for r in held)
    for r in held:
        r.settle(0.5)
    assert budget.spent == pytest.approx(10.0) and budget.describe() == "$10.00 spent"


def test_a_plan_admits_in_order_what_fits_and_says_why_of_the_rest():
    budget = Budget(0.035)
    said = budget.plan([0.01, 0.01, 0.01, 0.01, 0.01], ["m"] * 5)
    assert [s is None for s in said] == [True, True, True, False, False]
    assert isinstance(said[3], BudgetExceededError) and said[3].reserved == pytest.approx(0.03)
    unknown = Budget(0.01).plan([None, None])
    assert unknown == [None, None]  # the spend is below: both may go (they learn one by one)
    assert Budget(None).plan([5.0, 5.0]) == [None, None]


def test_the_refusal_says_budget_spent_and_estimate():
    budget = Budget(0.035)
    asyncio.run(budget.reserve("m", 1, 0.02)).settle(0.02)
    with pytest.raises(BudgetExceededError) as caught:
        asyncio.run(budget.reserve("flux", 1, 0.02))
    error = caught.value
    assert isinstance(error, EachLabsError)
    assert (error.budget, error.model) == (0.035, "flux")
    text = str(error)
    assert "budget $0.035" in text and "$0.020 spent" in text and "$0.020" in text
    assert "flux" in text and "nothing was sent" in text
    assert budget.describe() == "$0.020 of $0.035 budget"


def test_listeners_hear_each_settled_run_and_a_dead_one_is_dropped():
    budget = Budget(1.0)
    heard: list[float] = []

    class Panel:
        def show(self) -> None:
            heard.append(budget.spent)

    panel = Panel()
    budget.on_change(panel.show)
    asyncio.run(budget.reserve("m", 1, 0.1)).settle(0.1)
    del panel
    asyncio.run(budget.reserve("m", 1, 0.1)).settle(0.1)
    assert heard == [pytest.approx(0.1)]


def test_images_of_reads_the_counts_models_take():
    assert images_of({"num_images": 3}) == 3
    assert images_of({"max_images": 2}) == 2
    assert images_of({"num_images": True, "prompt": "x"}) == 1


# -- the session's limit ---------------------------------------------------------------------


def test_the_session_limit_follows_configure_then_the_environment(monkeypatch):
    session = budget_module.session
    assert session.limit is None
    monkeypatch.setenv("EACHLABS_BUDGET", "$2.50")
    assert session.limit == 2.5
    _settings.configure(budget=1)
    assert session.limit == 1.0
    _settings.configure(budget=float("inf"))  # lifts it, the environment's too
    assert session.limit is None
    _settings.reset_configuration()
    monkeypatch.setenv("EACHLABS_BUDGET", "lots")
    with pytest.raises(ConfigurationError, match="EACHLABS_BUDGET"):
        _ = session.limit
    with pytest.raises(ConfigurationError, match="budget"):
        _settings.configure(budget=-1)


def test_a_held_estimate_is_settled_when_its_prediction_is_known_to_have_ended():
    budget = Budget(1.0)
    held = asyncio.run(budget.reserve("m", 1, 0.1))
    held.prediction_id = "p1"
    held.settle(None)  # left running: may still be billed
    assert budget.reserved == pytest.approx(0.1)
    budget.ended("p1", None)  # still not known: stays held
    budget.ended("other", 0.5)  # not held here: nothing changes
    assert budget.reserved == pytest.approx(0.1) and budget.spent == 0
    budget.ended("p1", 0.12)
    assert budget.reserved == pytest.approx(0) and budget.spent == pytest.approx(0.12)
    budget.ended("p1", 0.12)  # once
    assert budget.spent == pytest.approx(0.12)
