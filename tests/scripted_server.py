"""A scriptable stand-in of the EachLabs API on loopback, for tests of hostile answers.

``ScriptedServer(routes)`` serves on ``127.0.0.1`` (or another loopback host) in a daemon
thread. ``routes`` maps ``"METHOD /path-prefix"`` to ``fn(handler) -> (status, headers, body)``
(or ``None`` when ``fn`` wrote the answer itself). Anything unrouted gets a well-behaved
answer: a model detail, a create that answers an id, a poll that answers success with one PNG
on this server, and the PNG. Every request is logged with its headers and body.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL_SLUG = "flux-2-turbo-text-to-image"
SCHEMA = {
    "type": "object",
    "required": ["prompt"],
    "properties": {
        "prompt": {"type": "string"},
        "image_size": {"type": "string", "enum": ["square", "landscape_4_3"], "default": "square"},
        "num_images": {"type": "integer", "default": 1, "minimum": 1, "maximum": 4},
        "seed": {"type": "integer"},
    },
}
Answer = tuple[int, dict[str, str], bytes] | None
Route = Callable[[BaseHTTPRequestHandler], Answer]


def png_bytes(size: int = 8) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (30, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def as_json(value: Any) -> bytes:
    return json.dumps(value).encode()


class ScriptedServer:
    def __init__(self, routes: dict[str, Route] | None = None, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = dict(routes or {})
        self.log: list[dict[str, Any]] = []
        self.creates = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def handle_any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with server._lock:
                    server.log.append(
                        {
                            "method": self.command,
                            "path": self.path,
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": body,
                        }
                    )
                    if self.command == "POST" and self.path.rstrip("/") == "/v1/prediction":
                        server.creates += 1
                for key, route in list(server.routes.items()):
                    method, _, prefix = key.partition(" ")
                    if method == self.command and self.path.startswith(prefix):
                        answer = route(self)
                        if answer is not None:
                            self.reply(*answer)
                        return
                self.reply(*server.default(self))

            def reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
                try:
                    self.send_response(status)
                    headers = {"Content-Type": "application/json", **headers}
                    headers.setdefault("Content-Length", str(len(body)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = handle_any

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://{host}:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def default(self, handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        path = handler.path
        if path.startswith("/v1/model?"):
            return 200, {}, as_json({"slug": MODEL_SLUG, "request_schema": SCHEMA})
        if path.startswith("/v1/models"):
            return 200, {}, as_json([{"slug": MODEL_SLUG, "request_schema": SCHEMA}])
        if path.rstrip("/") == "/v1/prediction":
            return 200, {}, as_json({"status": "success", "predictionID": f"p{self.creates}"})
        if path.endswith("/cancel"):
            return 200, {}, as_json({"status": "cancelled"})
        if path.startswith("/v1/prediction/"):
            pid = path.split("/")[3]
            output = [f"{self.url}/files/{pid}/0.png"]
            return 200, {}, as_json({"id": pid, "status": "success", "output": output})
        if path.startswith("/files/"):
            return 200, {"Content-Type": "image/png"}, png_bytes()
        return 404, {}, as_json({"error": "not found"})

    def requests(self, method: str | None = None, prefix: str = "") -> list[dict[str, Any]]:
        with self._lock:
            return [
                r
                for r in self.log
                if (method is None or r["method"] == method) and r["path"].startswith(prefix)
            ]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> ScriptedServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
