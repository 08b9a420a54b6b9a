"""Warm-up in the background: the first prediction should not build the TLS context its HTTP
client needs on the event loop (tens of milliseconds: the CA bundle is read and parsed). It
starts after ``%load_ext``, and in a script when the HTTP layer is imported (``from
eachlabs_widgets import generate``), so the bundle loads while the rest of the imports run
(OpenSSL reads it without holding the GIL).

The daemon thread imports nothing: a module imported in a second thread while the kernel's
thread imports a module of the same package (httpx and httpcore import each other) can hand one
of them a partly initialised module ("cannot import name … most likely due to a circular
import"). So everything the thread needs (:mod:`ssl`, :mod:`certifi`) is imported here, on the
caller's thread, and the thread only reads the CA bundle.

At exit the interpreter waits for the thread (it is brief): OpenSSL frees its tables when the
process exits, and a thread still loading the bundle then crashes it (SIGSEGV), as happens
when a kernel or script ends right after ``%load_ext``.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import ssl
import threading

import certifi

__all__ = ["ssl_context", "start"]

#: The longest the interpreter waits at exit for the warm-up to end (seconds).
EXIT_WAIT = 10.0

_started = threading.Event()
_context_lock = threading.Lock()
_context: ssl.SSLContext | None = None


def _create() -> ssl.SSLContext:
    """httpx's default verifying context (``httpx.create_ssl_context()``): certifi's bundle,
    or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when set."""
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    return ssl.create_default_context(cafile=certifi.where())


def ssl_context() -> ssl.SSLContext:
    """The TLS context every client of this process uses to reach the service. Loading the CA
    bundle takes tens of milliseconds, so it is built once: by the warm-up thread when
    ``%load_ext`` started one, else by the first client."""
    global _context
    with _context_lock:
        if _context is None:
            _context = _create()
        return _context


def _warm() -> None:
    with contextlib.suppress(Exception):  # the first client builds it then, and says why not
        ssl_context()


def _after_fork() -> None:
    """A child forked while the thread held the lock gets a free one (the thread is not
    copied; the child builds the context itself if it was not built yet)."""
    global _context_lock
    _context_lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_after_fork)


def start() -> None:
    """Start the warm-up once per process."""
    if _started.is_set():
        return
    _started.set()
    if not (os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR")):
        # Found here, on the caller's thread: the first certifi.where() imports importlib's
        # resource readers. (Should it fail, the first client meets the error and says why.)
        with contextlib.suppress(Exception):
            certifi.where()
    thread = threading.Thread(target=_warm, name="eachlabs-warm-up", daemon=True)
    thread.start()
    atexit.register(thread.join, EXIT_WAIT)
