"""TAB completion against services that answer badly or not at all: every request counted.

Completion must never wait out the client's retry policy: one short attempt, then none for a
minute after a failure, and none at all for what is cached.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from IPython.core.completer import provisionalcompleter

from eachlabs_widgets.magics._catalogue import QUIET_FOR

from .conftest import FLUX


def complete(shell: Any, text: str) -> list[str]:
    with provisionalcompleter():
        found = list(shell.Completer.completions(text, len(text)))
    return [text[: c.start] + c.text for c in found]


class Counting(ThreadingHTTPServer):
    """A loopback service that answers every request with ``status`` and counts them."""

    daemon_threads = True

    def __init__(self, status: int) -> None:
        self.status = status
        self.paths: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.paths.append(self.path.split("?")[0])
                body = b'{"error": "unavailable"}'
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def failing(monkeypatch) -> Iterator[Counting]:
    server = Counting(503)
    monkeypatch.setenv("EACHLABS_BASE_URL", server.url)
    yield server
    server.shutdown()
    server.server_close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(shell) -> Clock:
    clock = Clock()
    shell._eachgen_magics.completion._clock = clock  # the shell fixture loads a fresh EachGen
    return clock


def test_cached_catalogue_and_schema_make_no_request(shell, emulator):
    complete(shell, "%%eachgen flux")
    complete(shell, f"%%eachgen {FLUX} --image_s")
    before = dict(emulator.stats.requests)
    for _ in range(5):
        assert f"%%eachgen {FLUX}" in complete(shell, "%%eachgen flux-2-t")
        assert f"%%eachgen {FLUX} --image_size" in complete(shell, f"%%eachgen {FLUX} --image_s")
    assert dict(emulator.stats.requests) == before
    assert shell._eachgen_magics.completion.attempts == 2  # the listing and the one schema


def test_an_error_answer_is_tried_once_without_retries(failing, clock, shell):
    for _ in range(4):
        assert not any("flux" in c for c in complete(shell, "%%eachgen fl"))
    assert failing.paths == ["/v1/models"]  # one try: a 503 is not retried, nor asked again


def test_another_attempt_only_after_a_quiet_minute(failing, clock, shell):
    complete(shell, "%%eachgen fl")
    clock.now += QUIET_FOR - 1
    complete(shell, "%%eachgen fl")
    assert len(failing.paths) == 1
    clock.now += 2
    complete(shell, "%%eachgen fl")
    assert len(failing.paths) == 2


def test_options_of_a_model_are_not_fetched_while_the_service_fails(failing, clock, shell):
    for _ in range(3):
        complete(shell, f"%%eachgen {FLUX} --image_s")
        complete(shell, "%%eachgen fl")
    assert len(failing.paths) == 1


def test_an_unknown_model_is_asked_for_once(shell, emulator, clock):
    for _ in range(3):
        complete(shell, "%%eachgen no-such-model --se")
    assert emulator.stats.requests.get("model") == 1
    assert shell._eachgen_magics.completion.attempts == 1


def test_a_silent_service_costs_one_short_attempt(shell, clock, monkeypatch):
    """A host that accepts connections but never answers (a stuck proxy)."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                accepted.append(silent.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    monkeypatch.setenv("EACHLABS_BASE_URL", f"http://127.0.0.1:{silent.getsockname()[1]}")
    completion = shell._eachgen_magics.completion
    completion.timeout = 0.2  # the same rule, sooner: the test need not wait 1.5 s
    try:
        for _ in range(3):
            complete(shell, "%%eachgen fl")
        assert completion.attempts == 1
        assert len(accepted) == 1
    finally:
        silent.close()
        for conn in accepted:
            conn.close()


def test_a_listing_made_by_a_line_magic_serves_completion(failing, clock, shell, monkeypatch):
    complete(shell, "%%eachgen fl")  # fails: quiet for a minute
    monkeypatch.setenv("EACHLABS_BASE_URL", "emulator")
    shell.run_line_magic("eachgen", "models")
    attempts = shell._eachgen_magics.completion.attempts
    assert f"%%eachgen {FLUX}" in complete(shell, "%%eachgen flux-2-t")
    assert shell._eachgen_magics.completion.attempts == attempts
