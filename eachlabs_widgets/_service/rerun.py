"""The :class:`~.._generation.Runner` a client gives the generations it makes, so that
``g.vary()`` and ``g.remix()`` run on that same client (its service, key and output folder)
without ``Generation`` importing the client.

In a notebook the runs of one call are shown together, live while they go, and an interrupt
ends the call in one line: the notebook wing registers how (:func:`set_presenter`), since the
service draws nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from .._generation import Generation, Rerun
from .sync import run_sync

if TYPE_CHECKING:
    from .client import AsyncEachLabs

__all__ = ["ClientRunner", "Presenter", "Waiter", "set_presenter", "wait"]

T = TypeVar("T")
Outcomes = list[Generation | BaseException]

#: ``present(client, model, runs, parent=, timeout=, save_to=)``: the runs shown together while
#: they go (an awaitable of what each ended with, in order), or None where nothing can be
#: shown (a script).
Presenter = Callable[..., Awaitable[Outcomes] | None]
#: ``wait(work)``: the coroutine ``work`` run to its end from synchronous code.
Waiter = Callable[[Coroutine[Any, Any, Any]], Any]
_presenter: Presenter | None = None
_waiter: Waiter = run_sync


def set_presenter(present: Presenter, waiter: Waiter = run_sync) -> None:
    """How runs made from a generation are shown, and waited for from synchronous code (the
    notebook wing registers both)."""
    global _presenter, _waiter
    _presenter, _waiter = present, waiter


def wait(work: Coroutine[Any, Any, T]) -> T:
    """``work`` run to its end from synchronous code, as the registered waiter does (else
    :func:`~.sync.run_sync`)."""
    result: T = _waiter(work)
    return result


@dataclass(frozen=True)
class ClientRunner:
    """Runs on ``client``, saving to ``save_to`` (None: not saved), as the run it came from.

    An identical earlier run with an explicit seed is reused, as ``generate()`` does: a remix
    undone and done again is not paid twice."""

    client: AsyncEachLabs
    save_to: str | None

    async def arun_all(
        self, model: str, runs: Sequence[Rerun], *, parent: str, timeout: float | None
    ) -> Outcomes:
        if _presenter is not None:
            shown = _presenter(
                self.client, model, runs, parent=parent, timeout=timeout, save_to=self.save_to
            )
            if shown is not None:
                return await shown
        made = [
            self.client.run(
                model, run.inputs, timeout=timeout, save_to=self.save_to, reuse=True, parent=parent
            )
            for run in runs
        ]
        return list(await asyncio.gather(*made, return_exceptions=True))

    def wait(self, work: Coroutine[Any, Any, T]) -> T:
        return wait(work)
