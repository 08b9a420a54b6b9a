"""How often to poll a prediction. Pure: the schedule is a function of elapsed time.

Quick first polls catch fast models; the interval then backs off so long runs cost few
requests. Once a model's typical duration is known (learned from earlier predictions in this
process), the schedule sleeps through most of it and polls densely only near the expected end.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

__all__ = ["DurationLearner", "PollSchedule"]


@dataclass(frozen=True)
class PollSchedule:
    """Delays between polls.

    ``first``: the first delay; ``factor``: growth per poll while nothing is known;
    ``max_interval``: the longest single wait; ``dense``: the fraction of the expected duration
    between polls near the expected end (bounded by ``min_interval``).
    """

    first: float = 0.25
    factor: float = 1.5
    min_interval: float = 0.2
    max_interval: float = 5.0
    dense: float = 0.05
    approach: float = 0.85

    def next_delay(self, elapsed: float, polls: int, expected: float | None = None) -> float:
        """Seconds to wait before the next poll, ``polls`` polls and ``elapsed`` s after create."""
        if expected is not None and expected > 0:
            target = expected * self.approach
            if elapsed < target:
                # Sleep towards the expected end, but never overshoot it nor one long wait.
                return max(self.min_interval, min(target - elapsed, self.max_interval * 4))
            near = max(self.min_interval, min(self.max_interval, expected * self.dense))
            if elapsed < expected * 2:
                return near
            # Much later than usual: back off as if nothing were known.
            return self._proportional(elapsed)
        delay = self.first * self.factor**polls
        return max(self.min_interval, min(delay, self._proportional(elapsed)))

    def _proportional(self, elapsed: float) -> float:
        # Never wait longer than a fifth of the time already spent, so a model that ends soon
        # after a long wait is noticed soon.
        return max(self.min_interval, min(self.max_interval, max(self.first, elapsed * 0.2)))


class DurationLearner:
    """Each model's typical duration: an exponentially weighted mean of observed run times."""

    def __init__(self, weight: float = 0.3) -> None:
        self._weight = weight
        self._means: dict[str, float] = {}
        self._lock = threading.Lock()

    def expected(self, model: str) -> float | None:
        with self._lock:
            return self._means.get(model)

    def observe(self, model: str, seconds: float) -> None:
        if seconds <= 0:
            return
        with self._lock:
            old = self._means.get(model)
            self._means[model] = seconds if old is None else old + self._weight * (seconds - old)

    def forget(self) -> None:
        with self._lock:
            self._means.clear()
