"""A spending limit in USD: what creates may still spend, from the costs the service reported.

One mechanism for the session's budget (``configure(budget=)``, ``EACHLABS_BUDGET``,
``EachGen.budget``: :data:`session`, per process) and the batch's ``--max-cost`` (a
:class:`Budget` of its own, per batch run).

- A create reserves its estimate (the learned price per image × the images asked) before it
  is sent, so that runs racing for the last dollar cannot both pass it; one that would take
  ``spent + reserved`` past the limit is refused (:class:`BudgetExceededError`).
- A run whose price is unknown is let through only while ``spent + reserved`` is below the
  limit, and, under a limit, one at a time per model: the first one's reported cost teaches
  the price the others are then held to (a sweep of unknown price cannot all start at $0).
- When a run ends its reservation is settled with what the service reported
  (``metrics.cost``, API.md "Poll"; a cancel the service confirmed is ``0``: "a cancelled
  prediction is never billed", API.md "Endpoints"). A run whose outcome is not known (left
  running at a timeout, a cancel not confirmed) keeps its estimate reserved: it may be billed.

Pure bookkeeping: no I/O, no upward imports. Safe across threads and event loops (the
synchronous API runs its own loop): a plain lock guards the sums, and a run waiting for a price
polls rather than awaiting an ``asyncio`` primitive bound to one loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._exceptions import BudgetExceededError
from .._settings import budget as _configured_budget

__all__ = ["Budget", "Reservation", "images_of", "session", "usd"]

#: How often a run of unknown price checks whether the run ahead of it has taught the price.
LEARN_POLL = 0.05
#: Sums of floats: a run that fits to the cent is not refused for a rounding error.
EPSILON = 1e-9


def images_of(inputs: Mapping[str, Any]) -> int:
    """How many images ``inputs`` ask for (``num_images``/``max_images``/``num_outputs``,
    else 1): what a run is charged for."""
    for key in ("num_images", "max_images", "num_outputs"):
        value = inputs.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return 1


def usd(dollars: float) -> str:
    """``$0.035`` below a dime (prices of an image are cents), ``$1.20`` above: as the
    budget's refusals say it."""
    return f"${dollars:.3f}" if dollars < 0.1 else f"${dollars:.2f}"


def _dollars(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return float(value)


class Reservation:
    """One run's hold on a budget, from before its create until it ends.

    ``estimate`` is the USD held (``0.0`` while the price is unknown). :meth:`settle` ends it
    once, with the reported cost; later calls do nothing.
    """

    def __init__(self, budget: Budget, model: str, images: int, estimate: float | None) -> None:
        self.budget = budget
        self.model = model
        self.images = images
        self.estimate = estimate
        self.learning = False  # the run of unknown price others of its model wait for
        self.settled = False
        #: The prediction it paid for, once created: an outcome learned later settles it.
        self.prediction_id: str | None = None

    def settle(self, cost: Any) -> None:
        """End the hold with ``cost``, the ``metrics.cost`` the service reported (USD): it is
        added to what was spent and teaches the price per image. ``None`` (the outcome is not
        known: it may still be billed) keeps the estimate reserved until
        :meth:`Budget.ended` is told how its prediction ended."""
        self.budget._settle(self, _dollars(cost))

    def release(self) -> None:
        """End the hold of a run that was never created (nothing was spent)."""
        self.budget._settle(self, 0.0)


class Budget:
    """A limit in USD on what runs may spend: reported costs plus the estimates in flight.

    ``limit`` is a number, ``None`` (no limit: spend is still counted) or a function giving
    either, read at each create (the session's follows the settings). ``setting`` names it in
    messages (``budget``, ``--max-cost``).
    """

    def __init__(
        self,
        limit: float | Callable[[], float | None] | None = None,
        *,
        setting: str = "budget",
    ) -> None:
        self._limit = limit
        self.setting = setting
        #: USD the service reported for the runs settled here.
        self.spent = 0.0
        #: USD held by the runs in flight.
        self.reserved = 0.0
        #: Runs whose reported cost was counted.
        self.counted = 0
        self._prices: dict[str, float] = {}
        self._learning: dict[str, Reservation] = {}
        self._held: dict[str, Reservation] = {}  # by prediction id: outcome not known yet
        self._lock = threading.Lock()
        self._listeners: list[weakref.ref[Any] | Callable[[], Any]] = []

    @property
    def limit(self) -> float | None:
        """The limit in USD now, ``None`` for none."""
        value = self._limit() if callable(self._limit) else self._limit
        return None if value is None else float(value)

    @property
    def left(self) -> float | None:
        """USD that may still be reserved (``None``: no limit)."""
        limit = self.limit
        return None if limit is None else max(0.0, limit - self.spent - self.reserved)

    def price(self, model: str) -> float | None:
        """The price per image of ``model`` learned from the runs settled here."""
        return self._prices.get(model)

    def describe(self) -> str:
        """``$0.12 of $1.00 budget``, ``$0.024 of $0.035 budget`` (``$0.12 spent`` without a
        limit)."""
        limit = self.limit
        said = usd(self.spent)
        if limit is None:
            return f"{said} spent"
        return f"{said} of {usd(limit)} {self.setting}"

    # -- before anything is sent ----------------------------------------------------------

    def refusal(
        self, estimate: float | None, model: str | None = None, *, held: float = 0.0
    ) -> BudgetExceededError | None:
        """Why a run estimated at ``estimate`` USD (``None``: unknown) may not be sent now, on
        top of ``held`` USD more; ``None`` when it may."""
        limit = self.limit
        if limit is None:
            return None
        used = self.spent + self.reserved + held
        fits = used < limit if estimate is None else used + estimate <= limit + EPSILON
        if fits:
            return None
        return BudgetExceededError(
            budget=limit,
            spent=self.spent,
            reserved=self.reserved + held,
            estimate=estimate,
            model=model,
            setting=self.setting,
        )

    def plan(
        self, estimates: Sequence[float | None], models: Sequence[str | None] = ()
    ) -> list[BudgetExceededError | None]:
        """For runs about to start together, in order: ``None`` for each that fits what is
        left, the refusal of each that does not (each admitted one counts against the next;
        one of unknown price counts $0 but is refused once the spend reached the limit).

        A preview, so that a grid can say what it leaves out before it starts; each run
        still reserves when it is created (:meth:`reserve`)."""
        held = 0.0
        said: list[BudgetExceededError | None] = []
        for index, estimate in enumerate(estimates):
            model = models[index] if index < len(models) else None
            refused = self.refusal(estimate, model, held=held)
            if refused is None and estimate is not None:
                held += estimate
            said.append(refused)
        return said

    async def reserve(self, model: str, images: int, price: float | None = None) -> Reservation:
        """Hold the estimate of a run of ``model`` making ``images`` images before it is sent.

        ``price`` is the price per image known elsewhere (the journal's); one learned here
        wins. Under a limit, a run of unknown price waits while another of its model is out
        learning it. Raises :class:`BudgetExceededError` when the run does not fit.
        """
        while True:
            with self._lock:
                known = self._prices.get(model, price)
                estimate = None if known is None else known * images
                limit = self.limit
                if limit is not None and estimate is None and model in self._learning:
                    waiting = True
                else:
                    waiting = False
                    refused = self.refusal(estimate, model)
                    if refused is not None:
                        raise refused
                    reservation = Reservation(self, model, images, estimate)
                    self.reserved += estimate or 0.0
                    if limit is not None and estimate is None:
                        reservation.learning = True
                        self._learning[model] = reservation
            if not waiting:
                return reservation
            await asyncio.sleep(LEARN_POLL)

    # -- when a run ends ------------------------------------------------------------------

    def _settle(self, reservation: Reservation, cost: float | None) -> None:
        with self._lock:
            if reservation.settled:
                return
            if cost is None:  # may still be billed: the estimate stays held
                reservation.settled = True
                self._stop_learning(reservation)
                if reservation.prediction_id is not None:
                    self._held[reservation.prediction_id] = reservation
                return
            reservation.settled = True
            self.reserved = max(0.0, self.reserved - (reservation.estimate or 0.0))
            self.spent += cost
            self.counted += 1
            # A zero is the cost of a failure or a cancel, not a price.
            if cost > 0 and reservation.images > 0:
                self._prices[reservation.model] = cost / reservation.images
            self._stop_learning(reservation)
        self._tell()

    def ended(self, prediction_id: str, cost: Any) -> None:
        """A prediction whose run ended without knowing its outcome (left running at a
        timeout, a cancel not confirmed) ended after all: its held estimate is settled with
        ``cost`` (USD reported; ``0`` for a failure or a confirmed cancel). Does nothing for
        a prediction not held here, or while ``cost`` is unknown."""
        dollars = _dollars(cost)
        with self._lock:
            if dollars is None or prediction_id not in self._held:
                return
            reservation = self._held.pop(prediction_id)
            reservation.settled = False
        self._settle(reservation, dollars)

    def _stop_learning(self, reservation: Reservation) -> None:
        if self._learning.get(reservation.model) is reservation:
            del self._learning[reservation.model]

    def reset(self) -> None:
        """Forget what was spent, reserved and learned (a new session)."""
        with self._lock:
            self.spent = self.reserved = 0.0
            self.counted = 0
            self._prices.clear()
            self._learning.clear()
            self._held.clear()
        self._tell()

    # -- who shows it ---------------------------------------------------------------------

    def on_change(self, listener: Callable[[], Any]) -> None:
        """Call ``listener()`` after each settled run. A bound method is held weakly (a
        closed panel is not kept alive by the session's budget)."""
        try:
            self._listeners.append(weakref.WeakMethod(listener))
        except TypeError:
            self._listeners.append(listener)

    def _tell(self) -> None:
        for item in list(self._listeners):
            listener = item() if isinstance(item, weakref.WeakMethod) else item
            if listener is None:
                self._listeners.remove(item)
                continue
            # Whoever shows the spend must never cost a run its result.
            with contextlib.suppress(Exception):
                listener()


#: The session's budget: every create of this process reserves against it; its limit follows
#: ``configure(budget=)``, ``EachGen.budget`` and ``EACHLABS_BUDGET``.
session = Budget(_configured_budget)
