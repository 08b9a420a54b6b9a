"""The one place that does HTTP: the shared client per event loop, retries, redirects, the key,
deadlines and error mapping.

Building an ``httpx.AsyncClient`` costs ~20 ms of blocking CPU (its SSL context), so one client
per event loop is made lazily and reused by every call on that loop, and the process's one TLS
context is built in a background thread from the moment this module is imported (see
:mod:`.warm`). A client whose loop has closed (``asyncio.run()`` called again and again) is
closed with its loop and forgotten.

httpx loads its transport (httpcore) when the first client is built, and httpcore loads anyio's
asyncio backend on its first request: together ~40 ms, once per process. They are imported
here instead, with the rest of the HTTP stack, so a first call does not pay for them before
its first request (and a kernel loads them while idle after ``%load_ext``).

The API key never sits in a plain local or on the client: an :class:`httpx.Auth` flow reads it
from the :class:`~._settings.Secret` as each request leaves, and only for the API's own origin.
Redirects are followed by hand, so that an authenticated request never follows one to another
origin (nor from https to http), and a create is never silently turned into a GET. One
redirect of a write is followed with its body: the same origin adding the trailing slash
(``/v1/prediction`` to ``/v1/prediction/``, which some gateways require; API.md, "Endpoints"),
since the redirect itself created nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import platform
import random
import time
import weakref
from collections.abc import AsyncIterable, Awaitable, Callable, Generator
from typing import Any

import httpcore  # noqa: F401  (see the module's docstring)
import httpx

from .._exceptions import (
    APIError,
    AuthenticationError,
    EachLabsError,
    NotFoundError,
    PaymentRequiredError,
    RateLimitError,
    ServerError,
    TransportError,
)
from .._settings import Secret, Settings
from .._version import __version__
from . import warm as _warm
from .network import LIMITS, NetworkTransport, route_note
from .retry import Attempt, Kind, RetryPolicy, parse_retry_after
from .timeouts import within
from .trust import certificate_error

with contextlib.suppress(ImportError):  # anyio's own name for it; a later anyio may move it
    import anyio._backends._asyncio  # noqa: F401  (see the module's docstring)

import sniffio  # noqa: F401  (httpcore imports it on each request: loaded here, once)

# Whatever makes requests needs the TLS context: it is built while the rest loads.
_warm.start()

__all__ = [
    "HTTP",
    "USER_AGENT",
    "DeadlineReached",
    "error_from_response",
    "origin_of",
    "shared_client",
]

log = logging.getLogger("eachlabs_widgets")

USER_AGENT = (
    f"eachlabs-widgets/{__version__} httpx/{httpx.__version__} python/{platform.python_version()}"
)
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
#: Requests let into a client's pool at once; the others wait in line here. httpcore's pool
#: scans every queued request against every connection each time a request starts or ends,
#: which at 100 predictions in flight cost more CPU than the requests themselves; a line of
#: our own costs nothing to wait in. Below the pool's size, so streamed downloads (which hold
#: their connection after the gate is left) still find one.
GATE = 24
_gates: weakref.WeakKeyDictionary[httpx.AsyncClient, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _gate(client: httpx.AsyncClient) -> asyncio.Semaphore:
    """``client``'s line of requests (a client belongs to one event loop)."""
    gate = _gates.get(client)
    if gate is None:
        gate = _gates[client] = asyncio.Semaphore(GATE)
    return gate


MAX_REDIRECTS = 5
Sleep = Callable[[float], Awaitable[None]]

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, httpx.AsyncClient]] = (
    weakref.WeakKeyDictionary()
)
#: Keeps each loop's closer task alive (the loop holds tasks only weakly).
_closers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[None]] = (
    weakref.WeakKeyDictionary()
)


class DeadlineReached(EachLabsError, TimeoutError):
    """The caller's deadline passed while a request was in flight or waiting to be retried."""


def origin_of(url: httpx.URL | str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port made explicit."""
    if isinstance(url, str):
        return _origin_of_text(url)
    port = url.port or {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, port


@functools.lru_cache(maxsize=64)
def _origin_of_text(url: str) -> tuple[str, str, int | None]:
    # the base URL's origin is asked for on every request: parsed once
    return origin_of(httpx.URL(url))


class KeyAuth(httpx.Auth):
    """Adds the key to requests for ``origin`` only, reading it as each one leaves.

    Both headers are sent (API.md, "Authentication"): ``Authorization: Bearer``, the one the
    docs document since 2026-07, and ``X-API-Key``, which older gateways and the seed guide
    use and the service still accepts.
    """

    def __init__(self, secret: Secret, origin: tuple[str, str, int | None]) -> None:
        self._secret = secret
        self._origin = origin

    @property
    def secret(self) -> Secret:
        return self._secret

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if origin_of(request.url) == self._origin:
            key = self._secret.reveal()
            request.headers["Authorization"] = f"Bearer {key}"
            request.headers["X-API-Key"] = key
        yield request

    def __repr__(self) -> str:
        return "<KeyAuth ***>"


def _emulator_transport() -> httpx.AsyncBaseTransport:
    from .._embedded import shared_emulator

    return shared_emulator().transport()


def _forget_closed_loops() -> None:
    """Drop the clients of loops that were closed without ending their tasks."""
    for loop in [loop for loop in list(_clients.keys()) if loop.is_closed()]:
        _clients.pop(loop, None)
        _closers.pop(loop, None)


async def _close_with_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Wait for the loop's end; ``asyncio.run()`` cancels this task then, and the clients close."""
    try:
        await asyncio.Event().wait()
    finally:
        for client in _clients.pop(loop, {}).values():
            with contextlib.suppress(Exception):  # the loop is ending: nothing more can be done
                await client.aclose()


def shared_client(settings: Settings) -> httpx.AsyncClient:
    """This loop's client for the real service (or for the embedded emulator)."""
    loop = asyncio.get_running_loop()
    per_loop = _clients.get(loop)
    if per_loop is None:
        _forget_closed_loops()
        per_loop = _clients[loop] = {}
        if not getattr(loop, "_eachlabs_private", False):  # our own sync loop never ends
            closer = loop.create_task(_close_with_loop(loop), name="eachlabs-closer")
            # A loop closed by hand (not by asyncio.run) drops this task unfinished: that is
            # expected, not worth the "Task was destroyed but it is pending" warning.
            closer._log_destroy_pending = False  # type: ignore[attr-defined]
            _closers[loop] = closer
    key = "emulator" if settings.is_emulator else "default"
    client = per_loop.get(key)
    if client is None or client.is_closed:
        client = new_client(_emulator_transport() if settings.is_emulator else None)
        per_loop[key] = client
    return client


class _Cookies(httpx.Cookies):
    """httpx's cookie store, passing over answers that set no cookie. httpx wraps every answer
    and its request for :mod:`http.cookiejar` to read; at 100 predictions in flight that was
    the costliest step of a poll after the transport (7% of a batch's client CPU)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers:
            super().extract_cookies(response)


class _Client(httpx.AsyncClient):
    """An :class:`httpx.AsyncClient` with the cookie store above (what it sends is the same)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._answered_cookies = _Cookies(kwargs.get("cookies"))

    @property
    def cookies(self) -> httpx.Cookies:
        return self._answered_cookies

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        self._answered_cookies = _Cookies(cookies)


def new_client(transport: httpx.AsyncBaseTransport | None = None) -> httpx.AsyncClient:
    """A client with our timeouts and User-Agent. It follows no redirect by itself (see
    :meth:`HTTP.request`) and holds no key (each request gets its own :class:`KeyAuth`).
    Its TLS context is the process's one, built off the loop by the warm-up."""
    return _Client(
        # proxies and CA certificates as set now, read again per request (see .network)
        transport=transport if transport is not None else NetworkTransport(),
        trust_env=False,
        timeout=TIMEOUT,
        limits=LIMITS,
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
    )


async def close_shared_clients() -> None:
    """Close this loop's shared clients (a script may call it before its loop ends)."""
    loop = asyncio.get_running_loop()
    closer = _closers.pop(loop, None)
    if closer is not None:
        closer.cancel()
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
        return str(message)[:500], (str(details)[:500] if details else None)
    return response.reason_phrase or "error", None


_BY_STATUS: dict[int, type[APIError]] = {
    401: AuthenticationError,
    402: PaymentRequiredError,
    404: NotFoundError,
    429: RateLimitError,
}
KEY_HINT = (
    "Check the key: give it again with el.login() or %eachgen login, or fix "
    "EACHLABS_API_KEY and restart."
)


def error_from_response(response: httpx.Response, secret: Secret | None = None) -> APIError:
    """The :class:`APIError` for an error answer: the service's own message, with the key (if
    the service echoed it) replaced by ``***``."""
    message, details = _message_of(response)
    if secret is not None:
        message = secret.redact(message)
        details = secret.redact(details) if details else details
    status = response.status_code
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else APIError)
    if status == 401:
        details = (details + ". " if details else "") + KEY_HINT
    return cls(
        message,
        status_code=status,
        details=details,
        method=response.request.method,
        path=response.request.url.path,
        request_id=response.headers.get("x-request-id"),
        retry_after=parse_retry_after(response.headers.get("retry-after")),
    )


def _request_id() -> str:
    """32 hex digits naming one request in the service's logs (API.md, "Authentication"):
    unique, not secret, so no system call for it as ``uuid4`` makes."""
    return f"{_ids.getrandbits(128):032x}"


_ids = random.Random()
if hasattr(os, "register_at_fork"):  # a forked child draws its own ids
    os.register_at_fork(after_in_child=_ids.seed)


@functools.lru_cache(maxsize=512)
def _parsed(url: str) -> httpx.URL:
    # A prediction is polled at the same URL a few times, and parsing one costs more CPU than
    # anything else of ours in a request: the ~100 predictions in flight hit this cache.
    # httpx.URL is immutable, so one object serves every request to it.
    return httpx.URL(url)


def _show(url: httpx.URL) -> str:
    """A URL as shown in messages: origin and path, never the query (it may hold a signature)."""
    return str(url.copy_with(query=None, fragment=None))


class HTTP:
    """Sends requests with the retry policy; answers are JSON, errors are exceptions."""

    def __init__(
        self,
        settings: Callable[[], Settings],
        *,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        client: httpx.AsyncClient | None = None,
        on_throttled: Callable[[APIError], None] | None = None,
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
        return HTTP.base(settings) + path

    @staticmethod
    def base(settings: Settings) -> str:
        if settings.is_emulator:
            from ..emulator import EMULATOR_BASE_URL

            return EMULATOR_BASE_URL
        return settings.base_url

    def client(self, settings: Settings | None = None) -> httpx.AsyncClient:
        return self._own_client or shared_client(settings or self._settings())

    async def request(
        self,
        method: str,
        path: str,
        *,
        kind: Kind = "read",
        auth: bool = True,
        json: Any = None,
        params: dict[str, Any] | None = None,
        content: bytes | AsyncIterable[bytes] | None = None,
        headers: dict[str, str] | None = None,
        deadline: float | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """One logical request, retried as the policy allows; raises on an error answer.

        ``deadline`` (``time.monotonic()`` seconds) bounds every try and every wait between
        tries (:class:`DeadlineReached`); a create ignores it, since abandoning a create in
        flight could leave a paid prediction nobody knows of.

        With ``stream=True`` the body of a successful answer is not read: the caller reads it
        (``aiter_bytes``) and must ``aclose()`` the response.
        """
        settings = self._settings()  # once: every try goes to the same place with the same key
        key_auth = KeyAuth(settings.require_key(), origin_of(self.base(settings))) if auth else None
        sent_headers = {"X-Request-Id": _request_id(), **(headers or {})}
        url = _parsed(self.url(settings, path))
        short = url.path
        client = self.client(settings)
        if kind == "create":
            deadline = None
        number = 0
        while True:
            number += 1
            failure: BaseException | None = None
            try:
                response = await _bounded(
                    self._follow(
                        client, method, url, key_auth, sent_headers, json, params, content, stream
                    ),
                    deadline,
                )
            except (httpx.TransportError, httpx.DecodingError) as exc:
                failure = exc
            if failure is not None:
                # An untrusted certificate is no network fault: said at once, never retried.
                untrusted = certificate_error(
                    failure, _host_of(failure, url), method=method, path=short
                )
                if untrusted is not None:
                    failure = None
                    raise untrusted
                # Built outside the except block: no httpx frame (whose locals hold the
                # request headers) stays reachable from the error we raise.
                sent = not isinstance(
                    failure,
                    (
                        httpx.ConnectError,
                        httpx.ConnectTimeout,
                        httpx.PoolTimeout,
                        httpx.LocalProtocolError,
                        httpx.UnsupportedProtocol,
                    ),
                )
                local = isinstance(failure, (httpx.LocalProtocolError, httpx.UnsupportedProtocol))
                name = type(failure).__name__
                failure = None
                attempt = Attempt(transport_error=True, sent=sent)
                delay = None if local else self.retry.next_delay(kind, number, attempt, self._rng)
                log.debug("%s %s: %s (try %d)", method, short, name, number)
                if delay is None:
                    raise TransportError(
                        _transport_message(name, kind, sent, url),
                        method=method,
                        path=short,
                        sent=sent,
                    )
                await _sleep_within(self._sleep, delay, deadline)
                continue
            if response.headers.get("x-eachlabs-emulator"):
                self.saw_emulator = True
            if response.status_code < 400:
                log.debug("%s %s -> %d", method, short, response.status_code)
                return response
            await response.aread()
            await response.aclose()
            error = error_from_response(response, key_auth.secret if key_auth is not None else None)
            if response.status_code == 429 and self._on_throttled is not None:
                self._on_throttled(error)
            attempt = Attempt(status=response.status_code, retry_after=error.retry_after)
            delay = self.retry.next_delay(kind, number, attempt, self._rng)
            log.debug("%s %s -> %d (try %d)", method, short, response.status_code, number)
            if delay is None:
                raise error
            await _sleep_within(self._sleep, delay, deadline)

    async def _follow(
        self,
        client: httpx.AsyncClient,
        method: str,
        url: httpx.URL,
        key_auth: KeyAuth | None,
        headers: dict[str, str],
        json: Any,
        params: dict[str, Any] | None,
        content: bytes | AsyncIterable[bytes] | None,
        stream: bool = False,
    ) -> httpx.Response:
        """Send, following redirects only where that is safe for the key and the method."""
        start = url
        slashed = False  # the one trailing-slash hop of a write was taken
        for _hop in range(MAX_REDIRECTS + 1):
            built = client.build_request(
                method, url, json=json, params=params, content=content, headers=headers
            )
            async with _gate(client):
                response = await client.send(
                    built,
                    stream=stream,
                    auth=key_auth if key_auth is not None else httpx.USE_CLIENT_DEFAULT,
                )
            location = response.headers.get("location")
            if response.status_code not in (301, 302, 303, 307, 308) or not location:
                return response
            await response.aclose()
            target = response.url.join(location)
            if not slashed and _adds_slash(method, response.status_code, response.url, target):
                slashed = True  # the same request again, body and method kept (once)
                url, params = target, None
                continue
            refusal = _redirect_refusal(
                method, response.status_code, response.url, target, key_auth
            )
            if refusal:
                raise APIError(
                    refusal,
                    status_code=response.status_code,
                    method=method,
                    path=start.path,
                    request_id=response.headers.get("x-request-id"),
                )
            if response.status_code == 303 or (
                response.status_code in (301, 302) and method not in ("GET", "HEAD")
            ):
                method, json, content = "GET", None, None  # unreachable for writes (refused)
            url, params = target, None
        raise APIError(
            f"more than {MAX_REDIRECTS} redirects, last to {_show(url)}",
            status_code=310,
            method=method,
            path=start.path,
        )

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


def _adds_slash(method: str, status: int, source: httpx.URL, target: httpx.URL) -> bool:
    """A write redirected by its own origin to its path with a trailing slash (301, 302, 307,
    308): the gateway wants ``/v1/prediction/``; sending the same body there is safe."""
    return (
        method not in ("GET", "HEAD")
        and status in (301, 302, 307, 308)
        and origin_of(target) == origin_of(source)
        and target.path == source.path.rstrip("/") + "/"
        and target.path != source.path
    )


def _redirect_refusal(
    method: str, status: int, source: httpx.URL, target: httpx.URL, key_auth: KeyAuth | None
) -> str | None:
    """Why this redirect must not be followed, or ``None`` to follow it."""
    where = f"{method} {_show(source)} was redirected ({status}) to {_show(target)}"
    fix = (
        "Check the base URL (EACHLABS_BASE_URL or base_url=): it should be the service's own "
        "https address, e.g. https://api.eachlabs.ai"
    )
    if target.scheme not in ("http", "https"):
        return f"{where}, which is not an http(s) URL"
    if key_auth is not None:
        if origin_of(target) != origin_of(source):
            return f"{where}, another origin; the API key is only sent to the API itself. {fix}"
    elif source.scheme == "https" and target.scheme == "http":
        return f"{where}: from https to plain http, which is not followed"
    if method not in ("GET", "HEAD") and status in (301, 302, 303):
        return (
            f"{where}; following it would turn the {method} into a GET without its body, "
            f"so nothing was created there. {fix}"
        )
    return None


async def _bounded(awaitable: Awaitable[httpx.Response], deadline: float | None) -> httpx.Response:
    if deadline is None:
        return await awaitable
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        if asyncio.iscoroutine(awaitable):
            awaitable.close()
        raise DeadlineReached("the deadline passed before the request was sent")
    try:
        return await within(remaining, awaitable)
    except asyncio.TimeoutError:
        raise DeadlineReached("the deadline passed while a request was in flight") from None


async def _sleep_within(sleep: Sleep, delay: float, deadline: float | None) -> None:
    if deadline is not None and time.monotonic() + delay >= deadline:
        raise DeadlineReached("the deadline passes before the next try")
    await sleep(delay)


def _host_of(failure: BaseException, url: httpx.URL) -> str:
    """The host a failed request went to (a redirect may have left ``url``)."""
    try:
        return str(failure.request.url.host)  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):  # httpx raises RuntimeError when it has none
        return str(url.host)


def _transport_message(name: str, kind: Kind, sent: bool, url: httpx.URL) -> str:
    if name == "DecodingError":
        return (
            "the answer could not be decoded (its Content-Encoding header does not match its body)"
        )
    if name in ("LocalProtocolError", "UnsupportedProtocol"):
        return f"the request to {_show(url)} could not be built ({name})"
    if kind == "create" and sent:
        return (
            f"the create request was sent but its answer was lost ({name}); it was not retried "
            "because a prediction may have been created and retrying could pay twice"
        )
    return (
        f"could not reach {url.scheme}://{url.netloc.decode()}{route_note(url)} ({name}); "
        "check the network and the base URL: eachlabs_widgets.doctor() checks both"
    )
