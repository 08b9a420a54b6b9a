"""The emulator on a real loopback socket (stdlib ``ThreadingHTTPServer``, daemon threads).

A malformed request gets a 4xx answer, never a dropped connection: a broken chunked body or a
bad ``Content-Length`` 400, a body over the limit 413 (read no further; the bucket's PUT answers
S3's ``EntityTooLarge`` instead), an unknown method 405, a broken request line 400 — each as
``{"error": …}`` JSON, and the connection is closed after it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Protocol
from urllib.parse import unquote, urlsplit

from .messages import Request, Response, body_limit


class Answers(Protocol):
    """What a server serves: the emulator, or a replayed trace (:mod:`.replay`)."""

    def handle(self, request: Request) -> Response: ...


class _BadBody(Exception):
    def __init__(self, answer: Response) -> None:
        self.answer = answer


def _malformed(message: str) -> _BadBody:
    return _BadBody(Response.error(400, message))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The base class's answer to what it cannot parse, as JSON and always a 4xx."""
        if code == HTTPStatus.NOT_IMPLEMENTED:  # an unknown method: the client's mistake
            code, message = 405, "Method not allowed"
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # the request line did not parse: answer in 1.1
            self.request_version = "HTTP/1.1"
        self._send(Response.error(code, message or HTTPStatus(code).phrase))

    def _too_large(self, path: str) -> _BadBody:
        return _BadBody(body_limit(path)[1])

    def _read_body(self, path: str) -> bytes:
        limit, _ = body_limit(path)
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            total = 0
            while True:
                line = self.rfile.readline(1024)
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    raise _malformed("Malformed chunked body") from None
                if size < 0:
                    raise _malformed("Malformed chunked body")
                if size == 0:
                    while self.rfile.readline(8192).strip():
                        pass
                    break
                total += size
                if total > limit:
                    raise self._too_large(path)
                chunk = self.rfile.read(size)
                if len(chunk) < size or self.rfile.readline(1024).strip():
                    raise _malformed("Malformed chunked body")
                chunks.append(chunk)
            return b"".join(chunks)
        raw = (self.headers.get("Content-Length") or "0").strip()
        if not raw.isdigit():
            raise _malformed("Invalid Content-Length header")
        length = int(raw)
        if length > limit:
            raise self._too_large(path)
        body = self.rfile.read(length) if length > 0 else b""
        if len(body) < length:
            raise _malformed("The body is shorter than its Content-Length")
        return body

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        try:
            body = self._read_body(path)
        except _BadBody as bad:
            # What is left of the body cannot be told from the next request: close after.
            self.close_connection = True
            self._send(bad.answer)
            return
        request = Request.build(
            self.command,
            path,
            query=parts.query,
            headers=list(self.headers.items()),
            body=body,
            scheme="http",
        )
        answer = self.server.emulator.handle(request)
        if answer.drop is not None:
            # Close without a word; the client sees the connection end.
            self.close_connection = True
            return
        if answer.delay > 0:
            time.sleep(answer.delay)
        self._send(answer)

    def _send(self, answer: Response) -> None:
        try:
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                if name.lower() != "content-length":
                    self.send_header(name, value)
            length = answer.headers.get("Content-Length", str(len(answer.body)))
            self.send_header("Content-Length", length)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    # Many clients connect at once (a notebook runs dozens of predictions): the default
    # backlog of 5 resets connections under that load, which a real service would not do.
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], emulator: Answers, verbose: bool) -> None:
        self.emulator = emulator
        self.verbose = verbose
        super().__init__(address, _Handler)


class EmulatorServer:
    """A running loopback server; a context manager. ``url`` is ``http://HOST:PORT``.

    ``emulator`` is what answers: an :class:`~.core.Emulator`, or a :class:`~.replay.Replay`.
    """

    def __init__(
        self, emulator: Answers, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False
    ) -> None:
        self.emulator = emulator
        self._httpd = _Server((host, port), emulator, verbose)
        self.host = host
        self.port: int = self._httpd.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"eachlabs-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        self._closed = False

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._httpd.shutdown()
        with contextlib.suppress(OSError):
            self._httpd.server_close()
        self._thread.join(timeout=5)

    def wait(self) -> None:
        """Block until :meth:`close` is called from another thread (or Ctrl-C)."""
        while self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def __enter__(self) -> EmulatorServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<EmulatorServer {self.url}>"


def serve(
    emulator: Answers, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False
) -> EmulatorServer:
    """Serve ``emulator`` on ``host:port`` (0: any free port) in a daemon thread."""
    return EmulatorServer(emulator, host, port, verbose=verbose)
