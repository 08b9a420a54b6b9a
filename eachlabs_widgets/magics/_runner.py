"""Run a cell's jobs concurrently on the kernel's loop, with one live card per job.

The cards are widget state only: background work sets traits, never prints. :class:`CellRun`
does not display anything itself; the magic decides (blocking: the cards, then the static
result in their place; ``--background``: the cards, which keep updating after the cell ends).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets

from .._card import LiveCard
from .._client import AsyncEachLabs
from .._exceptions import PredictionCancelledError
from .._generation import Generation
from .._prediction import Prediction
from .._render import Results
from ._parse import Job

__all__ = ["CellRun", "Outcome", "close_tree"]

log = logging.getLogger("eachlabs_widgets")
Outcome = Generation | BaseException


def close_tree(widget: Any, seen: set[int] | None = None) -> None:
    """Close a widget and every widget it holds (children, layout, style), so no widget state
    is left behind."""
    seen = set() if seen is None else seen
    if id(widget) in seen or not isinstance(widget, widgets.Widget):
        return
    seen.add(id(widget))
    for name in widget.keys:
        value = getattr(widget, name, None)
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, widgets.Widget):
                close_tree(item, seen)
    with contextlib.suppress(Exception):
        widget.close()


def _slots(job: Job) -> int:
    for key in ("num_images", "max_images"):
        value = job.inputs.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 8:
            return value
    return 1


class CellRun:
    """The jobs of one cell, their cards, and what each ended with."""

    def __init__(
        self,
        client: AsyncEachLabs,
        jobs: Sequence[Job],
        *,
        timeout: float | None = None,
        save_to: str | None = None,
        reuse: bool = True,
    ) -> None:
        self.client = client
        self.jobs = list(jobs)
        self.timeout = timeout
        self.save_to = save_to
        self.reuse = reuse
        self.cards = [
            LiveCard(job.label, slots=_slots(job), prompt=job.inputs.get("prompt"))
            for job in self.jobs
        ]
        # The placeholders are replaced by thumbnails at the end: keep them to close them.
        self._widgets: list[Any] = [w for card in self.cards for w in card.gallery.children]
        self.view = widgets.VBox(list(self.cards))
        self.prediction_ids: dict[int, str] = {}
        self.cancelled: set[int] = set()
        self.outcomes: list[Outcome | None] = [None] * len(self.jobs)

    # -- running ------------------------------------------------------------------------------

    async def _one(self, index: int) -> Outcome:
        job, card = self.jobs[index], self.cards[index]

        def on_update(prediction: Prediction) -> None:
            if prediction.id:
                self.prediction_ids[index] = prediction.id
            card.update(prediction)

        card.start_ticker()
        try:
            generation = await self.client.run(
                job.model,
                job.inputs,
                timeout=self.timeout,
                on_update=on_update,
                save_to=self.save_to,
                reuse=self.reuse,
            )
        except asyncio.CancelledError:
            self.cancelled.add(index)
            pid = self.prediction_ids.get(index)
            error: BaseException = (
                PredictionCancelledError(prediction_id=pid, model=job.model)
                if pid
                else asyncio.CancelledError("cancelled before it was created")
            )
            self.outcomes[index] = error
            card.fail(error)
            raise
        except Exception as exc:
            self.outcomes[index] = exc
            card.fail(exc)
            return exc
        self.outcomes[index] = generation
        try:
            card.finish(generation)
        except Exception as exc:  # showing it must never cost the cell a paid result
            log.warning("could not show the result of %s: %s", generation.id, exc)
            card.set_status("success", f"could not show the result: {exc}")
        if generation.reused:
            card.set_status("success", "reused an identical earlier run: nothing spent")
        return generation

    async def execute(self) -> list[Outcome | None]:
        """Run every job at once (the shared limiter bounds what is in flight).

        If this is cancelled (a kernel interrupt), every job is cancelled and awaited, which
        cancels its prediction on the service.
        """
        loop = asyncio.get_running_loop()
        tasks = [loop.create_task(self._one(i)) for i in range(len(self.jobs))]
        try:
            await asyncio.wait(tasks)
        except asyncio.CancelledError:
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks)
            raise
        finally:
            await asyncio.sleep(0)  # let the cards' tickers see their cancellation
        return list(self.outcomes)

    async def cancel_leftovers(self) -> list[str]:
        """Cancel on the service every prediction that was created, did not end and was not
        cancelled already (an interrupt that landed inside a task leaves such ones)."""
        ids = [
            pid
            for i, pid in self.prediction_ids.items()
            if i not in self.cancelled and self.outcomes[i] is None
        ]
        for pid in ids:
            with contextlib.suppress(Exception):
                await self.client.cancel_prediction(pid)
        for i, card in enumerate(self.cards):
            if self.outcomes[i] is None:
                known = self.prediction_ids.get(i)
                error: BaseException = (
                    PredictionCancelledError(prediction_id=known, model=self.jobs[i].model)
                    if known
                    else asyncio.CancelledError("cancelled before it was created")
                )
                self.outcomes[i] = error
                card.fail(error)
                if known:
                    self.cancelled.add(i)
        return ids

    @property
    def cancelled_ids(self) -> list[str]:
        return [self.prediction_ids[i] for i in sorted(self.cancelled) if i in self.prediction_ids]

    # -- results ------------------------------------------------------------------------------

    def result(self) -> Generation | Results | BaseException | None:
        """One job: its Generation (or its exception); several: a labelled Results grid."""
        if len(self.jobs) == 1:
            return self.outcomes[0]
        items: list[tuple[str, Generation | BaseException]] = []
        for job, outcome in zip(self.jobs, self.outcomes, strict=True):
            items.append((job.label, outcome if outcome is not None else RuntimeError("not run")))
        return Results(items)

    @property
    def reused(self) -> int:
        return sum(1 for o in self.outcomes if isinstance(o, Generation) and o.reused)

    def close(self) -> None:
        """Close every widget of the cards (placeholders and thumbnails included)."""
        seen: set[int] = set()
        close_tree(self.view, seen)
        for widget in self._widgets:
            close_tree(widget, seen)

    def on_done(self, callback: Callable[[CellRun], None]) -> Callable[[asyncio.Task[Any]], None]:
        """A done-callback for a background task: reports an unexpected failure in the cards."""

        def done(task: asyncio.Task[Any]) -> None:
            if task.cancelled():
                for i, card in enumerate(self.cards):
                    if self.outcomes[i] is None:
                        card.set_status("cancelled")
            elif task.exception() is not None:
                exc = task.exception()
                for i, card in enumerate(self.cards):
                    if self.outcomes[i] is None:
                        card.fail(exc if exc is not None else RuntimeError("failed"))
            try:
                callback(self)
            except Exception as exc:  # never raise into the event loop
                log.warning("eachgen background callback failed: %s", exc)
                for card in self.cards:
                    card.set_status(card.status, f"could not store the result: {exc}")

        return done
