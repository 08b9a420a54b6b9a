"""Bounding an await by a timeout without losing a cancel.

Before Python 3.12, :func:`asyncio.wait_for` returns the result and drops the caller's
cancellation when the awaited work finishes in the same turn of the loop as the cancel arrives
(CPython gh-86296). A Ctrl+C or a Cancel button that lands then goes unheard: the prediction
keeps running, and is billed. :func:`asyncio.timeout` (3.11) has no such race; on 3.10
``wait_for`` is all there is.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable
from typing import TypeVar

__all__ = ["within"]

T = TypeVar("T")


async def within(seconds: float | None, work: Awaitable[T]) -> T:
    """``work``, cancelled once ``seconds`` pass (``None``: unbounded; below 0 counts as 0).

    Raises :class:`asyncio.TimeoutError` when the time runs out. A cancel of the caller always
    propagates as :class:`asyncio.CancelledError`, even when ``work`` ends in the same turn.
    """
    if seconds is None:
        return await work
    seconds = max(0.0, seconds)
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            return await work
    return await asyncio.wait_for(work, seconds)  # pragma: no cover - Python 3.10
