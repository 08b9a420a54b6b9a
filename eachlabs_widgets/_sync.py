"""Run the async core from synchronous code: in a script, and inside a running Jupyter kernel.

In a script there is no running loop: a private loop per thread is kept (not closed), so its
shared HTTP client is reused from one call to the next. Inside a kernel the kernel's own loop
is running: it is made re-entrant with ``nest_asyncio2`` (the maintained fork; the archived
``nest_asyncio`` 1.6 loses widget clicks on ipykernel 7) and the coroutine runs on it.
Ctrl+C (a kernel interrupt) cancels the coroutine, which cancels its prediction on the service.
"""

from __future__ import annotations

import asyncio
import contextlib
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
        _local.loop = loop
    return loop


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """The result of ``coro``, run to completion from synchronous code."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = _private_loop()
    else:
        import nest_asyncio2

        nest_asyncio2.apply(loop)
    task = loop.create_task(coro)
    try:
        return loop.run_until_complete(task)
    except KeyboardInterrupt:
        # Let the coroutine clean up (cancel its prediction on the service) before re-raising.
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            loop.run_until_complete(task)
        raise
