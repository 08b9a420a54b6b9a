"""A scriptable stand-in of the EachLabs API and of a file host, on a real loopback socket.

Unlike the emulator it answers whatever a test scripts: the ``output`` of a successful poll
(``None``, a text, nested URLs…), the prediction ids it creates, and what the file host sends
for ``/files/…`` (a truncated PNG, an endless stream, an expired signed link…). Every request
is recorded with its headers.
"""

from __future__ import annotations

import io
import itertools
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

SLUG = "flux-2-turbo-text-to-image"
SCHEMA = {
    "type": "object",
    "required": ["prompt"],
    "properties": {
        "prompt": {"type": "string"},
        "num_images": {"type": "integer", "default": 1, "minimum": 1, "maximum": 4},
        "seed": {"type": "integer"},
    },
}
MODEL = {"title": "Flux 2 | Turbo", "slug": SLUG, "version": "0.0.1", "request_schema": SCHEMA}

#: (status, headers, body), or None when the handler wrote the answer itself.
Answer = tuple[int, dict[str, str], bytes] | None
FileHost = Callable[[BaseHTTPRequestHandler, "Stand"], Answer]


def png(width: int = 8, height: int = 8, colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


class Stand:
    """``url``; ``output(stand, prediction_id, inputs)`` scripts a poll's output (default: one
    PNG per ``num_images`` under ``/files/``); ``files`` scripts the file host; ``ids`` gives
    the prediction ids; ``requests`` records (method, path, headers)."""

    def __init__(self) -> None:
        self.output: Callable[[Stand, str, dict[str, Any]], Any] = default_output
        self.files: FileHost = lambda handler, stand: (200, {"Content-Type": "image/png"}, png())
        counter = itertools.count(1)
        self.ids: Callable[[], str] = lambda: f"pred-{next(counter):04d}"
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.inputs: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def creates(self) -> int:
        return sum(1 for m, p, _ in self.requests if m == "POST" and p == "/v1/prediction")

    def file_requests(self) -> list[dict[str, str]]:
        return [h for m, p, h in self.requests if m == "GET" and p.startswith("/files/")]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> Answer:
        path = handler.path
        if path.startswith("/v1/model?"):
            return 200, {}, json.dumps(MODEL).encode()
        if path.startswith("/v1/models"):
            return 200, {}, json.dumps([MODEL]).encode()
        if handler.command == "POST" and path == "/v1/prediction":
            pid = self.ids()
            with self._lock:
                self.inputs[pid] = json.loads(body or b"{}").get("input", {})
            return 200, {}, json.dumps({"status": "success", "predictionID": pid}).encode()
        if path.startswith("/v1/prediction/") and handler.command == "GET":
            pid = path.split("/")[3].split("?")[0]
            answer = {
                "id": pid,
                "status": "success",
                "output": self.output(self, pid, self.inputs.get(pid, {})),
                "metrics": {"cost": 0.01, "predict_time": 0.1},
            }
            return 200, {}, json.dumps(answer).encode()
        if path.startswith("/files/"):
            return self.files(handler, self)
        return 404, {}, b'{"error": "not found"}'


def default_output(stand: Stand, pid: str, inputs: dict[str, Any]) -> list[str]:
    count = int(inputs.get("num_images") or 1)
    return [f"{stand.url}/files/{pid}/{i}.png" for i in range(count)]


def _handler(stand: Stand) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def handle_one(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            with stand._lock:
                stand.requests.append((self.command, self.path, headers))
            answer = stand.answer(self, body)
            if answer is None:
                self.close_connection = True
                return
            status, extra, content = answer
            try:
                self.send_response(status)
                extra = {"Content-Type": "application/json", **extra}
                extra.setdefault("Content-Length", str(len(content)))
                for key, value in extra.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(content)
            except OSError:
                self.close_connection = True

        do_GET = do_POST = do_PUT = handle_one

    return Handler


def stream_forever(chunk: bytes, pause: float = 0.0, limit: int = 2 << 30) -> FileHost:
    """A file host that sends ``chunk`` after ``chunk`` (chunked encoding) until the client
    goes away (or ``limit`` bytes), pausing ``pause`` seconds between chunks."""
    import time

    def host(handler: BaseHTTPRequestHandler, stand: Stand) -> Answer:
        handler.send_response(200)
        handler.send_header("Content-Type", "image/png")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        sent = 0
        try:
            handler.wfile.write(b"8\r\n\x89PNG\r\n\x1a\n\r\n")
            while sent < limit:
                handler.wfile.write(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                handler.wfile.flush()
                sent += len(chunk)
                if pause:
                    time.sleep(pause)
            handler.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass
        return None

    return host


def watch_staging(monkeypatch: Any, made: list[Path] | None = None) -> list[Path]:
    """Every staging file downloads make from now on, appended to ``made`` (a new list by
    default), which is returned; ``monkeypatch`` undoes the watch."""
    from eachlabs_widgets._service import download

    made = [] if made is None else made
    real = download.staging_file

    def watched(folder: Path | None) -> tuple[int, Path]:
        fd, path = real(folder)
        made.append(path)
        return fd, path

    monkeypatch.setattr(download, "staging_file", watched)
    return made
