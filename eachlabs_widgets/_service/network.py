"""The transport under every request to the service, its file hosts and upload targets: the
proxy and the CA certificates in force, read again at each request.

httpx reads proxies and CA variables once, when a client is built, and the package keeps one
client per event loop for the life of a kernel. This transport routes each request instead:
it asks :mod:`.proxies` for the proxy of its URL and :mod:`.warm` for the TLS context, and
when a variable changed (``%env SSL_CERT_FILE=…``, ``os.environ["HTTPS_PROXY"] = …``) it
builds new connection pools for the next requests; the old ones finish what they carry and
close with the client. Direct connections use aiohttp's pool (:mod:`.aio`, a fifth of the CPU
per request); connections through a proxy use httpcore's. aiohttp is imported with this module,
as httpcore is (~0.2 s of CPU: it builds two TLS contexts as it loads), so that a first call
imports nothing before its first request; a kernel loads it while idle after ``%load_ext``.
"""

from __future__ import annotations

import os
import ssl

import certifi
import httpx

from .._exceptions import ConfigurationError
from . import proxies, trust
from . import warm as _warm
from .aio import AiohttpPool

__all__ = ["LIMITS", "NetworkTransport", "facts", "route_note"]

#: Connections per pool, all kept alive. httpx's default keeps 20 of up to 100 alive: at 100
#: predictions in flight connections were opened and closed all the time, and every request
#: checks each pooled connection (a few system calls each), so a bounded pool of reused
#: connections costs least. Requests beyond it wait for a connection (the pool timeout). Given
#: to each pool here: a client given a transport ignores its own ``limits``.
LIMITS = httpx.Limits(max_connections=32, max_keepalive_connections=32)


class _Routes:
    """The connection pools for one set of settings: direct, and one per proxy URL."""

    def __init__(self, context: ssl.SSLContext, config: proxies.ProxyConfig) -> None:
        self.context = context
        self.config = config
        self.pools: dict[str | None, httpx.AsyncBaseTransport] = {}

    def pool(self, url: httpx.URL) -> httpx.AsyncBaseTransport:
        chosen = self.config.proxy_for(url.scheme, url.host, url.port or _default_port(url))
        proxy_url = chosen[0] if chosen else None
        pool = self.pools.get(proxy_url)
        if pool is None:
            if chosen is None:
                pool = AiohttpPool(self.context, LIMITS)
            else:
                pool = httpx.AsyncHTTPTransport(
                    verify=self.context,
                    trust_env=False,
                    proxy=_proxy(*chosen, self.context),
                    limits=LIMITS,
                )
            self.pools[proxy_url] = pool
        return pool


def _proxy(url: str, variable: str, context: ssl.SSLContext | None) -> httpx.Proxy:
    """The proxy of ``url``, or a :class:`ConfigurationError` naming ``variable``."""
    proxies.check_proxy_url(url, variable)
    try:
        parsed = httpx.URL(url)
        # an https proxy's own certificate is checked with the same CA certificates
        return httpx.Proxy(parsed, ssl_context=context if parsed.scheme == "https" else None)
    except (httpx.InvalidURL, ValueError) as exc:
        raise ConfigurationError(
            f"{variable}={proxies.mask(url)} is not a usable proxy URL ({exc}); write it as "
            "http://host:port"
        ) from None


def _default_port(url: httpx.URL) -> int | None:
    return {"http": 80, "https": 443}.get(url.scheme)


class NetworkTransport(httpx.AsyncBaseTransport):
    """Sends each request directly or through its proxy, verifying TLS with the CA
    certificates in force (:mod:`.trust`). Raises ``ConfigurationError`` before sending
    anything when a CA variable or a proxy URL cannot be used."""

    def __init__(self) -> None:
        self._key: tuple[object, ...] | None = None
        self._routes: _Routes | None = None
        self._retired: list[_Routes] = []

    def _current(self) -> _Routes:
        key = (trust.fingerprint(), proxies.fingerprint())
        if self._routes is None or key != self._key:
            routes = _Routes(_warm.ssl_context(), proxies.current())
            if self._routes is not None:
                self._retired.append(self._routes)
            self._routes, self._key = routes, key
        return self._routes

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._current().pool(request.url).handle_async_request(request)

    async def aclose(self) -> None:
        every = [*self._retired, *([self._routes] if self._routes else [])]
        self._retired, self._routes, self._key = [], None, None
        for routes in every:
            for pool in routes.pools.values():
                await pool.aclose()


def route_note(url: httpx.URL) -> str:
    """`` through the proxy … (VARIABLE)`` when requests to ``url`` go through one, else
    ``""``: for messages about a connection that failed."""
    try:
        chosen = proxies.current().proxy_for(url.scheme, url.host, url.port or _default_port(url))
    except Exception:  # only words for a message: never a second error
        return ""
    return f" through the proxy {proxies.mask(chosen[0])} ({chosen[1]})" if chosen else ""


def facts(base_url: str) -> list[tuple[str, str, str]]:
    """The network settings in force for ``doctor()``: rows of ``(check, status, detail)``,
    status ``"ok"``, ``"PROBLEM"`` or ``""`` (information). Proxy credentials are masked."""
    return [_proxy_fact(base_url), *_no_proxy_facts(), _trust_fact()]


def _proxy_fact(base_url: str) -> tuple[str, str, str]:
    config = proxies.current()
    every = ", ".join(
        f"{variable}={proxies.mask(url)}" for url, variable in config.proxies.values()
    )
    if not base_url.startswith(("http://", "https://")):
        where = "not used by the embedded emulator"
        return ("proxy", "", f"{where}; set: {every}" if every else f"{where}; none set")
    url = httpx.URL(base_url)
    chosen = config.proxy_for(url.scheme, url.host, url.port or _default_port(url))
    if chosen is None:
        how = "direct"
        if config.proxies.get(url.scheme) or config.proxies.get("all"):
            how += f" ({config.no_proxy_variable} matches {url.host})"
        return ("proxy", "", f"{how}; set: {every}" if every else f"{how}: no proxy set")
    try:
        _proxy(*chosen, None)
    except ConfigurationError as exc:
        return ("proxy", "PROBLEM", str(exc))
    return ("proxy", "", f"{url.host} through {proxies.mask(chosen[0])} ({chosen[1]})")


def _no_proxy_facts() -> list[tuple[str, str, str]]:
    config = proxies.current()
    if not config.no_proxy_variable:
        return []
    name = config.no_proxy_variable
    said = f"{len(config.rules)} entr{'y' if len(config.rules) == 1 else 'ies'} honoured"
    if config.skipped:
        skipped = ", ".join(map(repr, config.skipped))
        return [(name, "PROBLEM", f"{said}; skipped, cannot be read: {skipped}")]
    return [(name, "", said)]


def _trust_fact() -> tuple[str, str, str]:
    try:
        where = trust.source()
        _warm.ssl_context()
    except ConfigurationError as exc:
        return ("CA certificates", "PROBLEM", str(exc))
    detail = where.describe()
    if where.origin == "certifi":
        detail = f"certifi {certifi.__version__}: {where.path}"
    ignored = [
        name
        for name in (*trust.FILE_VARIABLES, trust.DIR_VARIABLE)
        if name != where.origin and (os.environ.get(name) or "").strip()
    ]
    if ignored:
        detail += f"; also set, not used: {', '.join(ignored)}"
    return ("CA certificates", "", detail)
