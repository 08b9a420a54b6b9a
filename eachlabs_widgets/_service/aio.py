"""The connection pool of direct connections (no proxy): aiohttp's, under the same httpx client.

httpx stays the one client every request goes through (auth, redirects, timeouts, streaming);
only the pool under it changes. Measured with 100 requests in flight against the emulator
served on loopback, client CPU per request: httpcore's pool 4.9 ms, aiohttp's 0.46 ms alone and
0.9 ms under httpx (aiohttp parses HTTP in C and hands a freed connection to one waiter, where
httpcore scans every queued request against every connection). Proxied routes keep httpcore's
pool, which tunnels through HTTPS proxies with their own TLS context (see :mod:`.network`).

aiohttp's errors become httpx's so that the retry policy's question, "could the request have
been sent?", gets the same answer as before: only a failure to get a connection says that
nothing was sent (:class:`httpx.ConnectError`, :class:`httpx.ConnectTimeout`). A connection
dropped after the request left (:class:`aiohttp.ServerDisconnectedError`) is a
:class:`httpx.RemoteProtocolError`, never a connect error: a create is not retried blindly.
"""

from __future__ import annotations

import atexit
import contextlib
import ssl
import weakref
from collections.abc import AsyncIterator, Iterator

import aiohttp
import httpx
import yarl

__all__ = ["AiohttpPool"]

#: An answer that says it is at most this long (bytes) is read whole before httpx sees it:
#: every JSON answer of the API is, and handing httpx its bytes at once spares the per-chunk
#: async iteration through three layers (about a tenth of a poll's CPU). Longer answers, and
#: those of unknown length, stream as they arrive (downloads stay bounded in memory).
EAGER_BYTES = 64 * 1024

#: The most specific class first: the first match wins.
_ERRORS: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),  # the pool or the connect
    (aiohttp.SocketTimeoutError, httpx.ReadTimeout),
    (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
    (aiohttp.ClientConnectorError, httpx.ConnectError),  # DNS, refused, TLS: nothing sent
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx.RemoteProtocolError),
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),
    (aiohttp.NonHttpUrlClientError, httpx.UnsupportedProtocol),
    (aiohttp.InvalidURL, httpx.LocalProtocolError),
    (aiohttp.ClientOSError, httpx.ReadError),  # reset after the request may have left
    (aiohttp.ClientConnectionError, httpx.ReadError),
)


@contextlib.contextmanager
def _as_httpx_errors() -> Iterator[None]:
    try:
        yield
    except aiohttp.ClientError as exc:
        # The cause chain ends at ssl's own error, as under httpcore: .trust finds the
        # certificate failure there (aiohttp's wrapper of it lacks ssl's fields).
        cause: BaseException = exc
        if isinstance(exc, aiohttp.ClientConnectorCertificateError):
            cause = exc.certificate_error
        for source, target in _ERRORS:
            if isinstance(exc, source):
                raise target(str(exc) or type(exc).__name__) from cause
        raise


class _Body(httpx.AsyncByteStream):
    """An aiohttp response body as httpx reads it; closing it frees the connection."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx_errors():
            async for chunk in self._response.content.iter_any():
                yield chunk

    async def aclose(self) -> None:
        # a body read to its end gives the connection back to the pool; a partly read one
        # closes it (aiohttp decides)
        self._response.release()


class AiohttpPool(httpx.AsyncBaseTransport):
    """Direct connections for one event loop, verified with ``context``, at most
    ``limits.max_connections`` of them, idle ones kept ``limits.keepalive_expiry`` seconds.
    The aiohttp session is made on the first request, on the loop that sends it."""

    def __init__(self, context: ssl.SSLContext, limits: httpx.Limits) -> None:
        self._context = context
        self._limits = limits
        self._session: aiohttp.ClientSession | None = None

    @property
    def ssl_context(self) -> ssl.SSLContext:
        """What verifies the servers' certificates."""
        return self._context

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            ssl=self._context,
            limit=self._limits.max_connections or 0,
            limit_per_host=0,
            keepalive_timeout=self._limits.keepalive_expiry or 5.0,
        )
        return aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),  # httpx keeps the cookies
            auto_decompress=False,  # httpx decodes the body
            trust_env=False,  # the proxy was decided above (.network)
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._session is None or self._session.closed:
            self._session = self._open()
            _open_pools.add(self)
        timeout = request.extensions.get("timeout", {})
        # as httpx spelled them (httpcore sends the same casing)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]
        data: bytes | httpx.AsyncByteStream | None
        try:
            data = request.content or None
        except httpx.RequestNotRead:  # a streamed body: aiohttp sends it in chunks
            data = request.stream  # type: ignore[assignment]
            headers = [(k, v) for k, v in headers if k.lower() != "transfer-encoding"]
        with _as_httpx_errors():
            response = await self._session.request(
                request.method,
                # already encoded by httpx: yarl must not quote it again
                yarl.URL(str(request.url), encoded=True),
                headers=headers,
                data=data,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=timeout.get("pool"),  # waiting for a connection, then making it
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                ),
                server_hostname=request.extensions.get("sni_hostname"),
            )
        extensions: dict[str, object] = {"http_version": b"HTTP/1.1"}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode("ascii", "replace")
        stream: httpx.AsyncByteStream = _Body(response)
        length = response.content_length
        if length is not None and length <= EAGER_BYTES:
            try:
                with _as_httpx_errors():
                    body = await response.read()
            finally:  # read whole, the connection goes back to the pool; broken off, it closes
                response.release()
            stream = httpx.ByteStream(body)
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=stream,
            request=request,
            extensions=extensions,
        )

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def _drop(self) -> None:
        """Close the sockets without the loop: it has closed, or the interpreter is ending.
        httpcore's pool is dropped silently then; aiohttp's would log "Unclosed client
        session" (and "Unclosed connector") on stderr."""
        session, self._session = self._session, None
        try:  # no module global here: at exit they may be gone already
            if session is not None and not session.closed:
                connector = session.connector
                if connector is not None:
                    connector._close()  # the synchronous part of close()
                session.detach()
        except Exception:
            pass

    def __del__(self) -> None:
        # a loop closed by hand (not by asyncio.run) never closes its client
        self._drop()


def _drop_every_pool() -> None:
    # At exit: a kernel's loop and the private loop of the sync API never close their clients.
    for pool in list(_open_pools):
        pool._drop()


_open_pools: weakref.WeakSet[AiohttpPool] = weakref.WeakSet()
atexit.register(_drop_every_pool)
