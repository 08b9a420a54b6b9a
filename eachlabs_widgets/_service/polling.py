"""When to poll a prediction, and how long each model's predictions are likely to run.

Two parts, both without I/O:

- :class:`DurationLearner` keeps, per ``(service, model)``, the last observed durations and
  turns them into a *support*: the interval where the next prediction of that model will most
  likely end (the 10th to 90th percentile of a lognormal fitted with a weak prior on its
  spread). A sleeper may ask to be woken when a prediction of the same model ends, so the
  predictions already running re-plan with what it taught.
- :class:`PollSchedule` says when the next poll should go out: for a model with a support,
  polls ``spacing`` apart across it (first at its start) and backing off beyond it; for a
  model with nothing learned, a first poll after ``first`` seconds, then every
  ``unknown_spacing`` seconds, backing off in proportion to the time already spent.

Why this shape: for a pooled 90th percentile of lag at a fixed poll budget, constant spacing
where a model's durations are dense and nothing elsewhere beats both geometric backoff and
polls at equal-probability quantiles (measured and simulated in the project's polling study).

Why these numbers: a simulation of the batch benchmark (40 predictions over 8 models, durations
0.6-6 s, a cap of 10), checked against the benchmark itself. Against a fixed 0.1 s poller,
spacing 0.085 s across the support and 0.17 s while unknown, each plus the poll's round trip
(as the fixed poller's period is 0.1 s plus it), give about the same 90th percentile of lag
on a first run at under half its polls (0.46x; 0.15 s gave 0.50x, with no margin), and about
0.9x at under a third of its polls once learned, whether a poll answers in 10 ms or 40 ms
(0.12 s and 0.22 s without the round trip gave 1.17x on a first run; a fixed grid's ratios
drift with the round trip). Past the support the gap grows with how overdue the prediction
is, not with its whole age: an end just after the support is the common case and is seen
within about one spacing.

Why a crowd widens the spacing: every poll costs the client CPU (a request, its answer's
parsing, the loop's turns), and at 100 predictions in flight a 0.1 s spacing is a thousand
polls a second, which makes the client itself the bottleneck. Beyond ``crowd_free``
predictions polled at once, both spacings grow with the crowd over it to the power
``crowd_exponent`` (0.75: 0.085 s becomes about 0.48 s at 100): each prediction is seen a
little later, but the client keeps up, and the wall time of a large batch stays within 15% of a
zero-overhead schedule (the scale part of the batch benchmark: 1,000 predictions of 3-5 s at
100 in flight). Measured there, three runs each: the square root (0.5) gave 4.7 polls per
prediction, 20.2 ms of client CPU and 1.08x the schedule; 0.9 gave 2.8 polls, 17.6 ms, 1.13x
(about 1.4 ms of CPU per poll, a 0.01x wall per 0.1 of exponent); 0.75 sits between, with
room left under 1.15x on a loaded machine. For the same reason, the end of a prediction wakes the
others of its model to re-plan only while that model's durations are still being learned.
And under a crowd the grid over a support starts half the crowd's widening past its start: a
poll at the support's start finds a tenth ended, and at a wide spacing the grid's offset moves
the mean lag little (a uniform 3-5 s model at a 0.53 s spacing, simulated: 3.0 polls and
0.27 s of mean lag from the start, 2.5 polls and 0.26 s half a spacing later).

When more predictions of a model nothing is known of run at once than ``crowd_free``, only
that many poll to find out how long it takes (:meth:`DurationLearner.enlist`); the others poll
every ``max_interval`` and are woken by the first end seen, then poll across what it taught:
at 100 predictions of a new 3-5 s model started at once, polls at 1 s and 2 s that could only
answer "processing" are spared (the first hundred polled 2.3 times each instead of 4.9).

A prediction that stays ``created`` is held in the provider's queue (API.md, "Poll"): past
``queued_after`` seconds its polls back off like an unknown model's long phase.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

__all__ = ["DurationLearner", "PollSchedule", "Support", "observed_duration"]

#: ``(lo, hi)``: seconds after the create's answer between which an end is likely.
Support = tuple[float, float]
Key = tuple[str, str]  # (base_url, model)
#: The most a slow answer adds to the spacing (seconds).
MAX_ROUND_TRIP = 1.0


@dataclass(frozen=True)
class PollSchedule:
    """When to poll. All values in seconds.

    ``spacing``: the gap between polls across a model's learned support (the one knob for
    responsiveness: polls grow as 1/spacing); ``unknown_spacing``: the gap while nothing is
    known; ``first``: the first poll of an unknown model (none right after the create: it
    would always answer "starting"); ``unknown_growth``: the gap as a fraction of the elapsed
    time while unknown; ``beyond``: the same once the unknown phase is long past;
    ``overdue_growth``: past a learned support, how much the gap grows per second overdue
    (the gap is ``spacing + overdue_growth * overdue``); ``relative_spacing``: the least
    spacing across a support, as a fraction of where it starts;
    ``brisk_until``: how long the unknown phase keeps its brisk growth before backing off like
    ``beyond`` (the first run of a 5-minute model need not poll every quarter second);
    ``min_interval``: the shortest gap between two polls; ``max_interval``: the longest gap
    when backing off (sleeping towards a learned support may take up to 4x that);
    ``crowd_free``: how many predictions may be polled at once before the spacings widen (by
    the crowd over it to the power ``crowd_exponent``); ``queued_after``: how long a prediction may stay
    ``created`` before its polls back off.
    """

    spacing: float = 0.085
    unknown_spacing: float = 0.17
    first: float = 0.5
    unknown_growth: float = 0.04
    brisk_until: float = 6.0
    beyond: float = 0.1
    overdue_growth: float = 0.25
    relative_spacing: float = 0.02
    min_interval: float = 0.05
    max_interval: float = 5.0
    crowd_free: int = 10
    crowd_exponent: float = 0.75
    queued_after: float = 10.0

    def next_poll(
        self,
        elapsed: float,
        last_poll: float | None,
        support: Support | None,
        round_trip: float = 0.0,
        crowd: int = 1,
        queued: bool = False,
        held: bool = False,
    ) -> float:
        """The elapsed time (seconds after the create's answer) at which to poll next.

        ``elapsed``: now; ``last_poll``: when the last poll went out (``None`` before the
        first); ``support``: the model's learned support, or ``None``; ``round_trip``: how long
        a poll takes to answer lately (seconds), added to both spacings, as a fixed poller's
        period is its sleep plus its round trip: polls are not sent faster than answers come,
        and the cost in polls stays the same when the service or the machine is slow. Never
        before ``elapsed``. ``crowd``: how many predictions this process polls at once;
        ``queued``: the last answer said ``created`` (still in the provider's queue);
        ``held``: with nothing learned, others of the same model are finding out how long it
        takes (see :meth:`DurationLearner.enlist`): poll only every ``max_interval``, and be
        woken by the first end they see.
        """
        round_trip = _clamp(round_trip, 0.0, MAX_ROUND_TRIP)
        widen = max(1.0, crowd / self.crowd_free) ** self.crowd_exponent
        s = self.spacing * widen + round_trip
        unknown = self.unknown_spacing * widen + round_trip
        if queued and last_poll is not None and elapsed >= self.queued_after:
            # Held by the provider: nothing will end soon; back off with the time spent.
            gap = _clamp(self.beyond * elapsed, unknown, self.max_interval)
            return max(last_poll + gap, elapsed)
        if support is None and held:
            target = (last_poll if last_poll is not None else 0.0) + self.max_interval
        elif support is None:
            if last_poll is None:
                target = max(self.first, unknown)
            else:
                growth = self.unknown_growth if elapsed <= self.brisk_until else self.beyond
                gap = _clamp(growth * elapsed, unknown, self.max_interval)
                target = last_poll + gap
        else:
            lo, hi = support
            # A minute-long model need not be polled ten times a second across its support.
            s = max(s, self.relative_spacing * lo + round_trip)
            # Under a crowd the grid starts half its widening late: a poll at the support's
            # very start finds few ended, and there each poll costs more than the lag it saves.
            lo += (s - max(self.spacing + round_trip, self.relative_spacing * lo + round_trip)) / 2
            if last_poll is None or last_poll < lo - s / 2:
                target = lo  # sleep to where ends begin
            else:
                target = lo + (round((last_poll - lo) / s) + 1) * s
            if target < elapsed:  # re-planned while asleep: the next grid point from now
                target = lo + math.ceil((elapsed - lo) / s) * s
            if target > hi + s / 2:  # later than usual: back off, gently at first
                base = last_poll if last_poll is not None else elapsed
                overdue = max(0.0, elapsed - hi)
                target = base + _clamp(s + self.overdue_growth * overdue, s, self.max_interval)
            reference = last_poll if last_poll is not None else 0.0
            target = min(target, reference + 4 * self.max_interval)
        if last_poll is not None:
            target = max(target, last_poll + self.min_interval)
        return max(target, elapsed)


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def observed_duration(predict_time: object, running_until: float, ended_by: float) -> float:
    """How long a prediction ran, from what its polls saw.

    ``running_until``: when the last poll that saw it running went out (seconds after the
    create's answer; 0 if none did); ``ended_by``: when the answer that showed the end came.
    The service's ``metrics.predict_time`` is used when it is a number, clamped to that
    interval (it may count only model time, not queueing); otherwise the interval's midpoint.
    """
    low, high = max(0.0, running_until), max(running_until, ended_by)
    if isinstance(predict_time, int | float) and not isinstance(predict_time, bool):
        seconds = float(predict_time)
        if math.isfinite(seconds) and seconds > 0:
            return _clamp(seconds, low, high)
    return (low + high) / 2


class DurationLearner:
    """Observed durations per ``(base_url, model)``, and the support they imply.

    Thread-safe; sleepers on any event loop are woken with ``call_soon_threadsafe``.
    ``prior_sigma``: the typical spread of a model's log-duration before any is seen, worth
    ``prior_n`` samples; ``quantiles``: the support's ends.
    """

    def __init__(
        self,
        keep: int = 50,
        prior_sigma: float = 0.2,
        prior_n: float = 2.0,
        quantiles: tuple[float, float] = (0.1, 0.9),
        wake_until: int = 10,
    ) -> None:
        self._keep = keep
        self._wake_until = wake_until
        self._supports: dict[Key, Support] = {}
        self._versions: dict[Key, int] = {}  # bumped by each change of a key's samples
        #: Predictions being polled in this process right now (see :meth:`polling`).
        self.crowd = 0
        self._prior_sigma = prior_sigma
        self._prior_n = prior_n
        self._quantiles = quantiles
        self._samples: dict[Key, deque[float]] = {}
        self._seeded: set[Key] = set()
        self._sleepers: dict[Key, list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]]] = {}
        self._round_trips: dict[str, deque[float]] = {}
        self._scouts: dict[Key, int] = {}
        self._lock = threading.Lock()

    # -- what is known --------------------------------------------------------------------

    def observe(self, model: str, seconds: float, base_url: str = "") -> None:
        """Record one duration; wakes the sleepers waiting on this model."""
        if not (seconds > 0 and math.isfinite(seconds)):
            return
        key = (base_url, model)
        with self._lock:
            samples = self._samples.setdefault(key, deque(maxlen=self._keep))
            samples.append(float(seconds))
            self._changed(key)
            # Re-planning every sleeper on every end costs O(crowd) per end; once a model's
            # durations are known, one more changes its support little.
            learning = len(samples) <= self._wake_until
            sleepers = self._sleepers.pop(key, []) if learning else []
        for loop, future in sleepers:
            if not loop.is_closed():
                loop.call_soon_threadsafe(_wake, future)

    def seed(self, model: str, base_url: str, durations: Iterable[float]) -> None:
        """Durations recorded earlier (oldest first), taken once per process for each key."""
        key = (base_url, model)
        with self._lock:
            if key in self._seeded:
                return
            self._seeded.add(key)
            known = self._samples.setdefault(key, deque(maxlen=self._keep))
            earlier = [float(d) for d in durations if d > 0 and math.isfinite(d)]
            # Earlier runs go before what this process saw already.
            combined = [*earlier, *known][-self._keep :]
            known.clear()
            known.extend(combined)
            self._changed(key)

    def learning(self, model: str, base_url: str) -> bool:
        """Whether an end of ``model`` still wakes its sleepers (few durations known yet)."""
        with self._lock:
            return len(self._samples.get((base_url, model), ())) < self._wake_until

    def is_seeded(self, model: str, base_url: str) -> bool:
        with self._lock:
            return (base_url, model) in self._seeded

    def samples(self, model: str, base_url: str = "") -> list[float]:
        with self._lock:
            return list(self._samples.get((base_url, model), ()))

    def expected(self, model: str, base_url: str | None = None) -> float | None:
        """The median duration of ``model`` (on ``base_url``, or wherever it was last seen)."""
        with self._lock:
            if base_url is not None:
                found = self._samples.get((base_url, model))
            else:
                found = next((s for (_, m), s in self._samples.items() if m == model and s), None)
            return statistics.median(found) if found else None

    def support(self, model: str, base_url: str = "") -> Support | None:
        """Where the next prediction of ``model`` will likely end, or ``None`` if unknown."""
        key = (base_url, model)
        with self._lock:
            known = self._supports.get(key)
            if known is not None:  # asked before every poll: computed once per new duration
                return known
            version = self._versions.get(key, 0)
            samples = list(self._samples.get(key, ()))
        if not samples:
            return None
        mu, scale, dof = _lognormal_predictive(samples, self._prior_sigma, self._prior_n)
        lo_q, hi_q = self._quantiles
        support = (
            math.exp(mu + scale * _t_quantile(lo_q, dof)),
            math.exp(mu + scale * _t_quantile(hi_q, dof)),
        )
        with self._lock:
            if self._versions.get(key, 0) == version:
                self._supports[key] = support
        return support

    def _changed(self, key: Key) -> None:
        """``key``'s samples changed (the lock is held): its support is computed again."""
        self._versions[key] = self._versions.get(key, 0) + 1
        self._supports.pop(key, None)

    # -- waking sleepers ------------------------------------------------------------------

    async def sleep(
        self,
        model: str,
        base_url: str,
        seconds: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> bool:
        """Sleep ``seconds`` (with ``sleep``), or less if a prediction of ``model`` ends first.

        Returns True when woken early by such an end.
        """
        loop = asyncio.get_running_loop()
        woken: asyncio.Future[None] = loop.create_future()
        key = (base_url, model)
        with self._lock:
            self._sleepers.setdefault(key, []).append((loop, woken))
        timer = asyncio.ensure_future(sleep(seconds))
        try:
            done, _ = await asyncio.wait({timer, woken}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not timer.done():
                timer.cancel()
            with self._lock:
                waiting = self._sleepers.get(key)
                if waiting is not None and (loop, woken) in waiting:
                    waiting.remove((loop, woken))
                    if not waiting:
                        del self._sleepers[key]
            if not woken.done():
                woken.cancel()
        return woken in done and timer not in done

    # -- how long a poll takes ---------------------------------------------------------------

    def observe_round_trip(self, base_url: str, seconds: float) -> None:
        """Record how long one poll of ``base_url`` took to answer (seconds)."""
        if seconds >= 0 and math.isfinite(seconds):
            with self._lock:
                self._round_trips.setdefault(base_url, deque(maxlen=16)).append(seconds)

    def round_trip(self, base_url: str) -> float:
        """The median of the last polls' round trips to ``base_url`` (0 until one is seen):
        robust to the odd poll that waited for a retry."""
        with self._lock:
            seen = self._round_trips.get(base_url)
            return statistics.median(seen) if seen else 0.0

    def enlist(self, model: str, base_url: str, scouts: int) -> bool:
        """Whether one more prediction of ``model``, whose durations are unknown, may poll to
        find out how long it takes: yes while fewer than ``scouts`` do (each that says yes must
        :meth:`discharge`). At 100 predictions of a new model started at once, the others need
        not poll before the first of them ends: they sleep until it does (:meth:`sleep` wakes
        them while the model is being learned)."""
        key = (base_url, model)
        with self._lock:
            if self._scouts.get(key, 0) >= scouts:
                return False
            self._scouts[key] = self._scouts.get(key, 0) + 1
            return True

    def discharge(self, model: str, base_url: str) -> None:
        """One scout of ``model`` stopped (it ended, or the model's support is known)."""
        key = (base_url, model)
        with self._lock:
            left = self._scouts.get(key, 0) - 1
            if left > 0:
                self._scouts[key] = left
            else:
                self._scouts.pop(key, None)

    def polling(self, delta: int) -> None:
        """One more (``+1``) or one fewer (``-1``) prediction polled in this process."""
        with self._lock:
            self.crowd = max(0, self.crowd + delta)

    def forget(self) -> None:
        """Forget everything learned (tests; a new process starts this way)."""
        with self._lock:
            self._supports.clear()
            self._samples.clear()
            self._seeded.clear()
            self._round_trips.clear()


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _lognormal_predictive(
    samples: list[float], prior_sigma: float, prior_n: float
) -> tuple[float, float, float]:
    """Student-t predictive of log-duration (Normal-Inverse-Gamma, flat prior on the mean):
    ``(mu, scale, degrees of freedom)``."""
    logs = [math.log(max(1e-3, s)) for s in samples]
    n = len(logs)
    mu = sum(logs) / n
    ss = sum((x - mu) ** 2 for x in logs)
    a0 = prior_n / 2
    a = a0 + n / 2
    b = a0 * prior_sigma**2 + ss / 2
    return mu, math.sqrt(b / a * (1 + 1 / n)), 2 * a


def _t_quantile(p: float, dof: float) -> float:
    """Student-t quantile by the Cornish-Fisher expansion of the normal one (ample here)."""
    z = statistics.NormalDist().inv_cdf(p)
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    return z + g1 / dof + g2 / dof**2 + g3 / dof**3
