"""``Ticket``: the answer to one piece of work done on another thread, which a caller may
wait for from any thread or await on an event loop, and which an interrupt cannot break.

Why not ``concurrent.futures.Future``: every method of a ``Future`` enters a
``threading.Condition``, whose ``__enter__`` is Python code. A KeyboardInterrupt (Ctrl+C, a
kernel's Stop button) can be raised after that ``__enter__`` has taken the lock and before the
``with`` block is set up, leaving the lock held by the interrupted thread for good; the worker
thread then blocks forever on its next ``set_result``. A ``Ticket`` uses no lock that two
threads share: callbacks sit in a ``collections.deque`` (whose ``append``/``popleft`` are
atomic), completion is a flag, and a waiter waits on a lock of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable, Generator
from typing import Any, Generic, TypeVar

__all__ = ["Ticket"]

log = logging.getLogger("eachlabs_widgets")
T = TypeVar("T")


class Ticket(Generic[T]):
    """A result that arrives later: ``done()``, ``wait(timeout)``, ``result(timeout)``,
    ``exception()``, ``add_done_callback(fn)``, ``await ticket``, ``await ticket.wait_async()``.
    Work behind a ticket cannot be cancelled (a journal row is never dropped)."""

    __slots__ = ("_callbacks", "_error", "_finished", "_result")

    def __init__(self) -> None:
        self._callbacks: deque[Callable[[Ticket[T]], None]] = deque()
        self._finished = False
        self._result: Any = None
        self._error: BaseException | None = None

    def __repr__(self) -> str:
        state = "pending" if not self._finished else "failed" if self._error else "done"
        return f"<Ticket {state}>"

    # -- the worker's side ----------------------------------------------------------------

    def finish(self, result: Any = None, error: BaseException | None = None) -> None:
        """Set the outcome (once) and run the callbacks; never blocks."""
        if self._finished:
            return
        self._result, self._error = result, error
        self._finished = True
        self._run_callbacks()

    def _run_callbacks(self) -> None:
        # Each callback is popped, and so run, by exactly one thread.
        while True:
            try:
                callback = self._callbacks.popleft()
            except IndexError:
                return
            try:
                callback(self)
            except Exception:
                log.exception("a journal callback failed")

    # -- the caller's side ----------------------------------------------------------------

    def done(self) -> bool:
        return self._finished

    def add_done_callback(self, callback: Callable[[Ticket[T]], None]) -> None:
        """Run ``callback(ticket)`` when done: on the worker's thread, or at once on this one
        if it is done already."""
        self._callbacks.append(callback)
        if self._finished:
            self._run_callbacks()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until done (True) or ``timeout`` seconds pass (False)."""
        if self._finished:
            return True
        gate = threading.Lock()  # ours alone: an interrupt here can leave nobody else stuck
        gate.acquire()
        self.add_done_callback(lambda _: gate.release())
        return gate.acquire(timeout=-1 if timeout is None else max(0.0, timeout))

    async def wait_async(self, timeout: float | None = None) -> bool:
        """Wait on the running event loop without blocking it: done (True) or ``timeout``
        seconds passed (False). Cancelling the waiting task does not cancel the work."""
        if self._finished:
            return True
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()

        def wake(_: Ticket[T]) -> None:
            # RuntimeError: the loop was closed meanwhile, and nobody is waiting.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_resolve, waiter)

        self.add_done_callback(wake)
        done, _ = await asyncio.wait({waiter}, timeout=timeout)
        return bool(done)

    def result(self, timeout: float | None = None) -> T:
        """The work's result, or its exception raised; ``TimeoutError`` if not done in time."""
        if not self.wait(timeout):
            raise TimeoutError("the journal has not finished this work yet")
        if self._error is not None:
            raise self._error
        value: T = self._result
        return value

    def exception(self) -> BaseException | None:
        """The work's exception (None if it succeeded or is not done)."""
        return self._error

    def __await__(self) -> Generator[Any, None, T]:
        yield from self.wait_async().__await__()
        return self.result(0)


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
