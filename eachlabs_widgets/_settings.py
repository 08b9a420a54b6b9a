"""Settings, read when a call is made: argument > ``configure()`` > environment > default.

Reading them per call (not at import) means ``%env EACHLABS_API_KEY=…`` after ``import
eachlabs_widgets`` takes effect. The key is held in a :class:`Secret` whose repr hides it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._exceptions import ConfigurationError

__all__ = ["DEFAULT_BASE_URL", "EMULATOR", "Secret", "Settings", "configure", "resolve"]

DEFAULT_BASE_URL = "https://api.eachlabs.ai"
#: The base URL value that selects the embedded, in-process emulator.
EMULATOR = "emulator"
#: The key sent to the embedded emulator when none is set (the emulator accepts any key).
EMULATOR_KEY = "emulator-demo-key"

_overrides: dict[str, Any] = {}


class Secret:
    """A string that never shows itself in a repr, str or f-string."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

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
    *, api_key: str | None = None, base_url: str | None = None, output_dir: str | None = None
) -> None:
    """Set process-wide defaults that win over the environment (``None`` leaves one as is).

    ``output_dir=""`` turns automatic saving off.
    """
    if output_dir is not None:
        _overrides["output_dir"] = output_dir
    if api_key is not None:
        _overrides["api_key"] = Secret(api_key) if api_key else None
    if base_url is not None:
        _overrides["base_url"] = base_url


def reset_configuration() -> None:
    """Forget what :func:`configure` set."""
    _overrides.clear()


def normalise_base_url(url: str) -> str:
    url = url.strip()
    if url.lower() in (EMULATOR, "emulator:", "emulator://"):
        return EMULATOR
    return url.rstrip("/")


def resolve(api_key: str | Secret | None = None, base_url: str | None = None) -> Settings:
    """The settings for one call."""
    url = (
        base_url
        or _overrides.get("base_url")
        or os.environ.get("EACHLABS_BASE_URL")
        or DEFAULT_BASE_URL
    )
    key: Secret | None
    if isinstance(api_key, Secret):
        key = api_key
    elif api_key:
        key = Secret(api_key)
    elif "api_key" in _overrides:
        key = _overrides["api_key"]
    else:
        env = os.environ.get("EACHLABS_API_KEY", "").strip()
        key = Secret(env) if env else None
    return Settings(base_url=normalise_base_url(url), api_key=key)


def output_dir() -> str | None:
    """Where finished outputs are saved: ``configure(output_dir=)`` > ``EACHLABS_OUTPUT_DIR`` >
    ``eachgen_outputs`` (relative to the working directory: next to the notebook). Empty: off."""
    value = _overrides.get("output_dir")
    if value is None:
        value = os.environ.get("EACHLABS_OUTPUT_DIR", "eachgen_outputs")
    return value or None


def home() -> Path:
    """Where the journal and other durable state live: ``EACHLABS_HOME`` or the user data dir."""
    env = os.environ.get("EACHLABS_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("eachlabs-widgets", appauthor=False))
