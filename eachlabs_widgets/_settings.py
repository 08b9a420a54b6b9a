"""Settings, read when a call is made: argument > ``configure()`` > environment > default.

Reading them per call (not at import) means a key given with :func:`~._login.login` after
``import eachlabs_widgets`` takes effect. The key is held in a :class:`Secret` whose repr hides
it.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._exceptions import ConfigurationError

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_UPLOAD_EXPIRY",
    "EMULATOR",
    "Secret",
    "Settings",
    "budget",
    "configure",
    "environ_get",
    "resolve",
    "upload_expiry",
]

DEFAULT_BASE_URL = "https://api.eachlabs.ai"
#: The base URL value that selects the embedded, in-process emulator.
EMULATOR = "emulator"
#: The key sent to the embedded emulator when none is set (the emulator accepts any key).
EMULATOR_KEY = "emulator-demo-key"
#: Where outputs are saved when nothing says otherwise (relative: next to the notebook).
DEFAULT_OUTPUT_DIR = "eachgen_outputs"
#: Predictions this process keeps in flight unless told otherwise (``configure(concurrency=)``,
#: ``EachGen.concurrency``, ``--concurrency``). Not the service's cap: it caps only accounts
#: with a balance of $10 or less (API.md, "Limits"), and the limiter learns that cap from its
#: 429s. Kept here, in a module that imports nothing heavy, so ``%load_ext`` can name it
#: without loading the limiter.
DEFAULT_CONCURRENCY = 10

#: Seconds an input file uploaded for a prediction stays public (the service keeps it 180 days
#: unless asked otherwise: API.md, "Upload"); it is fetched within minutes.
DEFAULT_UPLOAD_EXPIRY = 86_400
UPLOAD_EXPIRY_ENV = "EACHLABS_UPLOAD_EXPIRY"
#: The bounds the service accepts for ``expires_in_seconds`` (API.md, "Upload").
UPLOAD_EXPIRY_RANGE = (60, 365 * 86_400)


def environ_get(name: str, default: str | None = None) -> str | None:
    """``os.environ.get(name, default)``, at a quarter of its cost for a name that is not set.

    Settings, proxies and trust are read again on every request, so that a change made in a
    running notebook (``%env``, ``os.environ[…] = …``) takes effect at once: some fifteen
    variables per request, most of them unset. ``os.environ.get`` raises and catches a
    ``KeyError`` inside for each unset one (about 2 µs); this looks the encoded name up in the
    mapping's own store, with the same encoding (falling back to ``os.environ.get`` for a
    mapping that has none).
    """
    environ = os.environ
    try:
        raw = environ._data.get(environ.encodekey(name))  # type: ignore[attr-defined]
    except AttributeError:
        return environ.get(name, default)
    return default if raw is None else environ.decodevalue(raw)


_overrides: dict[str, Any] = {}
#: Told of a new ``configure(concurrency=)`` (the limiter registers itself: it is imported
#: after this module, never by it).
_concurrency_listeners: list[Callable[[int], None]] = []


#: Matching quote pairs a key arrives wrapped in: ``docker --env-file``, systemd's
#: ``EnvironmentFile`` and cmd.exe's ``set K="…"`` keep them as part of the value, and word
#: processors and chat apps turn straight quotes into curly ones.
_QUOTE_PAIRS = {
    '"': '"',
    "'": "'",
    "`": "`",
    "\u201c": "\u201d",
    "\u2018": "\u2019",
    "\u00ab": "\u00bb",
}
_QUOTES = frozenset(_QUOTE_PAIRS) | frozenset(_QUOTE_PAIRS.values())
#: What a paste of a whole ``.env`` or shell line puts before the key.
_ASSIGNMENT = re.compile(r"^(?:export\s+|set\s+)?EACHLABS_API_KEY\s*=\s*", re.IGNORECASE)


def _unwrap(key: str) -> str:
    """``key`` without the quotes (and the blanks inside them) it was pasted in.

    A key never holds a quote mark, and the package never shows the key, so a user cannot see
    stray quotes: they are dropped rather than refused (as a shell or python-dotenv would drop
    them) when they match. A quote left on one side only is refused by :func:`clean_key`.
    """
    key = _ASSIGNMENT.sub("", _trim(key), count=1)
    while len(key) >= 2 and _QUOTE_PAIRS.get(key[0]) == key[-1]:
        key = _trim(key[1:-1])
    return key


#: Invisible characters a copy brings along at the ends: a byte-order mark (a file saved as
#: "UTF-8 with BOM" by Notepad), zero-width spaces and joiners from web pages.
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u2060"


def _trim(text: str) -> str:
    return text.strip().strip(_INVISIBLE).strip()


def clean_key(value: str) -> str:
    """``value`` with surrounding whitespace and matching quotes removed, checked to be
    sendable as a header.

    A key read from a file usually ends in a newline: that is stripped, as are a byte-order
    mark and zero-width characters at its ends. A key wrapped in
    matching quotes (``"smk_…"``, ``'smk_…'``, curly quotes) or pasted as a whole line
    (``EACHLABS_API_KEY=smk_…``, ``export …``) is unwrapped. A key with a quote at one end
    only, or a control character, a space or a non-ASCII character inside it, cannot be sent
    as intended: :class:`ConfigurationError` says so (without showing the key).
    """
    key = _unwrap(value)
    for end, char in (("starts", key[:1]), ("ends", key[-1:])):
        if char and char in _QUOTES:
            raise ConfigurationError(
                f"the EachLabs API key {end} with a quote mark ({char}) that has no partner "
                "at the other end; a key holds no quotes: remove the quote marks around it"
            )
    for index, char in enumerate(key):
        if not ("!" <= char <= "~"):
            what = (
                "a space"
                if char == " "
                else "a control character"
                if ord(char) < 32 or ord(char) == 127
                else "a non-ASCII character"
            )
            raise ConfigurationError(
                f"the EachLabs API key holds {what} (U+{ord(char):04X}) at position "
                f"{index + 1}; a key is printable ASCII only. Copy it again from the "
                "EachLabs dashboard."
            )
    return key


class Secret:
    """A string that never shows itself in a repr, str or f-string.

    Built from a key, it strips surrounding whitespace and refuses a key that cannot be sent
    (:func:`clean_key`).
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = clean_key(value)

    def redact(self, text: str) -> str:
        """``text`` with every occurrence of the secret replaced by ``***``."""
        return text.replace(self._value, "***") if self._value else text

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> Any:  # never pickled into a file by accident
        raise TypeError("a Secret cannot be pickled")


@dataclass(frozen=True)
class Settings:
    """What one call uses. ``api_key`` is a :class:`Secret` or None."""

    base_url: str
    api_key: Secret | None

    @property
    def is_emulator(self) -> bool:
        return self.base_url == EMULATOR

    def require_key(self) -> Secret:
        if self.api_key is not None:
            return self.api_key
        if self.is_emulator:
            return Secret(EMULATOR_KEY)
        raise ConfigurationError(
            "No EachLabs API key: in a notebook run el.login() or %eachgen login (a hidden "
            "prompt; the key stays in memory, out of the notebook), or set EACHLABS_API_KEY "
            "in the environment before starting Jupyter or the script. To try the package "
            "without a key, use the embedded emulator: EACHLABS_BASE_URL=emulator."
        )


def configure(
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    output_dir: str | None = None,
    truststore: bool | None = None,
    upload_expiry: int | None = None,
    concurrency: int | None = None,
    budget: float | None = None,
) -> None:
    """Set process-wide defaults that win over the environment (``None`` leaves one as is).

    ``output_dir=""`` turns automatic saving off. ``truststore=True`` verifies the service's
    certificate with the operating system's store (as ``EACHLABS_TRUSTSTORE=1``; needs the
    ``truststore`` package) instead of certifi's bundle. ``upload_expiry`` is the seconds an
    input file uploaded for a prediction stays public (60 to 31,536,000; default a day).
    ``concurrency`` (an int ≥ 1, default :data:`DEFAULT_CONCURRENCY`) is the most predictions
    this process keeps in flight; below it, the client follows the account's cap as the
    service's 429s reveal it. Raises :class:`ValueError` for a concurrency below 1.
    ``budget`` (USD, ≥ 0) is the most this process may spend: a create whose learned price
    would take the session's reported spend past it is not sent (``BudgetExceededError``);
    ``math.inf`` lifts it. Raises :class:`ConfigurationError` for a negative budget.
    """
    if budget is not None:
        set_budget(_checked_budget(budget, "budget"))
    if truststore is not None:
        _overrides["truststore"] = bool(truststore)
    if upload_expiry is not None:
        _overrides["upload_expiry"] = _checked_expiry(upload_expiry, "upload_expiry")
    if concurrency is not None:
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ValueError(f"concurrency must be an integer of at least 1, not {concurrency!r}")
        _overrides["concurrency"] = concurrency
        for listener in list(_concurrency_listeners):
            listener(concurrency)
    if output_dir is not None:
        _overrides["output_dir"] = output_dir
    if api_key is not None:
        _overrides["api_key"] = _secret_or_none(api_key)
    if base_url is not None:
        _overrides["base_url"] = normalise_base_url(base_url)


def _secret_or_none(value: str) -> Secret | None:
    """The key as a :class:`Secret`, or ``None`` when nothing is left once it is unwrapped
    (``EACHLABS_API_KEY=""`` in an env-file means "no key", as in a shell)."""
    secret = Secret(value)
    return secret if secret.reveal() else None


#: The last ``EACHLABS_API_KEY`` read and its Secret: every request reads the variable (it may
#: change in a kernel), and cleaning it again each time was a visible share of a batch's CPU.
_env_key: tuple[str, Secret | None] | None = None


def _env_secret(value: str) -> Secret | None:
    global _env_key
    known = _env_key
    if known is not None and known[0] == value:
        return known[1]
    secret = _secret_or_none(value)
    _env_key = (value, secret)
    return secret


def reset_configuration() -> None:
    """Forget what :func:`configure` set."""
    had_concurrency = "concurrency" in _overrides
    _overrides.clear()
    if had_concurrency:
        for listener in list(_concurrency_listeners):
            listener(DEFAULT_CONCURRENCY)


BUDGET_ENV = "EACHLABS_BUDGET"


def _checked_budget(value: Any, where: str) -> float | None:
    """``value`` as USD (``None`` for no limit: infinity, or an empty variable)."""
    try:
        dollars = float(str(value).strip().lstrip("$"))
    except ValueError:
        dollars = -1.0
    if isinstance(value, bool) or not dollars >= 0:
        raise ConfigurationError(
            f"{where} is the most to spend in USD, a number of at least 0 (math.inf: no "
            f"limit), not {value!r}"
        )
    return None if dollars == float("inf") else dollars


def set_budget(dollars: float | None) -> None:
    """Set the session's budget in USD (``None``: none, the environment aside); the magics'
    ``EachGen.budget`` sets it through here."""
    if dollars is None:
        _overrides.pop("budget", None)
        _overrides["no_budget"] = True
    else:
        _overrides.pop("no_budget", None)
        _overrides["budget"] = dollars


def budget() -> float | None:
    """The most this process may spend, in USD: ``configure(budget=)`` or ``EachGen.budget`` >
    ``EACHLABS_BUDGET`` > none (``None``). Raises :class:`ConfigurationError` for a value that
    is not a number of at least 0."""
    if "budget" in _overrides:
        return float(_overrides["budget"])
    if _overrides.get("no_budget"):
        return None
    raw = (environ_get(BUDGET_ENV) or "").strip()
    return _checked_budget(raw, BUDGET_ENV) if raw else None


def concurrency() -> int:
    """The most predictions in flight at once: ``configure(concurrency=)``, else
    :data:`DEFAULT_CONCURRENCY`."""
    value = _overrides.get("concurrency")
    return value if isinstance(value, int) else DEFAULT_CONCURRENCY


def on_concurrency(listener: Callable[[int], None]) -> None:
    """Call ``listener(n)`` whenever ``configure(concurrency=n)`` sets a new ceiling."""
    _concurrency_listeners.append(listener)


@functools.lru_cache(maxsize=32)  # every request resolves its base URL
def normalise_base_url(url: str) -> str:
    """The service's origin (and any proxy prefix) without trailing slashes or ``/v1``.

    Every request path starts with ``/v1`` (API.md, "Endpoints"), so a base URL written with
    the version in it (``https://api.eachlabs.ai/v1``, as OpenAI-style clients teach) means the
    same service. Raises :class:`ConfigurationError` for a URL that is not http(s).
    """
    url = url.strip()
    if url.lower() in (EMULATOR, "emulator:", "emulator://"):
        return EMULATOR
    url = url.rstrip("/")
    if url.lower().endswith("/v1"):
        url = url[:-3].rstrip("/")
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ("http", "https") or not rest:
        raise ConfigurationError(
            f"the EachLabs base URL {url!r} is not an http(s) URL; use "
            f"{DEFAULT_BASE_URL!r} (the default), or 'emulator' for the embedded emulator"
        )
    return url


def resolve_base_url(base_url: str | None = None) -> str:
    """The base URL one call uses (argument > ``configure()`` > environment > default)."""
    return normalise_base_url(
        base_url
        or _overrides.get("base_url")
        or environ_get("EACHLABS_BASE_URL")
        or DEFAULT_BASE_URL
    )


def resolve(api_key: str | Secret | None = None, base_url: str | None = None) -> Settings:
    """The settings for one call."""
    url = resolve_base_url(base_url)
    key: Secret | None
    if isinstance(api_key, Secret):
        key = api_key
    elif api_key and api_key.strip():
        key = Secret(api_key)
    elif "api_key" in _overrides:
        key = _overrides["api_key"]
    else:
        env = environ_get("EACHLABS_API_KEY") or ""
        try:
            key = _env_secret(env)
        except ConfigurationError as exc:  # say where the key came from
            raise ConfigurationError(f"EACHLABS_API_KEY: {exc}") from None
    return Settings(base_url=url, api_key=key)


def use_truststore() -> bool:
    """Whether TLS trust comes from the operating system's store: ``configure(truststore=)`` >
    ``EACHLABS_TRUSTSTORE`` (``1``/``true``/``yes``/``on``) > off."""
    value = _overrides.get("truststore")
    if value is None:
        return (environ_get("EACHLABS_TRUSTSTORE") or "").strip().lower() in _TRUE
    return bool(value)


_TRUE = frozenset({"1", "true", "yes", "on"})


def output_dir() -> str | None:
    """Where finished outputs are saved: ``configure(output_dir=)`` > ``EACHLABS_OUTPUT_DIR`` >
    ``eachgen_outputs`` (relative to the working directory: next to the notebook). Empty: off."""
    value = _overrides.get("output_dir")
    if value is None:
        value = environ_get("EACHLABS_OUTPUT_DIR", DEFAULT_OUTPUT_DIR)
    return value or None


def _checked_expiry(value: Any, where: str) -> int:
    low, high = UPLOAD_EXPIRY_RANGE
    try:
        seconds = int(str(value).strip())
    except ValueError:
        seconds = -1
    if isinstance(value, bool) or not low <= seconds <= high:
        raise ConfigurationError(
            f"{where} is the seconds an upload stays public, from {low} to {high}, not {value!r}"
        )
    return seconds


def upload_expiry() -> int:
    """Seconds an input file uploaded for a prediction stays public (``expires_in_seconds``):
    ``configure(upload_expiry=)`` > ``EACHLABS_UPLOAD_EXPIRY`` > one day (86,400). Raises
    :class:`ConfigurationError` for a value outside 60 s .. 365 days."""
    if "upload_expiry" in _overrides:
        return int(_overrides["upload_expiry"])
    raw = (environ_get(UPLOAD_EXPIRY_ENV) or "").strip()
    return _checked_expiry(raw, UPLOAD_EXPIRY_ENV) if raw else DEFAULT_UPLOAD_EXPIRY


def home() -> Path:
    """Where the journal and other durable state live: ``EACHLABS_HOME`` or the user data dir."""
    return _home(
        environ_get("EACHLABS_HOME") or None, environ_get("HOME"), environ_get("XDG_DATA_HOME")
    )


@functools.lru_cache(maxsize=8)  # asked on every journal write; keyed by what it depends on
def _home(env: str | None, user_home: str | None, data_home: str | None) -> Path:
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("eachlabs-widgets", appauthor=False))
