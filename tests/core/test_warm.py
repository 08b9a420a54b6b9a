"""The warm-up after ``%load_ext``: the TLS context is built once per process, off the event
loop's thread when the warm-up ran, and every client uses it."""

from __future__ import annotations

import threading

import httpx
import pytest

from eachlabs_widgets import _http, _warm


@pytest.fixture
def fresh_warm_up(monkeypatch):
    monkeypatch.setattr(_warm, "_context", None)
    monkeypatch.setattr(_warm, "_started", threading.Event())
    built_in: list[str] = []
    real = _warm._create

    def create():
        built_in.append(threading.current_thread().name)
        return real()

    monkeypatch.setattr(_warm, "_create", create)
    return built_in


def _pool_context(client: httpx.AsyncClient):
    return client._transport._pool._ssl_context  # type: ignore[attr-defined]


async def test_every_client_shares_the_one_tls_context(fresh_warm_up):
    first, second = _http.new_client(), _http.new_client()
    try:
        assert _pool_context(first) is _pool_context(second) is _warm.ssl_context()
        assert fresh_warm_up == [threading.current_thread().name]  # built once, not per client
    finally:
        await first.aclose()
        await second.aclose()


async def test_after_the_warm_up_the_first_client_builds_nothing_on_the_loop(fresh_warm_up):
    _warm.start()
    for warmer in [t for t in threading.enumerate() if t.name == "eachlabs-warm-up"]:
        warmer.join(timeout=60)
    assert fresh_warm_up == ["eachlabs-warm-up"]
    client = _http.new_client()
    try:
        assert _pool_context(client) is _warm.ssl_context()
        assert fresh_warm_up == ["eachlabs-warm-up"]
    finally:
        await client.aclose()


def test_the_warm_up_thread_imports_nothing():
    # A module imported on a second thread while the kernel's thread imports the same package
    # can be handed over half-initialised: the thread must only read the CA bundle.
    import subprocess
    import sys

    code = (
        "import sys, threading\n"
        "from eachlabs_widgets import _warm\n"
        "before = set(sys.modules)\n"
        "_warm.start()\n"
        "[t.join(60) for t in threading.enumerate() if t.name == 'eachlabs-warm-up']\n"
        "assert _warm._context is not None\n"
        "print(sorted(set(sys.modules) - before))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
