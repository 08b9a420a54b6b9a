"""How a :class:`~._runs.CellRun` is shown in a cell: its live cards, then one static result
in their place. Shared by ``%%eachgen`` (foreground and ``--background``) and ``generate()``.

- :func:`wait_for`: a foreground run, waited for on the kernel's loop; an interrupt cancels on
  the service what it created.
- :func:`settle`: a foreground run's cards give way to the static result (or to nothing when
  the one run failed: the error says it, once), and every card widget is closed.
- :func:`show_in_background`: the cards stay live while the cell has returned; when the run
  ends they are replaced through ``update_display_data`` (so a notebook saved afterwards holds
  the image). Beside them, a note for a reopened notebook says how to get the result if the
  cards can no longer update. Under Voila, which shows no display update once the notebook
  has run, the cards' own widget view receives the result instead, and the run starts once
  the page shows that view (a page still loading widget state must not meet widgets made or
  closed meanwhile).
"""

from __future__ import annotations

import contextlib
import html
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from IPython.display import display

from .._display.markup import as_written
from .._display.render import ERROR, MUTED, error_sentence
from .runs import BackgroundRun, CellRun, in_voila, resume_note, static_bundle

__all__ = ["orphan_note", "settle", "show_in_background", "static_or_error", "wait_for"]

log = logging.getLogger("eachlabs_widgets")
T = TypeVar("T")
#: Seconds a background run under Voila waits for the page to show it before it starts.
SHOWN_WAIT = 30.0


def wait_for(run: CellRun) -> list[str] | None:
    """Run every job of ``run`` until it ends. On an interrupt (the kernel's stop button,
    Ctrl+C) every prediction it created is cancelled on the service, and the ids cancelled
    are returned; ``None`` when the run ended by itself."""
    from .._service.sync import run_sync

    try:
        run_sync(run.execute())
    except KeyboardInterrupt:
        with contextlib.suppress(BaseException):
            run_sync(run.cancel_leftovers())
        return run.cancelled_ids
    return None


def settle(handle: Any, run: CellRun, embed: str | None, *, failed: bool = False) -> None:
    """Put the static result where the live cards were (nothing when the one run failed: the
    error says it, once), then close the cards' widgets."""
    bundle = static_bundle(run, embed)
    if failed and len(run.jobs) == 1:
        bundle = {"text/plain": ""}
    if handle is not None:
        handle.update(bundle, raw=True)
    else:
        display(bundle, raw=True)
    run.close()


def orphan_note(text: str) -> dict[str, Any]:
    """A note beside a background card, for when it can no longer update. While the card is
    alive (a kernel behind it) the note is hidden; a reopened notebook shows it."""
    style = (
        "<style>.jp-OutputArea-child:has(.eachlabs-card) + .jp-OutputArea-child "
        ".eachlabs-orphan{display:none}</style>"
    )
    return {
        "text/plain": text,
        "text/html": as_written(
            f"{style}<div class='eachlabs-orphan' style='color:{MUTED};"
            f"font-size:85%'>{html.escape(text)}</div>"
        ),
    }


def static_or_error(run: CellRun, embed: str | None) -> dict[str, Any]:
    """A background run's static result; a single failed run says its error there (no
    exception can reach the cell any more)."""
    failure = run.failure()
    if failure is not None and len(run.jobs) == 1:
        text = error_sentence(failure)
        return {
            "text/plain": text,
            "text/html": as_written(
                f"<div class='eachlabs-failure' style='color:{ERROR}'>{html.escape(text)}</div>"
            ),
        }
    return static_bundle(run, embed)


def show_in_background(
    run: CellRun, embed: str | None, on_result: Callable[[Any], None]
) -> BackgroundRun:
    """Display ``run``'s cards, start it on the running loop and return its handle at once;
    ``on_result(result)`` is called when it ends. Raises ``RuntimeError`` without a running
    loop."""
    import asyncio

    loop = asyncio.get_running_loop()
    handle = display(run.view, display_id=True)
    voila = in_voila()
    note = None if voila else display(orphan_note(resume_note([])), raw=True, display_id=True)
    known: list[str] = []

    def ids_changed() -> None:
        ids = [run.prediction_ids[i] for i in sorted(run.prediction_ids)]
        if ids != known and note is not None and not run.done:
            known[:] = ids
            note.update(orphan_note(resume_note(ids)), raw=True)

    run.on_change(ids_changed)
    if voila:
        # The page asks for every widget's state once the notebook has run; a widget made or
        # closed meanwhile can leave a view referring to a model the page never gets ("widget
        # model not found"). The run starts when the page shows its view (which then counts
        # its views back to the kernel), or after SHOWN_WAIT seconds.
        run.view._view_count = 0
        task = loop.create_task(_once_shown(run.view, SHOWN_WAIT, run.execute))
    else:
        task = loop.create_task(run.execute())

    def finished(task: asyncio.Task[Any]) -> None:
        try:
            if task.cancelled():
                for card in run.cards:
                    if not card.ended:  # says "not billed" only if the service did
                        card.fail(asyncio.CancelledError())
            on_result(run.result())
            bundle = static_or_error(run, embed)
            if voila:
                run.settle_in_place(bundle)
                return
            if handle is not None:
                handle.update(bundle, raw=True)
            if note is not None:
                note.update({"text/plain": ""}, raw=True)
            run.close()
        except Exception as exc:  # never raise into the event loop
            log.warning("a background run could not show its result: %s", exc)

    task.add_done_callback(finished)
    return BackgroundRun(run, task)


async def _once_shown(view: Any, limit: float, then: Callable[[], Awaitable[T]]) -> T:
    """``await then()`` once a front end shows ``view`` (whose ``_view_count`` is a number,
    so that front ends count their views of it back to the kernel), or after ``limit``
    seconds."""
    import asyncio

    shown = asyncio.Event()

    def counted(change: dict[str, Any]) -> None:
        if change["new"]:
            shown.set()

    view.observe(counted, "_view_count")
    try:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(shown.wait(), limit)
    finally:
        view.unobserve(counted, "_view_count")
    return await then()
