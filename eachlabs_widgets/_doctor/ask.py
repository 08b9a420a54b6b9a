"""Asking y/N of whoever can answer: a terminal, or a notebook's ``input()`` box."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["ask"]


def _kernel() -> Any:
    """The running Jupyter kernel's shell, or ``None`` (a terminal IPython has no kernel)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell if getattr(shell, "kernel", None) is not None else None


def ask(question: str) -> bool | None:
    """``True`` for y/yes, ``False`` for anything else, ``None`` when no one can answer.

    In a kernel the frontend's input box asks (a frontend that allows no input, such as
    nbconvert or papermill, counts as no one); elsewhere only a terminal on stdin does: a
    script fed by a pipe or run by a scheduler is never read from.
    """
    prompt = f"{question} [y/N] "
    if _kernel() is not None:
        from IPython.core.error import StdinNotImplementedError

        try:
            reply = input(prompt)
        except (EOFError, StdinNotImplementedError):
            return None
    elif sys.stdin is not None and sys.stdin.isatty():
        try:
            reply = input(prompt)
        except EOFError:
            return None
    else:
        return None
    return reply.strip().lower() in ("y", "yes")
