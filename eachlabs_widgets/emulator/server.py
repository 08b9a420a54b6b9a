"""The emulator on a real loopback socket (stdlib ``ThreadingHTTPServer``, daemon threads)."""

from __future__ import annotations

import contextlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from .messages import Request

if TYPE_CHECKING:
    from .core import Emulator


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        request = Request.build(
            self.command,
            unquote(parts.path),
            query=parts.query,
            headers=list(self.headers.items()),
            body=self._read_body(),
            scheme="http",
        )
        answer = self.server.emulator.handle(request)
        if answer.drop is not None:
            # Close without a word; the client sees the connection end.
            self.close_connection = True
            return
        if answer.delay > 0:
            time.sleep(answer.delay)
        try:
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                if name.lower() != "content-length":
                    self.send_header(name, value)
            length = answer.headers.get("Content-Length", str(len(answer.body)))
            self.send_header("Content-Length", length)
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

    def __init__(self, address: tuple[str, int], emulator: Emulator, verbose: bool) -> None:
        self.emulator = emulator
        self.verbose = verbose
        super().__init__(address, _Handler)


class EmulatorServer:
    """A running loopback server; a context manager. ``url`` is ``http://HOST:PORT``."""

    def __init__(
        self, emulator: Emulator, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False
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
    emulator: Emulator, host: str = "127.0.0.1", port: int = 0, *, verbose: bool = False
) -> EmulatorServer:
    """Serve ``emulator`` on ``host:port`` (0: any free port) in a daemon thread."""
    return EmulatorServer(emulator, host, port, verbose=verbose)
