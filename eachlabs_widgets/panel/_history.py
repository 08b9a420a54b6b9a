"""Which history the panel's strip lists: the journal's earlier sessions, or this session only.

The journal belongs to the kernel's user. In JupyterLab or Notebook that user is the person
at the keyboard; in a Voila app it is the server's account, shared by every visitor, so the
strip would show one visitor the prompts and images of all the others. Voila starts its
kernels with ``VOILA_*`` variables in their environment (``VOILA_SERVER_URL``,
``VOILA_BASE_URL``, ``VOILA_REQUEST_URL``, ``VOILA_PREHEAT``; voila/handler.py and
voila_kernel_manager.py, Voila 0.5), also when Voila runs as a Jupyter Server extension.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = ["HISTORY_MODES", "history_mode", "under_voila"]

HISTORY_MODES = ("journal", "session")
_VOILA_VARIABLES = ("VOILA_SERVER_URL", "VOILA_BASE_URL", "VOILA_REQUEST_URL", "VOILA_PREHEAT")


def under_voila(environ: Mapping[str, str] | None = None) -> bool:
    """True when this kernel was started by Voila (one of its ``VOILA_*`` variables is set)."""
    env = os.environ if environ is None else environ
    return any(env.get(name) for name in _VOILA_VARIABLES)


def history_mode(history: str | None, environ: Mapping[str, str] | None = None) -> str:
    """``history`` checked, or the default: ``"session"`` under Voila, else ``"journal"``.

    Raises ``ValueError`` naming the allowed values for anything else.
    """
    if history is None:
        return "session" if under_voila(environ) else "journal"
    if history not in HISTORY_MODES:
        allowed = ", ".join(repr(m) for m in HISTORY_MODES)
        raise ValueError(f"history must be one of {allowed} (or None), not {history!r}")
    return history
