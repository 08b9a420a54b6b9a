"""Runs made from a generation (``g.vary()``, ``g.remix()``) shown in a notebook cell, as
``generate()`` shows its run: live while they go (one card for a remix, one row of cards laid
out like the ``Results`` returned for ``vary``), then one line in their place. The
``Generation`` or ``Results`` returned shows the pictures. An interrupt (the kernel's stop
button) cancels the predictions and ends the cell with one line saying what the service
answered. Registered with the service's runner (:func:`.._service.rerun.set_presenter`) when
this wing is imported."""

from __future__ import annotations

import asyncio
import html
import os
import sys
from collections.abc import Awaitable, Coroutine, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

from .._display.markup import as_written
from .._display.render import ERROR, MUTED, one_line, short_id, summary_line
from .._exceptions import GenerationInterrupted, InputValidationError
from .._generation import Generation, Rerun
from .._service import cancels
from .._service.rerun import set_presenter
from .._service.sync import run_sync

if TYPE_CHECKING:
    from .._service.client import AsyncEachLabs
    from .runs import CellRun

__all__ = ["cards_wanted", "present", "variations_line", "wait"]

T = TypeVar("T")
Outcomes = list[Generation | BaseException]
#: What the runs of the call being waited for said when an interrupt cancelled them (a list
#: :func:`wait` reads, filled by :func:`_shown` in the task that runs the call).
_interrupted: ContextVar[list[str] | None] = ContextVar("eachlabs_interrupted", default=None)


def cards_wanted() -> bool:
    """A live card only in a Jupyter kernel with a frontend, unless ``EACHLABS_CARD=0``."""
    if os.environ.get("EACHLABS_CARD", "").strip().lower() in ("0", "false", "no", "off"):
        return False
    ipython = sys.modules.get("IPython")  # a kernel has it imported already
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if callable(get_ipython) else None
    return shell is not None and getattr(shell, "kernel", None) is not None


def present(
    client: AsyncEachLabs,
    model: str,
    runs: Sequence[Rerun],
    *,
    parent: str,
    timeout: float | None,
    save_to: str | None,
) -> Awaitable[Outcomes] | None:
    """The runs shown together in the current cell while they go (what each ended with, in
    order), or None outside a kernel."""
    if not cards_wanted():
        return None
    return _shown(client, model, list(runs), parent, timeout, save_to)


async def _shown(
    client: AsyncEachLabs,
    model: str,
    runs: list[Rerun],
    parent: str,
    timeout: float | None,
    save_to: str | None,
) -> Outcomes:
    from IPython.display import display

    from .runs import CellRun, Job

    jobs = [
        Job(label=r.label, model=model, inputs=dict(r.inputs), axes=dict(r.axes), parent=parent)
        for r in runs
    ]
    run = CellRun(client, jobs, timeout=timeout, save_to=save_to, reuse=True)
    handle = display(run.view, display_id=True)
    ended = False
    try:
        await run.execute()
        ended = True
    except asyncio.CancelledError:
        said = _interrupted.get()
        if said is not None:  # by then execute() had the service cancel what it created
            ids = run.cancelled_ids
            which = f"prediction{'s' if len(ids) > 1 else ''} {cancels.say(ids)}"
            said.append(which if ids else "nothing had been created yet: nothing was sent")
        raise
    finally:
        # The cards give way to one line (or to nothing when an error will say it): the
        # result returned shows the pictures, so nothing of the cards is left above it.
        if handle is not None:
            handle.update(_left(run, parent) if ended else {"text/plain": ""}, raw=True)
        run.close()
    outcomes: Outcomes = []
    for outcome in run.outcomes:
        assert outcome is not None  # every job ended (execute returned)
        # An error raised into the cell reads as one line, as generate()'s do.
        outcomes.append(one_line(outcome) if isinstance(outcome, Exception) else outcome)
    return outcomes


def wait(work: Coroutine[Any, Any, T]) -> T:
    """``work`` run to its end from synchronous code (:func:`~.._service.sync.run_sync`). An
    interrupt during runs shown here raises :class:`~.._exceptions.GenerationInterrupted`,
    one line naming the predictions cancelled and what the service answered, as
    ``generate()`` does."""
    said: list[str] = []
    token = _interrupted.set(said)
    try:
        return run_sync(work)
    except KeyboardInterrupt:
        if not said:
            raise
        raise one_line(GenerationInterrupted(f"interrupted: {'; '.join(said)}")) from None
    finally:
        _interrupted.reset(token)


def _left(run: CellRun, parent: str) -> dict[str, Any]:
    """What stays where the cards were: one run's summary line (nothing when it failed: its
    error says it), several runs' :func:`variations_line`."""
    if len(run.jobs) == 1:
        outcome = run.outcomes[0]
        return summary_line(outcome) if isinstance(outcome, Generation) else {"text/plain": ""}
    if all(isinstance(o, InputValidationError) for o in run.outcomes):
        return {"text/plain": ""}  # nothing was sent: the error raised says why
    return variations_line(run, parent)


def variations_line(run: CellRun, parent: str) -> dict[str, Any]:
    """The one line several runs made from ``parent`` leave when they end: how many, from
    which run, the model, how many failed or were left out, what was spent and where the
    files are (``✓ 4 variations of 2c5c4c5e · flux-2-pro · spent $0.120 · saved in
    eachgen_outputs``; without the mark, in the error colour, when none succeeded)."""
    made = [o for o in run.outcomes if isinstance(o, Generation)]
    counts = run.counts()
    total = len(run.jobs)
    bits = [f"{total} variations of {short_id(parent)}", run.jobs[0].model]
    if any(g.emulated for g in made):
        bits.append("emulator")
    if len(made) < total:
        bits.append(f"{len(made)} done")
    for key in ("failed", "cancelled"):
        if counts[key]:
            bits.append(f"{counts[key]} {key}")
    if counts["left out"]:
        bits.append(f"{counts['left out']} left out by the budget")
    spent = run.spent()
    if spent:
        bits.append(spent)
    folders = list(dict.fromkeys(str(path.parent) for g in made for path in g.paths))
    if len(folders) == 1:
        bits.append(f"saved in {folders[0]}")
    # Said even when every run failed: the Results returned may not be shown (``v = …``).
    text = ("✓ " if made else "") + " · ".join(bits)
    kind, colour = ("eachlabs-done", MUTED) if made else ("eachlabs-failure", ERROR)
    return {
        "text/plain": text,
        "text/html": as_written(
            f"<div class='{kind}' style='color:{colour};font-size:90%'>{html.escape(text)}</div>"
        ),
    }


set_presenter(present, wait)
