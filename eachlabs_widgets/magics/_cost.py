"""Cost first: what a cell of several predictions will cost, said before anything is created,
and asked about above ``EachGen.confirm_above``.

The catalogue carries no prices: a model's price per image is learned from what the service
reported for earlier runs (``metrics.cost`` per output, kept in the journal), as the batch and
the panel learn it. A cell whose identical run (explicit seed) is saved already costs nothing
for it: it is reused, not paid twice.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import BudgetExceededError
from .._notebook.runs import Job
from .._service.budget import Budget

__all__ = ["Estimate", "estimate", "fit_budget", "must_ask"]


def _images(job: Job) -> int:
    for key in ("num_images", "max_images"):
        value = job.inputs.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return 1


@dataclass(frozen=True)
class Estimate:
    """What the cells to pay for will cost: ``total`` USD (None while a model's price is
    unknown), how many cells are paid for and how many reuse a saved result."""

    total: float | None
    paid: int
    reused: int
    #: Each job's estimate, in order (USD; None while its model's price is unknown).
    each: tuple[float | None, ...] = field(default=(), compare=False)
    #: The jobs that reuse a saved result (they cost nothing and send nothing).
    reusing: frozenset[int] = field(default=frozenset(), compare=False)

    @property
    def text(self) -> str:
        """``est. $0.072`` (``… · 2 reused``), or ``price unknown``."""
        said = "price unknown" if self.total is None else f"est. ${self.total:.3f}"
        return said + (f" ({self.reused} reused, $0)" if self.reused else "")


def estimate(jobs: Sequence[Job], journal: Any, base_url: str, *, reuse: bool) -> Estimate:
    """Learned price × images for each job; with ``reuse``, a job with an explicit seed whose
    identical run is saved counts $0. The journal is a help here, never a requirement: when it
    cannot be read, the price is unknown."""
    prices: dict[str, float | None] = {}
    total: float | None = 0.0
    paid = reused = 0
    each: list[float | None] = []
    reusing: set[int] = set()
    for index, job in enumerate(jobs):
        if reuse and journal is not None and job.inputs.get("seed") is not None:
            try:
                found = journal.find_reusable(job.model, job.inputs, base_url)
            except Exception:  # a file input not uploaded yet, a journal that cannot be read
                found = None
            if found is not None:
                reused += 1
                reusing.add(index)
                each.append(0.0)
                continue
        paid += 1
        if job.model not in prices:
            try:
                costs = journal.costs(job.model, base_url) if journal is not None else []
            except Exception:
                costs = []
            prices[job.model] = statistics.median(costs) if costs else None
        price = prices[job.model]
        each.append(None if price is None else price * _images(job))
        if price is None or total is None:
            total = None
        else:
            total += price * _images(job)
    return Estimate(total, paid, reused, tuple(each), frozenset(reusing))


def fit_budget(
    jobs: Sequence[Job], cost: Estimate, budget: Budget
) -> dict[int, BudgetExceededError]:
    """The cells ``budget`` leaves out before a grid starts, by index, with why: in order,
    each cell to pay for that fits what is left runs (a cell of unknown price runs while the
    spend is below the budget); the others are not sent. Reused cells cost nothing and
    always run. Empty without a budget. A price learned this session wins over the journal's."""
    if budget.limit is None:
        return {}
    paid = [i for i in range(len(jobs)) if i not in cost.reusing]
    estimates: list[float | None] = []
    for i in paid:
        learned = budget.price(jobs[i].model)
        given = cost.each[i] if i < len(cost.each) else None
        estimates.append(given if learned is None else learned * _images(jobs[i]))
    refusals = budget.plan(estimates, [jobs[i].model for i in paid])
    return {i: refused for i, refused in zip(paid, refusals, strict=True) if refused is not None}


def must_ask(
    cost: Estimate, limit: float, yes: bool, ask: Callable[[str], bool | None], what: str
) -> bool | None:
    """Whether the run may go: True when no confirm is needed (``yes``, the price unknown,
    within ``limit`` USD) or the person said yes; False when they said no; None when a confirm
    is needed and no one can answer (a headless run)."""
    if yes or cost.total is None or cost.total <= limit:
        return True
    return ask(f"{what}: {cost.text}, above EachGen.confirm_above (${limit:.2f}). Go on?")
