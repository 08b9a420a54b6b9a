"""One limiter per process for predictions in flight, shared by every call and every loop.

The ceiling is what the user asks for (``configure(concurrency=)``, ``EachGen.concurrency``,
``eachlabs-batch --concurrency``; default 10), not a fixed account cap: the service caps only
accounts with a balance of $10 or less (10 in flight, 2 for metered models) and refuses a
create beyond that with a 429 that creates nothing (API.md, "Limits"). Below the ceiling the
limiter follows what the service admits:

- A call takes a *ticket* when it starts (:meth:`PredictionLimiter.place`), before its model
  lookup or uploads, and slots are granted in ticket order: creation follows the order of the
  calls, whatever order their lookups answer in. (A ticket that is slow to come forward, e.g.
  a large upload, holds later ones back for at most ``order_grace`` seconds.)
- A slot means "running on the service": it is held from just before the create until the
  moment a poll shows the end, not through the download and save that follow.
- A create refused with the cap's 429 gives its slot back, shrinks the limit to what we have
  running, and waits for capacity (one of our predictions ending, or a backoff when none of
  ours runs) before trying again at the head of the queue, until the call's deadline. Such
  refusals never use up the request retry budget. The limit grows by one per prediction that
  ends and up to what is running when a create succeeds.
- The other 429 ("too many executions were started at once") is a burst, not a cap: the
  create backs off and tries again without shrinking the limit.
- A 402 for in-flight reservations ("the estimated cost of your in-flight executions exceeds
  your current balance") clears when one of them ends: while ours run, it is handled like the
  cap's 429; with none of ours running it is final and raised at once.

Plain threading primitives plus a future on the waiter's own loop let a script's private loop
and a kernel's loop share one limiter.
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
import random
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from types import TracebackType
from typing import TypeVar

from .._exceptions import APIError, PaymentRequiredError, RateLimitError
from .._settings import DEFAULT_CONCURRENCY, concurrency, on_concurrency
from .retry import Attempt, Kind, RetryPolicy
from .timeouts import within

__all__ = [
    "ACCOUNT_CAP",
    "CAPACITY_WAIT",
    "DEFAULT_CONCURRENCY",
    "Place",
    "PredictionLimiter",
    "capacity_aware",
    "is_burst",
    "is_in_flight_payment",
    "limiter",
]

#: The default ceiling under its former name.
ACCOUNT_CAP = DEFAULT_CONCURRENCY

#: How long a refused create waits for capacity when its call has no deadline (seconds).
CAPACITY_WAIT = 900.0
T = TypeVar("T")

# Set while a create runs under a Place: its 429 comes back to the limiter instead of being
# retried by the request layer (see capacity_aware).
_refusals_handled: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "eachlabs_refusals_handled", default=False
)


class _Waiter:
    __slots__ = ("future", "loop", "ticket")

    def __init__(self, ticket: int, loop: asyncio.AbstractEventLoop) -> None:
        self.ticket = ticket
        self.loop = loop
        self.future: asyncio.Future[None] = loop.create_future()

    def __lt__(self, other: _Waiter) -> bool:
        return self.ticket < other.ticket


def is_burst(error: APIError) -> bool:
    """The 429 for too many creates started at once (API.md, "Create"): temporary, and not
    the account's cap on predictions in flight."""
    text = f"{error.message} {error.details or ''}".lower()
    return error.status_code == 429 and "at once" in text


def is_in_flight_payment(error: APIError) -> bool:
    """The 402 for in-flight reservations (API.md, "Create"): it clears when one ends."""
    text = f"{error.message} {error.details or ''}".lower().replace("-", " ")
    return isinstance(error, PaymentRequiredError) and "in flight" in text


class PredictionLimiter:
    """Slots for predictions in flight. ``limit``: the ceiling (default: the configured
    concurrency, :func:`~eachlabs_widgets._settings.concurrency`)."""

    def __init__(self, limit: int | None = None, *, order_grace: float = 1.0) -> None:
        limit = concurrency() if limit is None else max(1, limit)
        self._max = limit
        self._limit = limit
        self._in_flight = 0  # slots held: creating or running
        self._running = 0  # created and not yet seen to end
        self._order_grace = order_grace
        self._tickets = itertools.count()
        self._pending: dict[int, float] = {}  # tickets not yet asking for a slot: issued at
        self._waiters: list[_Waiter] = []  # a heap, by ticket
        self._timer_due: float | None = None
        self._lock = threading.RLock()
        #: Creates the service refused (429) since this limiter was made.
        self.refusals = 0

    @property
    def limit(self) -> int:
        """What may be in flight now: the ceiling, or less after the service's 429s."""
        return self._limit

    @property
    def ceiling(self) -> int:
        """The most ever let in flight (what the user asked for)."""
        return self._max

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def running(self) -> int:
        return self._running

    def resize(self, limit: int) -> None:
        """Set the ceiling (e.g. from a setting); the current limit follows it."""
        with self._lock:
            self._max = max(1, limit)
            self._limit = self._max
        self._wake()

    # -- the place of one call ------------------------------------------------------------

    def place(self) -> Place:
        """A ticket for one call, taken now: ``async with limiter.place() as place: …``."""
        with self._lock:
            ticket = next(self._tickets)
            self._pending[ticket] = time.monotonic()
        return Place(self, ticket)

    async def _acquire(self, ticket: int) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            self._pending.pop(ticket, None)
            if self._in_flight < self._limit and self._first_in_line(ticket):
                self._in_flight += 1
                return
            waiter = _Waiter(ticket, loop)
            heapq.heappush(self._waiters, waiter)
        self._wake()  # an earlier ticket may have been holding others back
        try:
            await waiter.future
        except asyncio.CancelledError:
            with self._lock:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                    heapq.heapify(self._waiters)
                    raise
            if not waiter.future.cancelled():
                # The slot was ours already when the cancellation arrived: give it back.
                # (A cancelled future that was handed a slot is released by _resolve.)
                self.release(finished=False)
            raise

    def _first_in_line(self, ticket: int) -> bool:
        """No earlier ticket waits, nor is still on its way within the grace period."""
        if self._waiters and self._waiters[0].ticket < ticket:
            return False
        now = time.monotonic()
        return not any(
            t < ticket and now - at < self._order_grace for t, at in self._pending.items()
        )

    def _wake(self) -> None:
        handoffs = []
        timer: tuple[asyncio.AbstractEventLoop, float] | None = None
        with self._lock:
            now = time.monotonic()
            while self._waiters and self._in_flight < self._limit:
                head = self._waiters[0]
                if head.future.done() or head.loop.is_closed():
                    heapq.heappop(self._waiters)
                    continue
                held_back = [
                    at
                    for t, at in self._pending.items()
                    if t < head.ticket and now - at < self._order_grace
                ]
                if held_back:
                    due = min(held_back) + self._order_grace
                    stale = self._timer_due is None or self._timer_due < now
                    if stale or due < self._timer_due - 1e-3:  # type: ignore[operator]
                        self._timer_due = due
                        timer = (head.loop, due - now)
                    break
                heapq.heappop(self._waiters)
                self._in_flight += 1
                handoffs.append(head)
        for waiter in handoffs:
            waiter.loop.call_soon_threadsafe(_resolve, waiter.future, self)
        if timer is not None:
            loop, delay = timer
            loop.call_soon_threadsafe(loop.call_later, max(0.0, delay) + 1e-3, self._timer)

    def _timer(self) -> None:
        with self._lock:
            self._timer_due = None
        self._wake()

    def _drop_ticket(self, ticket: int) -> None:
        with self._lock:
            gone = self._pending.pop(ticket, None) is not None
        if gone:
            self._wake()

    # -- what the service said -------------------------------------------------------------

    def _created(self) -> None:
        with self._lock:
            self._running += 1
            # A create that succeeds proves there is room for what we run.
            self._limit = min(self._max, max(self._limit, self._running))

    def _ended(self) -> None:
        with self._lock:
            self._running -= 1
            self._in_flight -= 1
            if self._limit < self._max:
                self._limit += 1
        self._wake()

    def _refused(self) -> int:
        """A create met the cap: give its slot back, shrink; returns how many of ours run."""
        with self._lock:
            self.refusals += 1
            self._in_flight -= 1
            self._limit = max(1, min(self._limit, self._running))
            running = self._running
        self._wake()
        return running

    def _probe(self) -> None:
        """Capacity may have freed elsewhere (another process): allow one more try."""
        with self._lock:
            if self._limit < self._max and self._limit <= self._in_flight:
                self._limit += 1
        self._wake()

    # -- the plain interface (a slot without a ticket) ----------------------------------------

    async def acquire(self) -> None:
        """Take a slot (in ticket order, the ticket taken now)."""
        with self._lock:
            ticket = next(self._tickets)
        await self._acquire(ticket)

    def release(self, finished: bool = True) -> None:
        """Free a slot; ``finished`` means a prediction ended, so the limit may grow again."""
        with self._lock:
            self._in_flight -= 1
            if finished and self._limit < self._max:
                self._limit += 1
        self._wake()

    def throttled(self, error: APIError | None = None) -> None:
        """The service answered 429 to some request: shrink the limit to what is in flight
        (not for a burst's 429, which says nothing of the cap)."""
        if error is not None and is_burst(error):
            return
        with self._lock:
            self._limit = max(1, min(self._limit, self._in_flight))

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self.acquire()
        try:
            yield
        finally:
            self.release()


class Place:
    """One call's place in line, from its ticket to the end of its prediction.

    ``await place.create(send, deadline)`` takes a slot and sends the create, waiting for
    capacity on refusals; :meth:`ended` frees the slot when a poll shows the end. Leaving the
    ``async with`` gives back whatever is still held.
    """

    def __init__(self, owner: PredictionLimiter, ticket: int) -> None:
        self._owner = owner
        self.ticket = ticket
        self._state = "ticket"  # -> "slot" -> "running" -> "done"
        self._withdrawn = False

    async def __aenter__(self) -> Place:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        state, self._state = self._state, "done"
        if state == "ticket":
            self._owner._drop_ticket(self.ticket)
        elif state == "slot":
            self._owner.release(finished=False)
        elif state == "running":
            # It may still run on the service (a timeout, an error while following): the
            # slot goes back, but the limit does not grow on its account.
            with self._owner._lock:
                self._owner._running -= 1
            self._owner.release(finished=False)

    def withdraw(self) -> bool:
        """The call no longer wants to create (it was cancelled). True if nothing was sent:
        a :meth:`create` still waiting for a slot or for capacity will not send, even if a
        slot reaches it after this. False if its create may be on its way to the service."""
        if self._state != "ticket":
            return False
        self._withdrawn = True
        return True

    def ended(self) -> None:
        """A poll showed the prediction's end: its slot is free for the next create."""
        if self._state == "running":
            self._state = "done"
            self._owner._ended()

    async def create(
        self,
        send: Callable[[], Awaitable[T]],
        deadline: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> T:
        """Take a slot and ``send()`` the create; on a 429 wait for capacity and try again.

        ``deadline`` (a ``clock`` reading; default :data:`CAPACITY_WAIT` from now) bounds the
        waiting: past it the last :class:`RateLimitError` is raised. Nothing was created then.
        """
        if self._state != "ticket":
            raise RuntimeError("this place has created already")
        owner = self._owner
        limit_at = deadline if deadline is not None else clock() + CAPACITY_WAIT
        backoff = 0.25
        probe_after: float | None = None  # set while ours run and the cap refused us
        while True:
            remaining = limit_at - clock()
            if remaining <= 0:
                raise _gave_up()
            wait = remaining if probe_after is None else min(probe_after, remaining)
            try:
                await within(wait, owner._acquire(self.ticket))
            except asyncio.TimeoutError:
                if probe_after is None or clock() >= limit_at:
                    raise _gave_up() from None
                # None of ours ended yet; capacity may have freed elsewhere (another
                # process on the key): let one create try.
                owner._probe()
                probe_after = min(4.0, probe_after * 2)
                continue
            self._state = "slot"
            if self._withdrawn:
                # Cancelled, yet handed the slot (asyncio.wait_for before Python 3.12 can
                # return a result that arrived with the cancellation): give it back unsent.
                self.close()
                raise asyncio.CancelledError
            token = _refusals_handled.set(True)
            try:
                result = await send()
            except (RateLimitError, PaymentRequiredError) as refused:
                self._state = "ticket"
                if is_burst(refused):
                    # Too many creates at once, not too many running: back off, limit kept.
                    owner.release(finished=False)
                    remaining = limit_at - clock()
                    if remaining <= 0:
                        raise
                    await sleep(min(_backoff(refused, backoff), remaining))
                    backoff = min(4.0, backoff * 2)
                    continue
                if isinstance(refused, PaymentRequiredError) and (
                    not is_in_flight_payment(refused) or owner.running == 0
                ):
                    owner.release(finished=False)
                    self._state = "done"
                    raise  # the balance itself is short: nothing of ours will free it
                running = owner._refused()
                remaining = limit_at - clock()
                if remaining <= 0:
                    raise
                if isinstance(refused, PaymentRequiredError):
                    probe_after = None  # only an end of ours frees the reservation
                    continue
                if running == 0:
                    # None of ours will end to tell us: wait as the service asks, else back off.
                    await sleep(min(_backoff(refused, backoff), remaining))
                    owner._probe()
                    probe_after = None
                else:
                    probe_after = backoff * 4  # our next end frees a slot; probe meanwhile
                backoff = min(4.0, backoff * 2)
                continue
            except BaseException:
                self.close()
                raise
            finally:
                _refusals_handled.reset(token)
            self._state = "running"
            owner._created()
            return result


def _backoff(refused: APIError, backoff: float) -> float:
    """The wait before trying again: as the service asks (``Retry-After``), else ``backoff``;
    with jitter, so that refused creates do not come back together."""
    delay = refused.retry_after if refused.retry_after is not None else backoff
    return max(delay, 0.0) * random.uniform(1.0, 1.2)


def _gave_up() -> RateLimitError:
    return RateLimitError(
        "the account's cap on predictions in flight stayed full until the call's deadline; "
        "nothing was created",
        status_code=429,
    )


class _CapacityAware(RetryPolicy):
    """``inner``, except that a create's 429 under a :class:`Place` is not retried here: the
    limiter waits for capacity instead, without using up the retry budget."""

    def __init__(self, inner: RetryPolicy) -> None:
        super().__init__(inner.max_attempts, inner.base_delay, inner.max_delay)
        object.__setattr__(self, "_inner", inner)

    def should_retry(self, kind: Kind, attempt: Attempt) -> bool:
        if kind == "create" and attempt.status == 429 and _refusals_handled.get():
            return False
        inner: RetryPolicy = self.__dict__["_inner"]
        return inner.should_retry(kind, attempt)


def capacity_aware(policy: RetryPolicy | None) -> RetryPolicy:
    """``policy`` (or the default) with creates' 429s left to the limiter."""
    if isinstance(policy, _CapacityAware):
        return policy
    return _CapacityAware(policy or RetryPolicy())


def _resolve(future: asyncio.Future[None], owner: PredictionLimiter) -> None:
    if future.cancelled():
        owner.release(finished=False)  # the waiter left between hand-off and wake-up
    else:
        future.set_result(None)


limiter = PredictionLimiter()
on_concurrency(limiter.resize)
