"""One limiter per process for predictions in flight, shared by every call and every loop.

The service caps an account at 10 predictions in flight and answers 429 beyond that. Holding a
slot from create to the end of the prediction keeps us under the cap; when the service still
answers 429 (another process, another notebook on the same key), the limit shrinks to what is in
flight and grows back by one after each prediction that ends. The slot is taken with plain
threading primitives plus a future on the waiter's own loop, so a script's private loop and a
kernel's loop can share it.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

__all__ = ["ACCOUNT_CAP", "PredictionLimiter", "limiter"]

#: Predictions an account may have in flight, per the service's documentation.
ACCOUNT_CAP = 10


class PredictionLimiter:
    def __init__(self, limit: int = ACCOUNT_CAP) -> None:
        self._max = limit
        self._limit = limit
        self._in_flight = 0
        self._lock = threading.Lock()
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = deque()

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def resize(self, limit: int) -> None:
        """Set the ceiling (e.g. from a setting); the current limit follows it."""
        with self._lock:
            self._max = max(1, limit)
            self._limit = self._max
        self._wake()

    async def acquire(self) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._in_flight < self._limit and not self._waiters:
                self._in_flight += 1
                return
            future: asyncio.Future[None] = loop.create_future()
            self._waiters.append((loop, future))
        try:
            await future
        except asyncio.CancelledError:
            with self._lock:
                if (loop, future) in self._waiters:
                    self._waiters.remove((loop, future))
                    raise
            if not future.cancelled():
                # The slot was ours already when the cancellation arrived: give it back.
                # (A cancelled future that was handed a slot is released by _resolve.)
                self.release(finished=False)
            raise

    def release(self, finished: bool = True) -> None:
        """Free a slot; ``finished`` means a prediction ended, so the limit may grow again."""
        with self._lock:
            self._in_flight -= 1
            if finished and self._limit < self._max:
                self._limit += 1
        self._wake()

    def throttled(self) -> None:
        """The service answered 429: shrink the limit to what is in flight (at least one)."""
        with self._lock:
            self._limit = max(1, min(self._limit, self._in_flight))

    def _wake(self) -> None:
        handoffs = []
        with self._lock:
            while self._waiters and self._in_flight < self._limit:
                loop, future = self._waiters.popleft()
                if future.done() or loop.is_closed():
                    continue
                self._in_flight += 1
                handoffs.append((loop, future))
        for loop, future in handoffs:
            loop.call_soon_threadsafe(_resolve, future, self)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self.acquire()
        try:
            yield
        finally:
            self.release()


def _resolve(future: asyncio.Future[None], owner: PredictionLimiter) -> None:
    if future.cancelled():
        owner.release(finished=False)  # the waiter left between hand-off and wake-up
    else:
        future.set_result(None)


limiter = PredictionLimiter()
