"""Runs shown in a notebook: jobs run concurrently on the kernel's loop, each with a live card,
then one static result in the cards' place. Shared by ``%%eachgen``, ``generate()`` and
``resume``.

The cards are tiles shaped and laid out like that result (:mod:`.._display.tiles`): each picture
appears where the result will show it, and the cell keeps its height when the cards give way.

The cards are widget state only: background work sets traits, never prints. Decoding images
and making thumbnails happen in a worker thread as each prediction ends, so neither the cards
nor the final result block the event loop. When a run ends, every widget of its cards is
closed (their pictures emptied first), so a saved notebook keeps no widget state of it.

:class:`CellRun` does not display anything itself; :func:`show_live` and :func:`finish_view`
do, so the magic and ``generate()`` share one way of showing a run:

- waiting (foreground): the cards, then the static result in their place;
- ``--background``: the cards with Cancel buttons, replaced by the same static result through
  ``update_display_data`` when the run ends (so a notebook saved afterwards holds the image),
  and a :class:`BackgroundRun` handle for ``-o``.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import os
import statistics
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from .._display.card import (
    FOREGROUND_HINT,
    close_tree,
    join_line,
    leave_line,
    number_the_line,
    typical_seconds,
)
from .._display.markup import as_written
from .._display.render import (
    EMULATOR_TAG,
    GRID_HEIGHT,
    MUTED,
    THUMBNAIL_HEIGHT,
    Results,
    cell_title,
    embed_mode,
    error_sentence,
    grid_pages,
    picture_aspect,
    prepare,
    said_once,
    set_embed_mode,
    short_id,
)
from .._display.tiles import (
    CONTENT_TEXT,
    TABLE_TEXT,
    Tile,
    TileParts,
    caption_lines,
    lay_out_pages,
)
from .._exceptions import BudgetExceededError, PredictionCancelledError
from .._generation import Generation
from .._service import cancels
from .._service.budget import usd
from .._service.download import off_loop

if TYPE_CHECKING:
    from .._service.client import AsyncEachLabs
    from .._service.prediction import Prediction

__all__ = [
    "BackgroundRun",
    "CellRun",
    "Job",
    "Outcome",
    "budget_note",
    "close_tree",
    "estimate_text",
    "resume_note",
    "static_bundle",
]

log = logging.getLogger("eachlabs_widgets")
#: Seconds a run settled in place keeps its cards' widgets open (see ``settle_in_place``).
VIEW_GRACE = 120.0
Outcome = Generation | BaseException
Runner = Callable[[int, Callable[["Prediction"], None]], Awaitable[Generation]]


@dataclass
class Job:
    """One prediction to run: its grid label, model and inputs (coerced, files as objects).

    ``axes`` says what sets it apart from the other jobs of its cell (``{"seed": 2}``, the
    model, the prompt): the grid's rows and columns. ``notes`` are said once above the result
    (an option this model does not take, say). ``aspect``: the pictures' width / height, when
    the inputs and the model's defaults tell it (the live tile takes the picture's shape).
    ``parent``: the prediction id of the run it is made from (recorded in the journal).
    """

    label: str
    model: str
    inputs: dict[str, Any]
    axes: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    aspect: float | None = None
    parent: str | None = None


def _prompt(job: Job) -> str | None:
    prompt = job.inputs.get("prompt") if isinstance(job.inputs, dict) else None
    return prompt if isinstance(prompt, str) else None


def _slots(job: Job) -> int:
    for key in ("num_images", "max_images"):
        value = job.inputs.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= 8:
            return value
    return 1


def estimate_text(jobs: Sequence[Job], prices: Mapping[str, float | None]) -> str:
    """``est. $0.060`` from the learned price per image of each model (``prices``), or
    ``price unknown`` while one of the models has none yet."""
    total = 0.0
    for job in jobs:
        price = prices.get(job.model)
        if price is None:
            return "price unknown"
        total += price * _slots(job)
    return f"est. ${total:.3f}"


def budget_note(outcomes: Sequence[Outcome | None]) -> str | None:
    """``budget $0.035: 2 of 5 cells run (3 left out: …)`` when a budget refused some of a
    grid's cells (before it started, or at their create), ``budget $0.035: none of the 5 cells
    run (…)`` when it refused them all; ``None`` when none was refused."""
    refused = [o for o in outcomes if isinstance(o, BudgetExceededError)]
    if not refused or len(outcomes) < 2:
        return None
    first = refused[0]
    unknown = all(o.estimate is None for o in refused)
    why = (
        "the spend reached it and their price is unknown"
        if unknown
        else "their learned price would pass it"
    )
    ran = len(outcomes) - len(refused)
    if not ran:
        return f"{first.setting} {usd(first.budget)}: none of the {len(outcomes)} cells run ({why})"
    return (
        f"{first.setting} {usd(first.budget)}: {ran} of {len(outcomes)} cells run "
        f"({len(refused)} left out, nothing sent for them: {why})"
    )


def resume_note(ids: Sequence[str]) -> str:
    """What a card that can no longer update should say (the kernel was restarted)."""
    shown = ", ".join(f"%eachgen resume {short_id(i)}" for i in ids) or "%eachgen history"
    return (
        "If the card above no longer updates (the kernel was restarted or the notebook "
        f"reopened), get the result with {shown}"
    )


class CellRun:
    """The jobs of one cell (or one ``generate()`` call), their cards, and what each ended
    with.

    ``background``: the cards get Cancel buttons (the cell returns at once); otherwise they say
    how to cancel a waiting cell. ``runner(index, on_update)`` replaces the default way a job
    runs (``client.run``), e.g. to follow an existing prediction (``resume``).
    """

    def __init__(
        self,
        client: AsyncEachLabs,
        jobs: Sequence[Job],
        *,
        timeout: float | None = None,
        save_to: str | None = None,
        reuse: bool = True,
        background: bool = False,
        runner: Runner | None = None,
        estimate: str | None = None,
        left_out: Mapping[int, BaseException] | None = None,
    ) -> None:
        self.client = client
        self.jobs = list(jobs)
        self.timeout = timeout
        self.save_to = save_to
        self.reuse = reuse
        self.background = background
        self._runner = runner
        settings = client.settings()
        self.base_url = settings.base_url
        self.emulated = settings.is_emulator
        # The cards are tiles of the result that replaces them (see _display.tiles): one figure, or a
        # grid with what every run shares said once above it.
        grid = len(self.jobs) > 1
        axes = [job.axes for job in self.jobs]
        # Three varying inputs: one grid per value of the first, each titled (grid_pages).
        self.pages = grid_pages(axes) if grid else (None, [None], [])
        self.keys = list(self.pages[2])
        model, prompt = said_once(
            (job.model for job in self.jobs), (_prompt(job) for job in self.jobs), axes
        )
        shared = grid and model is not None and prompt is not None and bool(self.keys)
        self.said_above = (model, prompt) if shared else None
        self.parts = TileParts()
        self.cards = [self._tile(i, job) for i, job in enumerate(self.jobs)]
        self.header = self.parts.html_widget()
        # Given: what the caller estimated before creating anything (reused cells at $0).
        self._estimate_given = estimate is not None
        self.estimate = estimate or "price unknown"
        # The placeholders are replaced by thumbnails at the end: keep them to close them.
        self._widgets: list[Any] = [w for card in self.cards for w in card.gallery.children]
        # One run's figure has no head: its tile's caption says the estimate instead.
        shown = (
            [self.header, lay_out_pages(self.cards, axes, self.pages, self.parts)] if grid else []
        )
        self.view = widgets.VBox(shown or self.cards, layout=self.parts.plain)
        self.view.add_class("eachlabs-run")
        self.prediction_ids: dict[int, str] = {}
        self.cancelled: set[int] = set()
        self.outcomes: list[Outcome | None] = [None] * len(self.jobs)
        self._tasks: dict[int, asyncio.Task[Outcome]] = {}
        self._listeners: list[Callable[[], None]] = []
        # Cells a budget leaves out before the run starts: never run, their cards say why.
        self.left_out = dict(left_out or {})
        for index, error in self.left_out.items():
            self.outcomes[index] = error
            self.cards[index].fail(error)
        self._render_header()

    def _tile(self, index: int, job: Job) -> Tile:
        """Job ``index``'s live card, shaped like its cell of the result."""
        grid = len(self.jobs) > 1
        kind = "matrix" if len(self.keys) == 2 else "grid" if grid else "figure"
        shared = self.said_above is not None
        prompt = None if shared else _prompt(job)
        return Tile(
            job.label,
            height=GRID_HEIGHT if grid else THUMBNAIL_HEIGHT,
            title=cell_title(job.label, job.axes, self.keys) if kind == "grid" else None,
            aspect=job.aspect or picture_aspect(job.inputs),
            slots=_slots(job),
            lines=caption_lines(
                kind, named=not shared, prompt=bool(prompt), saving=bool(self.save_to)
            ),
            named=not shared,
            text=TABLE_TEXT if kind == "matrix" else CONTENT_TEXT,
            prompt=prompt,
            expected=typical_seconds(self.client.journal, job.model, self.base_url),
            emulated=self.emulated and not shared,
            on_cancel=self._canceller(index) if self.background else None,
            # Said once, in the header, when the cell has several cards.
            hint=None if self.background or grid else FOREGROUND_HINT,
            parts=self.parts,
        )

    def _canceller(self, index: int) -> Callable[[], None]:
        def cancel() -> None:
            self.cancel(index)

        return cancel

    # -- what the header says -----------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        counts = {
            "queued": 0,
            "running": 0,
            "done": 0,
            "cancelled": 0,
            "failed": 0,
            "left out": 0,
        }
        for card, outcome in zip(self.cards, self.outcomes, strict=True):
            if outcome is None:
                counts["queued" if card.status == "queued" else "running"] += 1
            elif isinstance(outcome, BudgetExceededError):
                counts["left out"] += 1
            elif isinstance(outcome, (PredictionCancelledError, asyncio.CancelledError)):
                counts["cancelled"] += 1
            elif isinstance(outcome, BaseException):
                counts["failed"] += 1
            else:
                counts["done"] += 1
        return counts

    def summary(self) -> str:
        """``12 runs · 5 running · 2 queued · est. $0.060`` while it runs; once every run
        ended, what was spent (``spent $0.048``, ``$0 (reused)``, ``nothing spent``). Cells a
        budget left out are never "failed": ``5 cells · 2 done · 3 left out by the budget``."""
        c = self.counts()
        n = len(self.jobs)
        parts = [f"{n} cells" if c["left out"] else f"{n} run{'s' if n != 1 else ''}"]
        for key in ("running", "queued", "done", "cancelled", "failed"):
            if c[key]:
                parts.append(f"{c[key]} {key}")
        if c["left out"]:
            parts.append(f"{c['left out']} left out by the budget")
        said = self.spent() if self.done else self.estimate
        if said:
            parts.append(said)
        return " · ".join(parts)

    def spent(self) -> str | None:
        """What the ended run cost, as far as the service said; None when it said nothing."""
        made = [o for o in self.outcomes if isinstance(o, Generation)]
        paid = [g for g in made if not g.reused]
        costs = [g.cost for g in paid if g.cost is not None]
        if made and not paid:
            return "$0 (reused)"
        if not paid:
            cancelled = (PredictionCancelledError, asyncio.CancelledError)
            # Only what the service said is cancelled is never billed (API.md, "Cancel"): an
            # accepted cancel may still complete.
            confirmed = all(
                cancels.outcome(pid) == cancels.CANCELLED for pid in self.prediction_ids.values()
            )
            if confirmed and all(isinstance(o, cancelled) for o in self.outcomes):
                return "nothing spent"
            return None
        if len(costs) < len(paid):
            return "cost not reported"
        return f"spent ${sum(costs):.3f}"

    def _render_header(self) -> None:
        """The header says what the result's head will (the notes, the model and prompt every
        run shares) and, while the runs go, how many run, the estimate, how to cancel."""
        number_the_line()
        lines = [
            f"<div class='eachlabs-note' style='color:{MUTED};font-size:90%'>{html.escape(n)}</div>"
            for n in self.notes()
        ]
        said = [html.escape(self.summary())]
        model, prompt = self.said_above or (None, None)
        if model is not None:
            said[:0] = [f"<b>{html.escape(model)}</b>"] + [EMULATOR_TAG] * self.emulated
        lines.append(f"<div class='eachlabs-summary'>{' · '.join(said)}</div>")
        if prompt:
            lines.append(f"<div style='color:{MUTED}'>{html.escape(prompt)}</div>")
        # Kept to the end: gone when the last run ends, then the cards giving way, it would
        # move the cell twice. (A waiting cell's result replaces it at once.)
        if not self.background and len(self.jobs) > 1:
            lines.append(f"<div style='color:{MUTED};font-size:85%'>{FOREGROUND_HINT}</div>")
        self.header.value = f"<div style='{CONTENT_TEXT}'>{''.join(lines)}</div>"
        if len(self.cards) == 1 and self.cards[0].estimate != self.estimate:
            self.cards[0].estimate = self.estimate if self.estimate.startswith("est.") else None
            self.cards[0]._render()
        for listener in list(self._listeners):
            with contextlib.suppress(Exception):
                listener()

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` whenever a prediction of this run is created or ends."""
        self._listeners.append(listener)

    async def _estimate(self) -> None:
        if self._estimate_given:
            return
        journal = self.client.journal
        prices: dict[str, float | None] = {}
        for model in dict.fromkeys(job.model for job in self.jobs):
            costs: list[float] = []
            if journal is not None:
                with contextlib.suppress(Exception):
                    costs = await journal.acosts(model, self.base_url)
            prices[model] = statistics.median(costs) if costs else None
        self.estimate = estimate_text(self.jobs, prices)
        self._render_header()

    # -- running ------------------------------------------------------------------------------

    async def _one(self, index: int) -> Outcome:
        job, card = self.jobs[index], self.cards[index]
        created = False

        def on_update(prediction: Prediction) -> None:
            nonlocal created
            if prediction.id:
                self.prediction_ids[index] = prediction.id
            card.update(prediction)
            if not created or prediction.done:
                created = True
                self._render_header()

        card.start_ticker()
        try:
            if self._runner is not None:
                generation = await self._runner(index, on_update)
            else:
                generation = await self.client.run(
                    job.model,
                    job.inputs,
                    timeout=self.timeout,
                    on_update=on_update,
                    save_to=self.save_to,
                    reuse=self.reuse,
                    parent=job.parent,
                )
            heights = (card.picture_height,)
            try:  # decoding and scaling take tens of ms per image: never on the loop
                _imaging_loaded()  # imports stay on this thread (see _imaging_loaded)
                await off_loop(prepare, generation, heights, False)
            except Exception as exc:  # shown as links instead; never costs the result
                log.warning("could not make thumbnails for %s: %s", generation.id, exc)
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
            self._render_header()
            raise
        except Exception as exc:
            self.outcomes[index] = exc
            card.fail(exc)
            self._render_header()
            return exc
        self.outcomes[index] = generation
        try:
            card.finish(generation)
        except Exception as exc:  # showing it must never cost the cell a paid result
            log.warning("could not show the result of %s: %s", generation.id, exc)
            card.set_status("success", f"could not show the result: {exc}")
        # (A reused result says "$0 (reused)" on its tile, as in the result's caption.)
        self._render_header()
        return generation

    async def execute(self) -> list[Outcome | None]:
        """Run every job at once (the shared limiter bounds what is in flight).

        If this is cancelled (a kernel interrupt), every job is cancelled and awaited, which
        cancels its prediction on the service.
        """
        loop = asyncio.get_running_loop()
        estimate = loop.create_task(self._estimate())
        join_line(self.cards)
        self._tasks = {
            i: loop.create_task(self._one(i))
            for i in range(len(self.jobs))
            if i not in self.left_out
        }
        tasks = list(self._tasks.values())
        try:
            if tasks:  # none when a budget left every cell out
                await asyncio.wait(tasks)
        except asyncio.CancelledError:
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks)
            raise
        finally:
            estimate.cancel()
            leave_line(self.cards)
            await asyncio.sleep(0)  # let the cards' tickers see their cancellation
        return list(self.outcomes)

    def cancel(self, index: int | None = None) -> bool:
        """Cancel one job (or every job): its prediction is cancelled on the service. Returns
        True when something was still running."""
        tasks = self._tasks.items() if index is None else [(index, self._tasks.get(index))]
        cancelled = False
        for _, task in tasks:
            if task is not None and not task.done():
                task.cancel()
                cancelled = True
        return cancelled

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

    @property
    def done(self) -> bool:
        return all(o is not None for o in self.outcomes)

    # -- results ------------------------------------------------------------------------------

    def result(self) -> Generation | Results | BaseException | None:
        """One job: its Generation (or its exception); several: a labelled Results grid."""
        if len(self.jobs) == 1:
            return self.outcomes[0]
        items: list[tuple[str, Generation | BaseException]] = []
        for job, outcome in zip(self.jobs, self.outcomes, strict=True):
            items.append((job.label, outcome if outcome is not None else RuntimeError("not run")))
        return Results(items, [job.axes for job in self.jobs], folder=self.save_to)

    def failure(self) -> BaseException | None:
        """The error to raise for this run: the one error of a single job, or the first when
        every job of several that was sent failed; None when something succeeded, or when a
        budget left out every cell of several (nothing was sent: no error of the service;
        :attr:`all_left_out` says so)."""
        if any(isinstance(o, Generation) for o in self.outcomes):
            return None
        errors = [o for o in self.outcomes if isinstance(o, BaseException)]
        if len(self.jobs) > 1:
            errors = [e for e in errors if not isinstance(e, BudgetExceededError)]
        if not errors:
            return None
        return errors[0]

    @property
    def all_left_out(self) -> bool:
        """Every cell of several was refused by a budget before its create: nothing sent."""
        return len(self.jobs) > 1 and all(isinstance(o, BudgetExceededError) for o in self.outcomes)

    def notes(self) -> list[str]:
        """What is said once above the result: the jobs' notes, what a budget left out, and
        the session's spend against the budget when one is set."""
        notes = list(dict.fromkeys(n for job in self.jobs for n in job.notes))
        left_out = budget_note(self.outcomes)
        if left_out:
            notes.append(left_out)
        budget = getattr(self.client, "budget", None)
        if budget is not None and budget.limit is not None:
            notes.append(f"this session: {budget.describe()}")
        return notes

    @property
    def reused(self) -> int:
        return sum(1 for o in self.outcomes if isinstance(o, Generation) and o.reused)

    def settle_in_place(self, bundle: Mapping[str, Any], close_after: float = VIEW_GRACE) -> None:
        """Show ``bundle`` inside the run's own view, in the cards' place (whose widgets are
        closed ``close_after`` seconds later). For a page that takes no display update once
        the notebook has run (Voila): the view stays, and the result arrives as widget state.

        Why not close them at once: a page still loading (Voila fetches every widget's state
        after the notebook ran, slowly on a busy machine) may have read the view while it
        still held the cards, and a card closed before its state is fetched breaks the view
        ("javascript error") instead of letting the result replace it."""
        text = bundle.get("text/html")
        if not text:
            text = f"<pre>{html.escape(str(bundle.get('text/plain', '')))}</pre>"
        old = list(self.view.children)
        self.view.children = (widgets.HTML(text, layout=self.parts.plain),)
        self._let_go_of_pictures()

        def close_the_cards() -> None:
            # The cards share layouts and styles with what stays: those stay open.
            keep = close_tree(self.view, close=False)
            for widget in [*old, self.header, *self._widgets]:
                close_tree(widget, keep)

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None or close_after <= 0:
            close_the_cards()
        else:
            loop.call_later(close_after, close_the_cards)

    def _let_go_of_pictures(self) -> None:
        """Empty the tiles' pictures once the result holds them: a notebook run headless
        (nbclient, papermill) keeps the last state of every widget it saw, closed or not, and
        would save each picture twice."""
        for card in self.cards:
            for child in card.gallery.children:
                if isinstance(child, widgets.Image) and child.comm is not None:
                    child.value = b""

    def close(self) -> None:
        """Close every widget of the cards (placeholders and thumbnails included)."""
        self._let_go_of_pictures()
        seen: set[int] = set()
        close_tree(self.view, seen)
        close_tree(self.header, seen)
        for widget in self._widgets:
            close_tree(widget, seen)


def static_bundle(run: CellRun, embed: str | None = None) -> dict[str, Any]:
    """What stays in the cell when ``run`` ends: its result (a figure or a grid), the notes of
    its jobs, and nothing from the cards. A single failed job leaves an empty output: the
    error is said once, by the exception."""
    previous = embed_mode()
    if embed:
        set_embed_mode(embed)
    try:
        result = run.result()
        if isinstance(result, BaseException) or result is None:
            bundle: dict[str, Any] = {"text/plain": ""}
        else:
            bundle = dict(result._repr_mimebundle_())
    finally:
        set_embed_mode(previous)
    notes = run.notes()
    if notes and "text/html" in bundle:
        said = "".join(
            f"<div class='eachlabs-note' style='color:{MUTED};font-size:90%'>{html.escape(n)}</div>"
            for n in notes
        )
        bundle["text/html"] = as_written(said + bundle["text/html"])
        bundle["text/plain"] = "\n".join(notes) + "\n" + bundle["text/plain"]
    return bundle


class BackgroundRun:
    """A handle on a ``--background`` run, bound to ``-o NAME`` at once.

    ``done()`` says whether every prediction ended; ``result(timeout=None)`` waits for it (in a
    kernel, the loop keeps running meanwhile) and returns the ``Generation`` (one run) or
    ``Results`` (several), raising the error of a run that failed; ``cancel()`` asks the
    service to cancel what still runs (the cards say what it answered: "not billed" only for
    what it cancelled). Its repr shows the progress.
    """

    def __init__(self, run: CellRun, task: asyncio.Task[Any]) -> None:
        self._run = run
        self._task = task

    def done(self) -> bool:
        return self._task.done()

    def cancel(self) -> bool:
        """Cancel every prediction still running; True when something was."""
        return self._run.cancel()

    @property
    def prediction_ids(self) -> list[str]:
        return [self._run.prediction_ids[i] for i in sorted(self._run.prediction_ids)]

    def result(self, timeout: float | None = None) -> Any:
        """The result once every prediction ended (raises ``TimeoutError`` after ``timeout``
        seconds; the run goes on)."""
        from .._service.sync import run_sync

        if not self._task.done():

            async def wait() -> None:
                await asyncio.wait_for(asyncio.shield(self._task), timeout)

            try:
                run_sync(wait())
            except asyncio.TimeoutError:
                raise TimeoutError(f"the run did not end within {timeout:g} s") from None
        failure = self._run.failure()
        if failure is not None:
            raise failure
        return self._run.result()

    def __getattr__(self, name: str) -> Any:
        # Once it ended, the handle reads like its result (``bg.images``, ``bg.paths``).
        if name.startswith("__") or name in ("_run", "_task"):
            raise AttributeError(name)
        if not self._task.done():
            raise AttributeError(
                f"{name!r}: the run is still going; .result() waits for it, .done() says "
                "whether it ended"
            )
        return getattr(self.result(), name)

    def __repr__(self) -> str:
        state = "done" if self.done() else "running"
        return f"<BackgroundRun {state}: {self._run.summary()}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def in_voila() -> bool:
    """Whether this kernel serves a Voila page. Voila shows a notebook's outputs as it runs
    it: an ``update_display_data`` sent later never reaches the page, widget messages do."""
    return any(name in os.environ for name in ("VOILA_KERNEL_ID", "VOILA_BASE_URL"))


def describe_failure(error: BaseException) -> str:
    """One line for an error a cell ends with."""
    return error_sentence(error)


def _imaging_loaded() -> None:
    """Import Pillow and its format plugins on the calling thread, once.

    The decoding thread must import nothing: a module imported on a second thread while this
    one imports from the same package can be handed over half-initialised."""
    from .._display.thumbs import load_imaging

    load_imaging()
