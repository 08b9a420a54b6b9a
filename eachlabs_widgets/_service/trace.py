"""A redacted record of every request and answer of one ``httpx.AsyncClient``, as JSON Lines.

:class:`Trace` hooks into a client's event hooks, so it sees each request as it leaves (with
the headers the key adds) and each answer as it comes, through any proxy the client mounts.
It is what ``doctor(live=True)`` writes for a bug report, and what
``python -m eachlabs_widgets.emulator --replay TRACE`` serves back.

The format, version 1. The first line is a header::

    {"trace": "eachlabs-widgets", "version": 1, "base_url": "<api origin>",
     "created_at": "<ISO 8601, UTC>", "package_version": "<this package's version>"}

Each further line is one exchange, in the order the answers came::

    {"request": {"method": "GET", "url": "<absolute, signatures cut>",
                 "headers": {"<name>": "<value>", …}, "body": BODY},
     "response": {"status": 200, "headers": {…}, "body": BODY},
     "elapsed_ms": 12.3}

A request that got no answer (the connection failed, or the caller gave up) is written at
:meth:`Trace.close` with ``"response": null``. Header names are lower case; a repeated header
is one value joined by ``", "``. ``BODY`` is ``null`` (no body), the JSON value itself (a JSON
content type that parses), ``{"text": str}`` (other text), or
``{"bytes": n, "sha256": hex, "content_type": str}``: binary bodies (images, uploads) are never
stored, only their size and digest.

Nothing secret is written: the ``Authorization``, ``X-API-Key``, ``Proxy-Authorization``,
``Cookie`` and ``Set-Cookie`` headers become ``"<redacted>"``, the key's value is replaced
wherever else it appears, and in every URL (the request's, and any inside a header or a body)
the values of signing query parameters (``X-Amz-Signature``, ``X-Amz-Credential``,
``Signature``, ``token``, … see :data:`SIGNED_PARAMS`) become ``<cut>``, as does a password in
its user-info part, and so do the elements of an S3 error that repeat the signature and what
was signed (``SignatureProvided``, ``StringToSign``, ``CanonicalRequest``, …).

Imports: ``_settings`` (the key as a ``Secret``) and ``_version``; nothing else of the package.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote

import httpx

from .._settings import Secret
from .._version import __version__

__all__ = ["FORMAT_VERSION", "REDACTED", "SIGNED_PARAMS", "Trace", "cut_url", "scrub"]

FORMAT_VERSION = 1
REDACTED = "<redacted>"
CUT = "<cut>"
#: Headers whose value is always replaced, whatever it holds.
SECRET_HEADERS = frozenset(
    {"authorization", "x-api-key", "proxy-authorization", "cookie", "set-cookie"}
)
#: Query parameters (compared in lower case) that sign a URL or grant access through it.
SIGNED_PARAMS = frozenset(
    {
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "x-goog-signature",
        "x-goog-credential",
        "googleaccessid",
        "signature",
        "sig",
        "token",
        "access_token",
        "key-pair-id",
        "policy",
        "api_key",
        "apikey",
        "key",
    }
)
#: Text bodies longer than this are kept as their size and digest only.
MAX_TEXT = 1_000_000
_URL = re.compile(r"https?://[^\s\"'<>]+")
#: Elements of an S3 error that repeat what was signed and the signature itself.
_SIGNED_XML = re.compile(
    r"<(SignatureProvided|StringToSign|StringToSignBytes|CanonicalRequest|CanonicalRequestBytes"
    r"|AWSAccessKeyId|X-Amz-Credential)>.*?</\1>",
    re.DOTALL,
)
_TEXT_TYPES = ("text/", "xml", "html", "javascript", "x-www-form-urlencoded")


def cut_url(url: str) -> str:
    """``url`` with the values of :data:`SIGNED_PARAMS` and any user-info password cut."""
    rest, hash_, fragment = url.partition("#")
    head, question, query = rest.partition("?")
    scheme, sep, after = head.partition("://")
    if sep:
        authority, slash, path = after.partition("/")
        if "@" in authority:
            userinfo, _, host = authority.rpartition("@")
            user = userinfo.partition(":")[0]
            authority = f"{user}:{CUT}@{host}" if ":" in userinfo else f"{user}@{host}"
        head = f"{scheme}://{authority}{slash}{path}"
    if question:
        parts = []
        for part in query.split("&"):
            name, eq, _value = part.partition("=")
            # "amp;": a URL quoted in HTML or XML, whose "&" is written "&amp;"
            cut = eq and unquote(name).strip().lower().removeprefix("amp;") in SIGNED_PARAMS
            parts.append(f"{name}={CUT}" if cut else part)
        query = "&".join(parts)
    return f"{head}{question}{query}{hash_}{fragment}"


def scrub(text: str, secret: Secret | None) -> str:
    """``text`` with the key's value replaced, every URL in it cut (:func:`cut_url`), and the
    signed parts of an S3 error cut."""
    if secret is not None and secret.reveal():
        text = text.replace(secret.reveal(), REDACTED)
    if "://" in text:
        text = _URL.sub(lambda match: cut_url(match.group(0)), text)
    if "</" in text:
        text = _SIGNED_XML.sub(lambda match: f"<{match[1]}>{CUT}</{match[1]}>", text)
    return text


def _scrub_value(value: Any, secret: Secret | None) -> Any:
    if isinstance(value, str):
        return scrub(value, secret)
    if isinstance(value, list):
        return [_scrub_value(item, secret) for item in value]
    if isinstance(value, dict):
        return {scrub(str(k), secret): _scrub_value(v, secret) for k, v in value.items()}
    return value


def _headers(headers: httpx.Headers, secret: Secret | None) -> dict[str, str]:
    shown: dict[str, str] = {}
    for name, value in headers.items():  # lower-case names, repeated ones joined by ", "
        shown[name] = REDACTED if name in SECRET_HEADERS else scrub(value, secret)
    return shown


def body_form(content: bytes, content_type: str, secret: Secret | None) -> Any:
    """One body as the trace keeps it: ``None``, a JSON value, ``{"text"}`` or ``{"bytes"}``."""
    if not content:
        return None
    kind = content_type.split(";")[0].strip().lower()
    binary = {
        "bytes": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "content_type": content_type,
    }
    if kind.startswith(("image/", "video/", "audio/")) or len(content) > MAX_TEXT:
        return binary
    if "json" in kind or not kind:
        try:
            return _scrub_value(json.loads(content), secret)
        except ValueError:
            pass
    if not kind or "json" in kind or any(t in kind for t in _TEXT_TYPES):
        try:
            return {"text": scrub(content.decode("utf-8"), secret)}
        except UnicodeDecodeError:
            pass
    return binary


class Trace:
    """Writes the exchanges of the clients it is attached to into ``path`` (JSON Lines).

    ``secret`` is the key to cut wherever it appears; ``base_url`` is the API's origin, named
    in the header line. The file is made readable by its owner only. :attr:`exchanges` holds
    what was written (redacted), in order, for checks. Use as a context manager, or call
    :meth:`close`. Raises :class:`OSError` when the file cannot be made.
    """

    def __init__(self, path: str | Path, base_url: str, secret: Secret | None = None) -> None:
        self.path = Path(path)
        self._secret = secret
        self.exchanges: list[dict[str, Any]] = []
        self._pending: dict[int, tuple[httpx.Request, float]] = {}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self._file: IO[str] | None = open(fd, "w", encoding="utf-8")  # noqa: SIM115 (kept open)
        self._write(
            {
                "trace": "eachlabs-widgets",
                "version": FORMAT_VERSION,
                "base_url": cut_url(base_url),
                "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "package_version": __version__,
            }
        )

    def attach(self, client: httpx.AsyncClient) -> None:
        """Record every request ``client`` sends from now on, and its answer."""
        hooks = client.event_hooks
        hooks.setdefault("request", []).append(self._on_request)
        hooks.setdefault("response", []).append(self._on_response)
        client.event_hooks = hooks

    def mark(self) -> int:
        """Where the next exchange will be in :attr:`exchanges` (to pick out one step's)."""
        return len(self.exchanges)

    async def _on_request(self, request: httpx.Request) -> None:
        self._pending[id(request)] = (request, time.perf_counter())

    async def _on_response(self, response: httpx.Response) -> None:
        request = response.request
        _, started = self._pending.pop(id(request), (request, time.perf_counter()))
        try:
            # Read here, so a streamed answer is kept too; the caller then reads it from memory.
            await response.aread()
            content_type = response.headers.get("content-type", "")
            body = body_form(response.content, content_type, self._secret)
        except httpx.HTTPError as exc:  # the caller meets the same error: record and go on
            body = {"text": f"<the body could not be read: {type(exc).__name__}>"}
        self._record(request, response, body, started)

    def _request_form(self, request: httpx.Request) -> dict[str, Any]:
        try:
            content = request.content
        except httpx.RequestNotRead:  # a streamed upload: not read twice
            content = b""
        return {
            "method": request.method,
            "url": scrub(str(request.url), self._secret),
            "headers": _headers(request.headers, self._secret),
            "body": body_form(content, request.headers.get("content-type", ""), self._secret),
        }

    def _record(
        self,
        request: httpx.Request,
        response: httpx.Response | None,
        body: Any,
        started: float,
    ) -> None:
        answer = None
        if response is not None:
            answer = {
                "status": response.status_code,
                "headers": _headers(response.headers, self._secret),
                "body": body,
            }
        exchange = {
            "request": self._request_form(request),
            "response": answer,
            "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
        }
        self.exchanges.append(exchange)
        self._write(exchange)

    def _write(self, line: Mapping[str, Any]) -> None:
        if self._file is None:
            return
        text = json.dumps(line, ensure_ascii=False, separators=(",", ":"))
        if self._secret is not None and self._secret.reveal():
            text = text.replace(self._secret.reveal(), REDACTED)  # whatever escaped the walk
        self._file.write(text + "\n")
        self._file.flush()

    def close(self) -> None:
        """Write the requests that got no answer, and close the file."""
        for request, started in list(self._pending.values()):
            self._record(request, None, None, started)
        self._pending.clear()
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> Trace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
