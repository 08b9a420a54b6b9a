"""Serve a recorded trace back: ``python -m eachlabs_widgets.emulator --replay TRACE``.

A trace (``doctor(live=True)`` writes one) is a JSON Lines file. Its first line is a header
object ``{"trace": "eachlabs-widgets", "version": 1, "base_url": "<api origin>", ...}``; each
further line is one exchange::

    {"request": {"method": "GET", "url": "<absolute URL, signatures cut>",
                 "headers": {...}, "body": BODY},
     "response": {"status": 200, "headers": {...}, "body": BODY},
     "elapsed_ms": n}

where ``BODY`` is a JSON value, ``{"text": str}``, ``{"bytes": n, "sha256": hex,
"content_type": str}`` or ``null``. Blank lines are skipped; other keys are ignored, and
answers come at once (``elapsed_ms`` is not waited for).

A request is answered by the next unused exchange with the same method and URL path (the query
is ignored) whose URL origin is the header's ``base_url``. Exchanges with other origins (an
upload's PUT, output downloads) are served under this server's own origin, at
``/_replay/{scheme}/{host}/{path}``: every URL of the API's origin or of those origins is
rewritten wherever it appears in a replayed JSON or text body (and in a ``Location`` header),
so a client follows them back here. A body recorded as ``{"bytes": …}`` is answered with a
deterministic placeholder of its content type: a real image for ``image/png``, ``image/jpeg``
and ``image/webp``, otherwise ``n`` bytes (at most 16 MB) derived from its digest. A request
with no exchange left answers ``404 {"error": "no recorded exchange for METHOD PATH"}``.
Answers carry ``X-EachLabs-Emulator: replay``: what they hold is not the service's.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from PIL import Image

from . import imaging
from .messages import Request, Response

TRACE_NAME = "eachlabs-widgets"
TRACE_VERSION = 1
FOREIGN_PREFIX = "/_replay/"
MAX_PLACEHOLDER = 16 * 1024 * 1024
# Headers that described the recorded transfer, not what is replayed.
_DROPPED_HEADERS = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "content-encoding"}
)
_URL_ORIGIN = re.compile(r"(?i)\bhttps?://[^/\s\"'<>?#\\]+")
_IMAGE_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/webp": "webp"}


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, lower-case, without the scheme's default port."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # IPv6
        host = f"[{host}]"
    port = parts.port
    if port is None or (scheme, port) in (("http", 80), ("https", 443)):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


@dataclass
class Exchange:
    """One recorded request and its answer."""

    method: str
    origin: str
    path: str
    status: int
    headers: dict[str, str]
    body: Any
    used: bool = False


def _exchange(raw: Any, where: str) -> Exchange:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: an exchange must be a JSON object")
    request, response = raw.get("request"), raw.get("response")
    if not isinstance(request, dict) or not isinstance(response, dict):
        raise ValueError(f"{where}: an exchange needs 'request' and 'response' objects")
    method, url, status = request.get("method"), request.get("url"), response.get("status")
    if not isinstance(method, str) or not method:
        raise ValueError(f"{where}: request.method must be a string")
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"{where}: request.url must be an absolute http(s) URL")
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise ValueError(f"{where}: response.status must be an HTTP status")
    headers = response.get("headers") or {}
    if not isinstance(headers, dict):
        raise ValueError(f"{where}: response.headers must be an object")
    return Exchange(
        method=method.upper(),
        origin=origin_of(url),
        path=unquote(urlsplit(url).path) or "/",
        status=status,
        headers={str(k): str(v) for k, v in headers.items()},
        body=response.get("body"),
    )


def _header(line: str) -> str:
    """The API origin named by a trace's header line; ``ValueError`` if it is no such line."""
    try:
        header = json.loads(line)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("trace") != TRACE_NAME:
        raise ValueError(
            f'line 1: not an eachlabs-widgets trace (expected {{"trace": "{TRACE_NAME}", ...}})'
        )
    if header.get("version") != TRACE_VERSION:
        raise ValueError(
            f"line 1: trace version {header.get('version')!r} is not supported "
            f"(this reader knows version {TRACE_VERSION})"
        )
    base_url = header.get("base_url")
    if not isinstance(base_url, str) or urlsplit(base_url).scheme not in ("http", "https"):
        raise ValueError("line 1: base_url must be the API's http(s) origin")
    return origin_of(base_url)


def placeholder(size: int, sha256: str, content_type: str) -> bytes:
    """Deterministic stand-in bytes for a body recorded only by its size and digest."""
    seed = hashlib.sha256(f"{sha256}:{size}:{content_type}".encode()).digest()
    fmt = _IMAGE_FORMATS.get(content_type.split(";")[0].strip().lower())
    if fmt is not None:
        image = Image.new("RGB", (64, 64), (seed[0], seed[1], seed[2]))
        image.paste((seed[3], seed[4], seed[5]), (16, 16, 48, 48))
        return imaging.encode(image, fmt)
    block = seed * 32
    count = max(0, min(int(size), MAX_PLACEHOLDER))
    buffer = io.BytesIO()
    while buffer.tell() < count:
        buffer.write(block[: count - buffer.tell()])
    return buffer.getvalue()


class Replay:
    """Answers requests from a trace's exchanges (see the module docstring); thread-safe."""

    def __init__(self, exchanges: Iterable[Exchange], base_url: str) -> None:
        self.api_origin = origin_of(base_url)
        self.exchanges = list(exchanges)
        self.foreign = {e.origin for e in self.exchanges if e.origin != self.api_origin}
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, lines: Iterable[str]) -> Replay:
        """A replay of the trace's lines; ``ValueError`` names the first bad line."""
        numbered = [(n, line) for n, line in enumerate(lines, 1) if line.strip()]
        if not numbered:
            raise ValueError("the trace is empty")
        api_origin = _header(numbered[0][1])
        exchanges = []
        for number, line in numbered[1:]:
            try:
                raw = json.loads(line)
            except ValueError:
                raise ValueError(f"line {number}: not JSON") from None
            exchanges.append(_exchange(raw, f"line {number}"))
        return cls(exchanges, api_origin)

    @classmethod
    def load(cls, path: str | Path) -> Replay:
        """The trace at ``path``; ``OSError`` if unreadable, ``ValueError`` if malformed."""
        text = Path(path).read_text(encoding="utf-8")
        return cls.parse(text.splitlines())

    @property
    def remaining(self) -> int:
        """How many exchanges no request has used yet."""
        with self._lock:
            return sum(1 for e in self.exchanges if not e.used)

    def handle(self, request: Request) -> Response:
        origin, path = self.api_origin, request.path
        if request.path.startswith(FOREIGN_PREFIX):
            scheme, _, rest = request.path[len(FOREIGN_PREFIX) :].partition("/")
            host, _, tail = rest.partition("/")
            origin, path = f"{scheme}://{host}".lower(), "/" + tail
        with self._lock:
            found = next(
                (
                    e
                    for e in self.exchanges
                    if not e.used
                    and e.method == request.method
                    and e.origin == origin
                    and e.path == path
                ),
                None,
            )
            if found is not None:
                found.used = True
        if found is None:
            answer = Response.error(
                404, f"no recorded exchange for {request.method} {request.path}"
            )
        else:
            answer = self._answer(found, request.base_url)
        answer.headers["X-EachLabs-Emulator"] = "replay"
        return answer

    # ------------------------------------------------------------------------- answers

    def _rewrite(self, text: str, own: str) -> str:
        def swap(match: re.Match[str]) -> str:
            origin = origin_of(match.group(0))
            if origin == self.api_origin:
                return own
            if origin in self.foreign:
                scheme, _, host = origin.partition("://")
                return f"{own}{FOREIGN_PREFIX}{scheme}/{host}"
            return match.group(0)

        return _URL_ORIGIN.sub(swap, text)

    def _rewrite_json(self, value: Any, own: str) -> Any:
        if isinstance(value, str):
            return self._rewrite(value, own)
        if isinstance(value, list):
            return [self._rewrite_json(v, own) for v in value]
        if isinstance(value, dict):
            return {k: self._rewrite_json(v, own) for k, v in value.items()}
        return value

    def _answer(self, exchange: Exchange, own: str) -> Response:
        headers = {k: v for k, v in exchange.headers.items() if k.lower() not in _DROPPED_HEADERS}
        recorded_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
        for name in [k for k in headers if k.lower() == "location"]:
            headers[name] = self._rewrite(headers[name], own)
        body = exchange.body
        if body is None:
            return Response(exchange.status, headers, b"")
        if isinstance(body, dict) and set(body) == {"text"} and isinstance(body["text"], str):
            return Response(exchange.status, headers, self._rewrite(body["text"], own).encode())
        if isinstance(body, dict) and {"bytes", "sha256"} <= set(body):
            content_type = str(body.get("content_type") or recorded_type or "")
            data = placeholder(int(body["bytes"] or 0), str(body["sha256"]), content_type)
            if content_type and recorded_type is None:
                headers["Content-Type"] = content_type
            return Response(exchange.status, headers, data)
        data = json.dumps(self._rewrite_json(body, own), separators=(",", ":")).encode()
        if recorded_type is None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        return Response(exchange.status, headers, data)
