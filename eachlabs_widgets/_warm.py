"""Warm-up in the background after ``%load_ext``: the first prediction should not pay on the
kernel's event loop for importing the HTTP stack (httpx, httpcore, anyio, h11) or for building
the TLS context its client needs.

A daemon thread imports them and builds the process's one TLS context (:func:`ssl_context`)
while the user types the next cell; if the cell comes first, Python's import locks and this
module's lock make it wait for the same work, so nothing is done twice.
"""

from __future__ import annotations

import contextlib
import importlib
import ssl
import threading

__all__ = ["ssl_context", "start"]

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
_context_lock = threading.Lock()
_context: ssl.SSLContext | None = None


def ssl_context() -> ssl.SSLContext:
    """The TLS context every client of this process uses to reach the service: httpx's own
    default (certifi's bundle, or ``SSL_CERT_FILE``/``SSL_CERT_DIR`` as set when it is first
    built). Loading the CA bundle takes tens of milliseconds, so it is built once: by the
    warm-up thread when ``%load_ext`` started one, else by the first client."""
    global _context
    with _context_lock:
        if _context is None:
            import httpx

            _context = httpx.create_ssl_context()
        return _context


def _warm() -> None:
    # The TLS context first: the first cell needs it as soon as its imports are done.
    with contextlib.suppress(Exception):  # the first client builds it then, and says why not
        ssl_context()
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # a warm-up, never a requirement
            continue


def start() -> None:
    """Start the warm-up once per process."""
    if _started.is_set():
        return
    _started.set()
    threading.Thread(target=_warm, name="eachlabs-warm-up", daemon=True).start()
