"""The transport under every request to the service, its file hosts and upload targets: the
proxy and the CA certificates in force, read again at each request.

httpx reads proxies and CA variables once, when a client is built, and the package keeps one
client per event loop for the life of a kernel. This transport routes each request instead:
it asks :mod:`.proxies` for the proxy of its URL and :mod:`.warm` for the TLS context, and
when a variable changed (``%env SSL_CERT_FILE=…``, ``os.environ["HTTPS_PROXY"] = …``) it
builds new connection pools for the next requests; the old ones finish what they carry and
close with the client.
"""

from __future__ import annotations

import ssl

import httpx

from . import proxies, trust
from . import warm as _warm

__all__ = ["NetworkTransport"]


class _Routes:
    """The connection pools for one set of settings: direct, and one per proxy URL."""

    def __init__(self, context: ssl.SSLContext, config: proxies.ProxyConfig) -> None:
        self.context = context
        self.config = config
        self.pools: dict[str | None, httpx.AsyncHTTPTransport] = {}

    def pool(self, url: httpx.URL) -> httpx.AsyncHTTPTransport:
        chosen = self.config.proxy_for(url.scheme, url.host, url.port or _default_port(url))
        proxy_url = chosen[0] if chosen else None
        pool = self.pools.get(proxy_url)
        if pool is None:
            proxy = None
            if chosen is not None:
                proxies.check_proxy_url(*chosen)
                proxy = httpx.Proxy(chosen[0], ssl_context=self.context)
            pool = httpx.AsyncHTTPTransport(verify=self.context, trust_env=False, proxy=proxy)
            self.pools[proxy_url] = pool
        return pool


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
