"""The :class:`~.._generation.Runner` a client gives the generations it makes, so that
``g.vary()`` and ``g.remix()`` run on that same client (its service, key and output folder)
without ``Generation`` importing the client."""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from .._generation import Generation
from .sync import run_sync

if TYPE_CHECKING:
    from .client import AsyncEachLabs

__all__ = ["ClientRunner"]

T = TypeVar("T")


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
        return await self.client.run(
            model, inputs, timeout=timeout, save_to=self.save_to, reuse=True, parent=parent
        )

    def wait(self, work: Coroutine[Any, Any, T]) -> T:
        return run_sync(work)
