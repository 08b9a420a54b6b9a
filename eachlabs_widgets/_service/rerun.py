"""The :class:`~.._generation.Runner` a client gives the generations it makes, so that
``g.vary()`` and ``g.remix()`` run on that same client (its service, key and output folder)
without ``Generation`` importing the client.

In a notebook the runs show live cards: the notebook wing registers how
(:func:`set_presenter`), since the service draws nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from .._generation import Generation
from .sync import run_sync

if TYPE_CHECKING:
    from .client import AsyncEachLabs

__all__ = ["ClientRunner", "Presenter", "set_presenter"]

T = TypeVar("T")

#: ``present(client, model, inputs, parent=, timeout=, save_to=)``: the run shown with a live
#: card (an awaitable of its Generation), or None where no card can be shown (a script).
Presenter = Callable[..., Awaitable[Generation] | None]
_presenter: Presenter | None = None


def set_presenter(present: Presenter) -> None:
    """How runs made from a generation are shown (the notebook wing registers it)."""
    global _presenter
    _presenter = present


@dataclass(frozen=True)
class ClientRunner:
    """Runs on ``client``, saving to ``save_to`` (None: not saved), as the run it came from.

    An identical earlier run with an explicit seed is reused, as ``generate()`` does: a remix
    undone and done again is not paid twice."""

    client: AsyncEachLabs
    save_to: str | None

    async def arun(
        self, model: str, inputs: dict[str, Any], *, parent: str, timeout: float | None
    ) -> Generation:
        if _presenter is not None:
            shown = _presenter(
                self.client, model, inputs, parent=parent, timeout=timeout, save_to=self.save_to
            )
            if shown is not None:
                return await shown
        return await self.client.run(
            model, inputs, timeout=timeout, save_to=self.save_to, reuse=True, parent=parent
        )

    def wait(self, work: Coroutine[Any, Any, T]) -> T:
        return run_sync(work)
