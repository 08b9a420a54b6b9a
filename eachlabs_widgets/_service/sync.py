"""Run the async core from synchronous code: in a script, and inside a running Jupyter kernel.

In a script there is no running loop: a private loop per thread is kept (not closed), so its
shared HTTP client is reused from one call to the next. Inside a kernel the kernel's own loop
is running: it is made re-entrant with ``nest_asyncio2`` (the maintained fork; the archived
``nest_asyncio`` 1.6 loses widget clicks on ipykernel 7) and the coroutine runs on it.
Ctrl+C (a kernel interrupt) cancels the task running the coroutine, which cancels its
prediction on the service; the caller then sees ``KeyboardInterrupt``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run_sync"]

T = TypeVar("T")
_local = threading.local()


def _private_loop() -> asyncio.AbstractEventLoop:
    loop: asyncio.AbstractEventLoop | None = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        loop._eachlabs_private = True  # type: ignore[attr-defined]  # kept for the thread's life
        _local.loop = loop
    return loop


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """The result of ``coro``, run to completion from synchronous code.

    Ctrl+C (SIGINT, a kernel's Stop button) does not land at a random point of the coroutine:
    it cancels the task, so the coroutine ends at an ``await`` and cleans up (a create in
    flight is waited for and its prediction cancelled), then :class:`KeyboardInterrupt` is
    raised here. Every further Ctrl+C during that clean-up cancels again; the fifth raises at
    once, as an escape hatch.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = _private_loop()
    else:
        import nest_asyncio2

        nest_asyncio2.apply(loop)
    task = loop.create_task(coro)
    presses = 0

    def on_sigint(signum: int, frame: Any) -> None:
        nonlocal presses
        presses += 1
        if presses >= _ESCAPE_PRESSES:
            raise KeyboardInterrupt
        loop.call_soon_threadsafe(task.cancel)

    previous = _install_sigint(on_sigint)
    try:
        return loop.run_until_complete(task)
    except asyncio.CancelledError:
        if presses:
            raise KeyboardInterrupt from None
        raise
    except KeyboardInterrupt:
        # Raised outside our handler (another thread's loop, or the escape hatch): still let
        # the coroutine clean up before re-raising.
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            loop.run_until_complete(task)
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


_ESCAPE_PRESSES = 5


def _install_sigint(handler: Any) -> Any:
    """Install ``handler`` for SIGINT (main thread only); returns what to restore, or None."""
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        previous = signal.getsignal(signal.SIGINT)
        if previous in (signal.SIG_IGN, None):
            return None  # SIGINT is ignored on purpose (e.g. a background job): keep it so
        signal.signal(signal.SIGINT, handler)
    except (ValueError, OSError):
        return None
    return previous
