"""The one place that does HTTP: the shared client per event loop, retries, and error mapping.

Building an ``httpx.AsyncClient`` costs ~18 ms of blocking CPU (its SSL context), so one client
per event loop is made lazily and reused by every call on that loop; the API key is added per
request, never stored on the client, so a key set after import takes effect.
"""

from __future__ import annotations

import asyncio
import logging
import platform
import random
import uuid
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from ._exceptions import (
    APIError,
    AuthenticationError,
    NotFoundError,
    PaymentRequiredError,
    RateLimitError,
    ServerError,
    TransportError,
)
from ._retry import Attempt, Kind, RetryPolicy, parse_retry_after
from ._settings import Settings
from ._version import __version__

__all__ = ["HTTP", "USER_AGENT", "error_from_response", "shared_client"]

log = logging.getLogger("eachlabs_widgets")

USER_AGENT = (
    f"eachlabs-widgets/{__version__} httpx/{httpx.__version__} python/{platform.python_version()}"
)
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
Sleep = Callable[[float], Awaitable[None]]

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, httpx.AsyncClient]] = (
    weakref.WeakKeyDictionary()
)


def _emulator_transport() -> httpx.AsyncBaseTransport:
    from ._embedded import shared_emulator

    return shared_emulator().transport()


def shared_client(settings: Settings) -> httpx.AsyncClient:
    """This loop's client for the real service (or for the embedded emulator)."""
    loop = asyncio.get_running_loop()
    per_loop = _clients.setdefault(loop, {})
    key = "emulator" if settings.is_emulator else "default"
    client = per_loop.get(key)
    if client is None or client.is_closed:
        client = new_client(_emulator_transport() if settings.is_emulator else None)
        per_loop[key] = client
    return client


def new_client(transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """A client with our timeouts and User-Agent (the key is added per request, never here)."""
    return httpx.AsyncClient(
        transport=transport,
        timeout=TIMEOUT,
        headers={"User-Agent": USER_AGENT},
        follow_redirects=True,
    )


async def close_shared_clients() -> None:
    """Close this loop's shared clients (a script may call it before its loop ends)."""
    loop = asyncio.get_running_loop()
    for client in _clients.pop(loop, {}).values():
        await client.aclose()


def _message_of(response: httpx.Response) -> tuple[str, str | None]:
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return (text[:300] or response.reason_phrase or "error"), None
    if isinstance(body, dict):
        message = body.get("error") or body.get("message") or response.reason_phrase
        details = body.get("details")
        return str(message), (str(details) if details else None)
    return response.reason_phrase or "error", None


_BY_STATUS: dict[int, type[APIError]] = {
    401: AuthenticationError,
    402: PaymentRequiredError,
    404: NotFoundError,
    429: RateLimitError,
}


def error_from_response(response: httpx.Response) -> APIError:
    """The :class:`APIError` for an error answer: the service's own message, never the key."""
    message, details = _message_of(response)
    status = response.status_code
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else APIError)
    if status == 401:
        details = (details + ". " if details else "") + (
            "Check the key: give it again with el.login() or %eachgen login, or fix "
            "EACHLABS_API_KEY and restart."
        )
    return cls(
        message,
        status_code=status,
        details=details,
        method=response.request.method,
        path=response.request.url.path,
        request_id=response.headers.get("x-request-id"),
        retry_after=parse_retry_after(response.headers.get("retry-after")),
    )


class HTTP:
    """Sends requests with the retry policy; answers are JSON, errors are exceptions."""

    def __init__(
        self,
        settings: Callable[[], Settings],
        *,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        client: httpx.AsyncClient | None = None,
        on_throttled: Callable[[], None] | None = None,
    ) -> None:
        self._settings = settings
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._own_client = client
        self._on_throttled = on_throttled
        self._rng = random.Random()
        #: True once an answer came from the emulator (it says so in a header).
        self.saw_emulator = False

    @staticmethod
    def url(settings: Settings, path: str) -> str:
        """``path`` on the service's base URL (an absolute URL, e.g. an output file, as is)."""
        if path.startswith(("http://", "https://")):
            return path
        if settings.is_emulator:
            from .emulator import EMULATOR_BASE_URL

            return EMULATOR_BASE_URL + path
        return settings.base_url + path

    async def request(
        self,
        method: str,
        path: str,
        *,
        kind: Kind = "read",
        auth: bool = True,
        json: Any = None,
        params: dict[str, Any] | None = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One logical request, retried as the policy allows; raises on an error answer."""
        settings = self._settings()  # once: every try goes to the same place with the same key
        sent_headers = {"X-Request-Id": uuid.uuid4().hex, **(headers or {})}
        if auth:
            sent_headers["X-API-Key"] = settings.require_key().reveal()
        url = self.url(settings, path)
        short = httpx.URL(url).path
        client = self._own_client or shared_client(settings)
        number = 0
        while True:
            number += 1
            try:
                response = await client.request(
                    method, url, json=json, params=params, content=content, headers=sent_headers
                )
            except httpx.TransportError as exc:
                sent = not isinstance(
                    exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
                )
                attempt = Attempt(transport_error=True, sent=sent)
                delay = self.retry.next_delay(kind, number, attempt, self._rng)
                log.debug("%s %s: %s (try %d)", method, short, type(exc).__name__, number)
                if delay is None:
                    raise TransportError(
                        _transport_message(exc, kind, sent), method=method, path=short, sent=sent
                    ) from None
                await self._sleep(delay)
                continue
            if response.headers.get("x-eachlabs-emulator"):
                self.saw_emulator = True
            if response.status_code < 400:
                log.debug("%s %s -> %d", method, short, response.status_code)
                return response
            await response.aread()
            error = error_from_response(response)
            if response.status_code == 429 and self._on_throttled is not None:
                self._on_throttled()
            attempt = Attempt(status=response.status_code, retry_after=error.retry_after)
            delay = self.retry.next_delay(kind, number, attempt, self._rng)
            log.debug("%s %s -> %d (try %d)", method, short, response.status_code, number)
            if delay is None:
                raise error
            await self._sleep(delay)

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise APIError(
                "the service answered with something that is not JSON",
                status_code=response.status_code,
                method=method,
                path=response.request.url.path,
            ) from None


def _transport_message(exc: httpx.TransportError, kind: Kind, sent: bool) -> str:
    name = type(exc).__name__
    if kind == "create" and sent:
        return (
            f"the create request was sent but its answer was lost ({name}); it was not retried "
            "because a prediction may have been created and retrying could pay twice"
        )
    return f"could not reach the EachLabs service ({name})"
