"""Runs made from a generation (``g.vary()``, ``g.remix()``) shown in a notebook cell: a live
card per run, as ``generate()`` shows one, left as one summary line when it ends (the
``Results`` or ``Generation`` returned shows the pictures). Registered with the service's
runner (:func:`.._service.rerun.set_presenter`) when this wing is imported."""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any

from .._display.render import summary_line
from .._generation import Generation
from .._service.rerun import set_presenter

if TYPE_CHECKING:
    from .._service.client import AsyncEachLabs

__all__ = ["cards_wanted", "present"]


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
    inputs: Mapping[str, Any],
    *,
    parent: str | None,
    timeout: float | None,
    save_to: str | None,
) -> Awaitable[Generation] | None:
    """The run with a live card in the current cell, or None outside a kernel."""
    if not cards_wanted():
        return None
    return _shown(client, model, dict(inputs), parent, timeout, save_to)


async def _shown(
    client: AsyncEachLabs,
    model: str,
    inputs: dict[str, Any],
    parent: str | None,
    timeout: float | None,
    save_to: str | None,
) -> Generation:
    from IPython.display import display

    from .runs import CellRun, Job

    run = CellRun(
        client,
        [Job(label=model, model=model, inputs=inputs, parent=parent)],
        timeout=timeout,
        save_to=save_to,
        reuse=True,
    )
    handle = display(run.view, display_id=True)
    outcome: Any = None
    try:
        await run.execute()
        outcome = run.outcomes[0]
    finally:
        done = isinstance(outcome, Generation)
        if handle is not None:  # the card gives way to one line (or nothing: the error says it)
            handle.update(summary_line(outcome) if done else {"text/plain": ""}, raw=True)
        run.close()
    if isinstance(outcome, BaseException):
        raise outcome
    assert isinstance(outcome, Generation)
    return outcome


set_presenter(present)
