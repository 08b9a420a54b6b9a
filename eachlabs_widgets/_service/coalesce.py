"""Single flight: concurrent requests for the same thing share one request.

Forty calls that start together on eight models make eight model lookups, not forty. Flights
are per event loop (a future belongs to one loop); a caller that is cancelled leaves the
flight running for the others.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["SingleFlight"]

T = TypeVar("T")


class SingleFlight(Generic[T]):
    def __init__(self) -> None:
        self._flights: dict[tuple[int, Hashable], asyncio.Future[T]] = {}
        self._lock = threading.Lock()

    async def run(self, key: Hashable, fetch: Callable[[], Awaitable[T]]) -> T:
        """``await fetch()``, or the answer of the same ``key``'s fetch already under way."""
        loop = asyncio.get_running_loop()
        slot = (id(loop), key)
        with self._lock:
            flight = self._flights.get(slot)
            if flight is None or flight.get_loop() is not loop:
                flight = asyncio.ensure_future(fetch())
                self._flights[slot] = flight
                flight.add_done_callback(lambda done: self._land(slot, done))
        return await asyncio.shield(flight)

    def _land(self, slot: tuple[int, Hashable], flight: asyncio.Future[T]) -> None:
        with self._lock:
            if self._flights.get(slot) is flight:
                del self._flights[slot]
        if not flight.cancelled():
            flight.exception()  # retrieved: every waiter that cared has seen it
