"""After ``%load_ext``, load what the first ``%%eachgen`` cell needs while the kernel is idle.

``%load_ext`` itself imports nothing heavy (it must stay cheap), so the first cell, or the first
TAB on a model's inputs, would pay a few hundred milliseconds of imports on the kernel's loop.
Instead they run on the loop's own thread (never on a worker thread: a module imported in a
second thread while this one imports from the same package can be handed over half-initialised),
a module group per callback, so a message that arrives meanwhile waits for one group at most.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from typing import Any

__all__ = ["GROUPS", "preload_when_idle"]

#: What a first cell imports, in the order it needs it; each a callback of its own.
GROUPS: tuple[tuple[str, ...], ...] = (
    # ``_schema`` in steps of at most ~40 ms: urllib (for media paths), then jsonschema's stack
    ("urllib.request",),
    ("attrs",),
    ("referencing",),
    ("eachlabs_widgets._schema.jsonschema",),  # jsonschema without its format checkers
    ("eachlabs_widgets._schema.rules",),
    ("eachlabs_widgets._schema.inputs",),
    ("httpx",),
    (
        "httpcore",
        "anyio._backends._asyncio",
    ),  # what ``_service.http`` imports for the first request
    # the pool of direct connections: one step of ~0.2 s (aiohttp builds its TLS contexts as
    # it loads), which no import order splits
    ("aiohttp", "eachlabs_widgets._service.aio"),
    ("eachlabs_widgets._service.client",),
    ("eachlabs_widgets._notebook.runs", "eachlabs_widgets._notebook.run_display"),
    (
        "eachlabs_widgets._service.sync",
        "eachlabs_widgets._display.cellsyntax",
        "eachlabs_widgets._display.tables",
    ),
    ("PIL.Image",),
)
#: Seconds after ``%load_ext`` before the first group, and between groups.
START = 1.0
GAP = 0.05


def preload_when_idle(shell: Any) -> bool:
    """Schedule the imports on the running loop of a kernel; False (nothing scheduled) outside
    one. Never imports :mod:`asyncio` itself: a kernel has it already."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is None or getattr(shell, "kernel", None) is None:
        return False
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return False
    remaining = list(GROUPS)

    def step() -> None:
        if not remaining:
            return
        for name in remaining.pop(0):
            with contextlib.suppress(Exception):  # the cell that needs it will say why
                module = importlib.import_module(name)
                if name == "PIL.Image":
                    module.init()  # the format plugins, as decoding needs them
        if remaining:
            loop.call_later(GAP, step)

    loop.call_later(START, step)
    return True
