"""Which proxy a request goes through: ``HTTP(S)_PROXY``/``ALL_PROXY`` and ``NO_PROXY`` as people
write them.

httpx turns every ``NO_PROXY`` entry into a URL pattern when a client is built, and an IPv6
address or network (``::1``, ``fd07:b51a:cc66:f0::/64``, which OrbStack puts in every
container), a bracketed address (``[::1]``) or a CIDR range does not parse: the client cannot
even be built. So the package reads the variables itself, per request:

- the proxy for a URL: ``https_proxy``/``HTTPS_PROXY`` for https, ``http_proxy``/``HTTP_PROXY``
  for http, else ``all_proxy``/``ALL_PROXY`` (the lowercase spelling wins, as in urllib and
  httpx; ``HTTP_PROXY`` is ignored in a CGI request, as urllib does); a value without a scheme
  means ``http://``. Without any variable, the system's settings (Windows registry, macOS
  configuration) apply, as urllib reads them;
- ``NO_PROXY``/``no_proxy`` entries, separated by commas, semicolons or blanks: ``*`` (everything),
  ``example.com``/``.example.com``/``*.example.com`` (that domain and its subdomains), an
  address with or without brackets (``10.1.2.3``, ``::1``, ``[::1]``), a CIDR range
  (``10.0.0.0/8``, ``::1/128``; matched against hosts written as addresses: no name is
  looked up), ``192.168.*``, any of these with ``:port`` or an ``http://`` prefix, and
  Windows' ``<local>`` (names without a dot). Quotes kept around a value by a docker env-file
  are dropped. Entries that cannot be read are skipped, with one warning per value naming
  them; the rest is honoured.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import re
import sys
import urllib.request
import warnings
from dataclasses import dataclass, field

from .._exceptions import ConfigurationError
from .._settings import environ_get

__all__ = ["ProxyConfig", "current", "mask", "parse_no_proxy"]

#: The variables read here (lowercase and uppercase), for the doctor and the fingerprint.
VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
#: Every spelling :func:`fingerprint` reads.
_SPELLINGS = tuple(n for name in VARIABLES for n in (name, name.upper()))
_HOST = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*")
_IPV4_WILDCARD = re.compile(r"((?:\d{1,3}\.){1,3})\*")

#: Where urllib (and so httpx) reads proxy settings from the system when no variable is set.
_SYSTEM_SETTINGS = sys.platform in ("win32", "darwin")

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Rule:
    """One readable ``NO_PROXY`` entry."""

    everything: bool = False
    local: bool = False  # Windows' <local>: a name without a dot
    domain: str | None = None
    network: IPNetwork | None = None
    port: int | None = None
    scheme: str | None = None

    def matches(self, scheme: str, host: str, port: int | None) -> bool:
        if self.scheme is not None and self.scheme != scheme:
            return False
        if self.port is not None and self.port != port:
            return False
        if self.everything:
            return True
        if self.local:
            return "." not in host and ":" not in host
        if self.domain is not None:
            return host == self.domain or host.endswith("." + self.domain)
        if self.network is not None:
            try:
                return ipaddress.ip_address(host) in self.network
            except ValueError:  # a name: CIDR ranges match addresses only (no lookups)
                return False
        return False


def _port(text: str) -> int | None:
    if text.isdigit() and 0 < int(text) < 65536:
        return int(text)
    raise ValueError(text)


def _address_rule(text: str, port: int | None, scheme: str | None) -> Rule:
    """An address or a CIDR range; ``ValueError`` when ``text`` is neither."""
    network = ipaddress.ip_network(text, strict=False)
    return Rule(network=network, port=port, scheme=scheme)


def parse_entry(raw: str) -> Rule | None:
    """The rule for one entry, or ``None`` when it cannot be read."""
    entry = _unquote(raw).lower()
    scheme = None
    if "://" in entry:
        scheme, _, entry = entry.partition("://")
        if scheme not in ("http", "https"):
            return None
        entry = entry.rstrip("/")
    if entry == "*":
        return Rule(everything=True, scheme=scheme)
    if entry == "<local>":
        return Rule(local=True, scheme=scheme)
    try:
        if entry.startswith("["):  # [::1], [::1]:8080, [fd00::]/64
            inside, close, rest = entry[1:].partition("]")
            if not close:
                return None
            if rest.startswith("/"):
                return _address_rule(inside + rest, None, scheme)
            port = _port(rest[1:]) if rest.startswith(":") else None
            if rest and port is None:
                return None
            return _address_rule(inside, port, scheme)
        try:  # an address or a range written bare, IPv6 included (its colons are no port)
            return _address_rule(entry, None, scheme)
        except ValueError:
            pass
        host, port = entry, None
        if entry.count(":") == 1:
            host, _, text = entry.partition(":")
            port = _port(text)
        wildcard = _IPV4_WILDCARD.fullmatch(host)
        if wildcard:  # 192.168.* as Windows' proxy bypass list writes it
            parts = wildcard.group(1).rstrip(".").split(".")
            prefix = ".".join(parts + ["0"] * (4 - len(parts)))
            return _address_rule(f"{prefix}/{8 * len(parts)}", port, scheme)
        try:
            return _address_rule(host, port, scheme)  # 10.0.0.1:8080
        except ValueError:
            pass
        domain = host.removeprefix("*").removeprefix(".").rstrip(".")
        if not _HOST.fullmatch(domain):
            return None
        return Rule(domain=domain, port=port, scheme=scheme)
    except ValueError:
        return None


def parse_no_proxy(value: str) -> tuple[tuple[Rule, ...], tuple[str, ...]]:
    """The readable rules of a ``NO_PROXY`` value and the entries skipped."""
    rules: list[Rule] = []
    skipped: list[str] = []
    for raw in re.split(r"[,;\s]+", value):  # ";" as Windows' proxy override list has it
        if not raw:
            continue
        rule = parse_entry(raw)
        if rule is None:
            skipped.append(raw)
        else:
            rules.append(rule)
    return tuple(rules), tuple(skipped)


def mask(url: str) -> str:
    """``url`` with any ``user:password@`` replaced by ``***@``."""
    scheme, sep, rest = url.partition("://")
    netloc, slash, path = rest.partition("/")
    if "@" in netloc:
        netloc = "***@" + netloc.rpartition("@")[2]
    return f"{scheme}{sep}{netloc}{slash}{path}" if sep else url


def _unquote(text: str) -> str:
    """``text`` without blanks and quote marks at its ends: a docker env-file or systemd keeps
    the quotes of ``NO_PROXY="localhost,::1"``, and no host or URL holds one."""
    return text.strip().strip("\"'").strip()


def _variable(name: str) -> tuple[str, str] | None:
    """(variable, value) of ``name`` in lowercase or uppercase, the lowercase winning."""
    for spelled in (name, name.upper()):
        if spelled == "HTTP_PROXY" and "REQUEST_METHOD" in os.environ:
            continue  # a CGI request: its Proxy header arrives as HTTP_PROXY (httpoxy)
        value = os.environ.get(spelled)
        if value is not None:
            return spelled, _unquote(value)
    return None


@dataclass(frozen=True)
class ProxyConfig:
    """The proxies and ``NO_PROXY`` rules in force. ``proxies`` maps ``http``, ``https`` and
    ``all`` to (URL, where it came from); ``skipped`` holds unreadable ``NO_PROXY`` entries."""

    # proxy URLs may hold a password: never in a repr (see __repr__)
    proxies: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)
    rules: tuple[Rule, ...] = ()
    skipped: tuple[str, ...] = ()
    no_proxy_variable: str = ""
    no_proxy: str = ""

    def __repr__(self) -> str:
        shown = {scheme: mask(url) for scheme, (url, _variable) in self.proxies.items()}
        return f"<ProxyConfig {shown} no_proxy={self.no_proxy!r} skipped={self.skipped!r}>"

    def proxy_for(self, scheme: str, host: str, port: int | None) -> tuple[str, str] | None:
        """(proxy URL, where it came from) for a request, or ``None`` to go direct."""
        chosen = self.proxies.get(scheme) or self.proxies.get("all")
        if chosen is None:
            return None
        host = host.lower().rstrip(".")
        if any(rule.matches(scheme, host, port) for rule in self.rules):
            return None
        return chosen


def _read() -> ProxyConfig:
    proxies: dict[str, tuple[str, str]] = {}
    for scheme in ("http", "https", "all"):
        found = _variable(f"{scheme}_proxy")
        if found and found[1]:
            url = found[1] if "://" in found[1] else "http://" + found[1]
            proxies[scheme] = (url, found[0])
    no_proxy = _variable("no_proxy")
    variable, value = no_proxy if no_proxy else ("", "")
    if not proxies and not any(_variable(name) for name in VARIABLES) and _SYSTEM_SETTINGS:
        system = urllib.request.getproxies()  # registry / SystemConfiguration, as httpx reads them
        for scheme in ("http", "https", "all"):
            if system.get(scheme):
                proxies[scheme] = (system[scheme], "the system's proxy settings")
        variable, value = ("the system's proxy settings", system.get("no", ""))
    rules, skipped = parse_no_proxy(value)
    return ProxyConfig(proxies, rules, skipped, variable, value)


def fingerprint() -> tuple[str | None, ...]:
    """What :func:`current` depends on: the proxy variables as they are now."""
    return tuple(environ_get(n) for n in _SPELLINGS)


_cache: dict[tuple[str | None, ...], ProxyConfig] = {}


def current() -> ProxyConfig:
    """The proxy settings now, read again whenever a variable changed; an unreadable
    ``NO_PROXY`` entry is warned about once per value."""
    key = fingerprint()
    config = _cache.get(key)
    if config is None:
        config = _cache[key] = _read()
        if config.skipped:
            warnings.warn(
                f"{config.no_proxy_variable}: skipped {len(config.skipped)} entr"
                f"{'y' if len(config.skipped) == 1 else 'ies'} that cannot be read "
                f"({', '.join(map(repr, config.skipped))}); the others are honoured",
                UserWarning,
                stacklevel=2,
            )
    return config


def check_proxy_url(url: str, variable: str) -> None:
    """Raise :class:`ConfigurationError` naming ``variable`` for a proxy URL that cannot be
    used (the URL is shown without its credentials)."""
    scheme = url.partition("://")[0].lower()
    if scheme not in ("http", "https", "socks5", "socks5h"):
        raise ConfigurationError(
            f"{variable}={mask(url)}: a proxy URL starts with http://, https://, socks5:// or "
            "socks5h://"
        )
    if scheme.startswith("socks") and importlib.util.find_spec("socksio") is None:
        raise ConfigurationError(
            f"{variable}={mask(url)} is a SOCKS proxy, which needs the socksio package: "
            "pip install 'httpx[socks]'"
        )
