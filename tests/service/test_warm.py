"""The warm-up after ``%load_ext``: the TLS context is built once per process, off the event
loop's thread when the warm-up ran, and every client uses it."""

from __future__ import annotations

import threading

import httpx
import pytest

from eachlabs_widgets._service import http as _http
from eachlabs_widgets._service import warm as _warm


def _join_warm_ups() -> None:
    for warmer in [t for t in threading.enumerate() if t.name == "eachlabs-warm-up"]:
        warmer.join(timeout=60)


@pytest.fixture
def fresh_warm_up(monkeypatch):
    _join_warm_ups()  # the one importing the HTTP layer started must not land in the test
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
    routes = client._transport._current()  # type: ignore[attr-defined]
    return routes.pool(httpx.URL("https://api.eachlabs.ai")).ssl_context  # a direct pool


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
    _join_warm_ups()
    assert fresh_warm_up == ["eachlabs-warm-up"]
    client = _http.new_client()
    try:
        assert _pool_context(client) is _warm.ssl_context()
        assert fresh_warm_up == ["eachlabs-warm-up"]
    finally:
        await client.aclose()


@pytest.mark.parametrize("bundle", ["certifi", "SSL_CERT_FILE"])
def test_the_warm_up_thread_imports_nothing(bundle, tmp_path):
    # A module imported on a second thread while the kernel's thread imports the same package
    # can be handed over half-initialised: the thread must only read the CA bundle. (Finding
    # certifi's bundle the first time imports importlib's resource readers: not in the thread.)
    import os
    import subprocess
    import sys

    import certifi

    env = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
    if bundle == "SSL_CERT_FILE":
        env["SSL_CERT_FILE"] = certifi.where()
    code = (
        "import sys, threading\n"
        "from eachlabs_widgets import _warm\n"
        "imported = []\n"
        "warm = _warm._warm\n"
        "def watched():\n"
        "    before = set(sys.modules)\n"
        "    warm()\n"
        "    imported.extend(sorted(set(sys.modules) - before))\n"
        "_warm._warm = watched\n"
        "_warm.start()\n"
        "[t.join(60) for t in threading.enumerate() if t.name == 'eachlabs-warm-up']\n"
        "assert _warm._context is not None\n"
        "print(imported)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="no fork on this platform")
def test_a_child_forked_while_the_context_was_being_built_builds_its_own():
    # The lock was held (as by the warm-up thread, mid-way) when the process forked: the
    # child, which has no such thread, must not wait for it forever.
    import subprocess
    import sys

    code = (
        "import os\n"
        "from eachlabs_widgets import _warm\n"
        "_warm._context_lock.acquire()\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    _warm.ssl_context()\n"
        "    os._exit(7)\n"
        "_, status = os.waitpid(pid, 0)\n"
        "print(os.waitstatus_to_exitcode(status))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "7"
