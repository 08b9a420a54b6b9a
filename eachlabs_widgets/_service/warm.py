"""Warm-up in the background: the first prediction should not build the TLS context its HTTP
client needs on the event loop (tens of milliseconds: the CA bundle is read and parsed). It
starts after ``%load_ext``, and in a script when the HTTP layer is imported (``from
eachlabs_widgets import generate``), so the bundle loads while the rest of the imports run
(OpenSSL reads it without holding the GIL).

The thread imports nothing: a module imported in a second thread while the kernel's
thread imports a module of the same package (httpx and httpcore import each other) can hand one
of them a partly initialised module ("cannot import name … most likely due to a circular
import"). So everything the thread needs (:mod:`ssl`, :mod:`certifi`) is imported here, on the
caller's thread, and the thread only reads the CA bundle.

At exit the interpreter waits for the thread (it is brief): OpenSSL frees its tables when the
process exits, and a thread still loading the bundle then crashes it (SIGSEGV), as happens
when a kernel or script ends right after ``%load_ext``. So the thread is not a daemon: the
interpreter joins it before anything is torn down. (A daemon thread joined from an ``atexit``
handler still crashed about one exit in four.)
"""

from __future__ import annotations

import contextlib
import os
import ssl
import threading

import certifi

from . import trust

__all__ = ["ssl_context", "start"]

_started = threading.Event()
_context_lock = threading.Lock()
_context: ssl.SSLContext | None = None
#: What ``_context`` was built from (:func:`.trust.fingerprint`).
_built_for: tuple[object, ...] | None = None


def _create() -> ssl.SSLContext:
    return trust.create_context(trust.source())


def ssl_context() -> ssl.SSLContext:
    """The TLS context every client of this process uses to reach the service. Loading the CA
    bundle takes tens of milliseconds, so it is built once: by the warm-up thread when
    ``%load_ext`` started one, else by the first client; and again when the variables that
    choose the CA certificates change (:mod:`.trust`). Raises ``ConfigurationError`` for a
    variable that names no usable file."""
    global _context, _built_for
    wanted = trust.fingerprint()
    with _context_lock:
        if _context is None or _built_for != wanted:
            _context = _create()
            _built_for = wanted
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
    if trust.fingerprint()[
        0
    ]:  # truststore: the first client builds it (the thread imports nothing)
        return
    if not any(trust.fingerprint()[1:]):
        # Found here, on the caller's thread: the first certifi.where() imports importlib's
        # resource readers. (Should it fail, the first client meets the error and says why.)
        with contextlib.suppress(Exception):
            certifi.where()
    # not a daemon: joined at exit before OpenSSL is torn down (see the module's docstring)
    threading.Thread(target=_warm, name="eachlabs-warm-up", daemon=False).start()
