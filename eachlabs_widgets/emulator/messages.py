"""Framework-free request and response values exchanged with :meth:`Emulator.handle`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qs

Drop = Literal["before", "after"]

#: The largest request body an API endpoint reads (a create's JSON is a few kB).
MAX_REQUEST_BYTES = 10_000_000
#: The largest file the bucket's PUT takes: "At most 100 MB per file" (API.md, "Upload").
MAX_UPLOAD_BYTES = 100_000_000
UPLOAD_PREFIX = "/_uploads/"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    scheme: str = "http"

    @classmethod
    def build(
        cls,
        method: str,
        path: str,
        *,
        query: str | Mapping[str, Any] = "",
        headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
        body: bytes = b"",
        scheme: str = "http",
    ) -> Request:
        """A request from a raw query string (or mapping) and any header collection."""
        if isinstance(query, str):
            parsed = parse_qs(query, keep_blank_values=True)
        else:
            parsed = {
                k: [str(x) for x in v] if isinstance(v, list | tuple) else [str(v)]
                for k, v in query.items()
            }
        items = headers.items() if isinstance(headers, Mapping) else headers
        lowered: dict[str, str] = {}
        for name, value in items:
            lowered[name.lower()] = value
        return cls(method.upper(), path, parsed, lowered, body, scheme)

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def base_url(self) -> str:
        """``scheme://host`` as the client addressed us (Host / X-Forwarded-* headers)."""
        scheme = self.header("x-forwarded-proto") or self.scheme
        host = self.header("x-forwarded-host") or self.header("host") or "localhost"
        return f"{scheme.split(',')[0].strip()}://{host.split(',')[0].strip()}"


@dataclass
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0  # seconds to wait before answering (the "slow" fault)
    drop: Drop | None = None  # close the connection instead of answering

    @classmethod
    def json(cls, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
        body = json.dumps(payload, separators=(",", ":")).encode()
        merged = {"Content-Type": "application/json; charset=utf-8"}
        merged.update(headers or {})
        return cls(status, merged, body)

    @classmethod
    def error(cls, status: int, message: str, **extra: Any) -> Response:
        return cls.json(status, {"error": message, **extra})

    def json_body(self) -> Any:
        return json.loads(self.body)


def s3_error(code: str, message: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    ).encode()


def body_limit(path: str) -> tuple[int, Response]:
    """The largest body a request to ``path`` may carry, and the answer when it is larger:
    S3's ``400 EntityTooLarge`` XML for the bucket's PUT, else ``413`` JSON."""
    if path.startswith(UPLOAD_PREFIX):
        message = "Your proposed upload exceeds the maximum allowed size"
        xml = s3_error("EntityTooLarge", message)
        return MAX_UPLOAD_BYTES, Response(400, {"Content-Type": "application/xml"}, xml)
    return MAX_REQUEST_BYTES, Response.error(413, "Request body too large")
