"""Warm-up in the background after ``%load_ext``: the first prediction should not pay on the
kernel's event loop for importing the HTTP stack (httpx, httpcore, anyio, h11) and the client.

A daemon thread imports them while the user types the next cell; if the cell comes first,
Python's import locks make it wait for the same imports, so nothing is done twice.
"""

from __future__ import annotations

import importlib
import threading

__all__ = ["start"]

MODULES = (
    "eachlabs_widgets._client",
    "eachlabs_widgets._api",
    "httpcore._async.connection_pool",
    "httpcore._backends.anyio",
    "anyio._backends._asyncio",
    "h11",
    "certifi",
)
_started = threading.Event()


def _warm() -> None:
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # a warm-up, never a requirement
            continue
    try:
        import httpx

        httpx.create_ssl_context()  # reads the CA bundle once: the OS caches the file
    except Exception:
        pass


def start() -> None:
    """Start the warm-up once per process."""
    if _started.is_set():
        return
    _started.set()
    threading.Thread(target=_warm, name="eachlabs-warm-up", daemon=True).start()
