"""``doctor()``'s table of the installation and the settings, to paste into a bug report.

It says which versions run, whether a key is set (never any part of it), where requests go and
whether the service answers (one request without the key, no retries, at most 2 s), the
journal's path, health and size, whether the output folder can be written, and whether the
embedded emulator is available. It changes nothing: the journal is opened read-only, and the
output folder is only probed with a temporary file that is removed at once.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import os
import platform
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import _settings
from .._display.tables import Table
from .._exceptions import APIError, EachLabsError
from .._journal.place import journal_place
from .._journal.store import JournalError
from .._service.network import facts as network_facts
from .._version import __version__

__all__ = ["REACH_TIMEOUT", "DoctorReport", "build_report"]

OK, PROBLEM, INFO = "ok", "PROBLEM", ""
REACH_TIMEOUT = 2.0
_PACKAGES = ("httpx", "ipython", "ipywidgets", "ipykernel", "jupyterlab", "Pillow", "jsonschema")

Row = tuple[str, str, str]


class DoctorReport(Table):
    """Rows of ``(check, status, detail)``: a table in a notebook, plain text in a terminal.

    ``status`` is ``"ok"``, ``"PROBLEM"`` or empty (information only). ``problems`` lists the
    checks that failed.
    """

    def __init__(self, rows: Sequence[Row]) -> None:
        problems = [r[0] for r in rows if r[1] == PROBLEM]
        note = (
            f"{len(problems)} problem(s): {', '.join(problems)}"
            if problems
            else "no problems found"
        )
        super().__init__(
            ["check", "status", "detail"], rows, title="eachlabs-widgets doctor", note=note
        )
        self.problems = problems

    def plain(self, width: int = 200) -> str:  # paths are long: keep them whole
        return super().plain(width)

    def __str__(self) -> str:
        return self.plain()


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def versions() -> list[Row]:
    rows: list[Row] = [
        ("eachlabs-widgets", INFO, __version__),
        ("python", INFO, f"{platform.python_version()} ({sys.executable})"),
        ("platform", INFO, platform.platform()),
    ]
    rows += [(dist, INFO, _version(dist)) for dist in _PACKAGES]
    return rows


def _key_source() -> tuple[str, str | None]:
    """Where the key comes from, and its raw text (never shown)."""
    if "api_key" in _settings._overrides:
        secret = _settings._overrides["api_key"]
        return "el.login() / configure()", secret.reveal() if secret is not None else None
    raw = os.environ.get("EACHLABS_API_KEY", "")
    return ("EACHLABS_API_KEY", raw) if raw.strip() else ("", None)


def key_row(accepted: Row | None = None) -> Row:
    """Whether a key is set and where from: never its value, nor any part of it. It is "ok"
    only when ``accepted`` (the :func:`key_accepted` row) says the service answered a request
    made with it; short of that it is "set, not checked"."""
    source, raw = _key_source()
    if raw is not None:
        try:
            cleaned = _settings.clean_key(raw)
        except EachLabsError as exc:  # e.g. a control character inside it
            return ("API key", PROBLEM, f"set ({source}) but refused: {exc}")
        how = source if cleaned == raw.strip() else f"{source}; the quotes around it are dropped"
        if accepted is not None and accepted[1] == OK:
            return ("API key", OK, f"set ({how}), accepted by the service; not shown")
        if accepted is not None and "(401)" in accepted[2]:
            return ("API key", PROBLEM, f"set ({how}), refused by the service (401)")
        return ("API key", INFO, f"set ({how}), not checked; not shown")
    if _base_url() == _settings.EMULATOR:
        return ("API key", OK, "not set (not needed by the emulator)")
    return ("API key", PROBLEM, "not set: run el.login() or %eachgen login")


def base_url_row() -> Row:
    try:
        return ("base URL", INFO, _shown_url(_settings.resolve_base_url()))
    except EachLabsError as exc:
        return ("base URL", PROBLEM, str(exc))


def _base_url() -> str:
    try:
        return _settings.resolve_base_url()
    except EachLabsError:
        url = os.environ.get("EACHLABS_BASE_URL") or _settings.DEFAULT_BASE_URL
        return str(_settings._overrides.get("base_url") or url)


WRONG_PATH = (
    "is the base URL right? The API's paths start with /v1 at the service's own address "
    f"(e.g. {_settings.DEFAULT_BASE_URL})"
)


def reachability(base_url: str, timeout: float = REACH_TIMEOUT) -> Row:
    """One ``GET /v1/models?limit=1`` without the key and without retries, cut off at
    ``timeout`` seconds."""
    if base_url == _settings.EMULATOR:
        return ("service reachable", OK, "the embedded emulator (in this process, no network)")
    try:
        _settings.normalise_base_url(base_url)
    except EachLabsError:
        return ("service reachable", INFO, "not checked: the base URL is not valid")
    started = time.perf_counter()
    try:
        status = _ask(base_url, "/v1/models", timeout, params={"limit": 1})
    except asyncio.TimeoutError:
        return ("service reachable", PROBLEM, f"no answer within {timeout:g} s")
    except APIError as exc:
        took = time.perf_counter() - started
        hint = f"; {WRONG_PATH}" if exc.status_code == 404 else ""
        return (
            "service reachable",
            PROBLEM,
            f"answered HTTP {exc.status_code} in {took:.2f} s{hint}",
        )
    except EachLabsError as exc:
        return ("service reachable", PROBLEM, str(exc))
    except Exception as exc:  # the report must still come: say what went wrong
        return ("service reachable", PROBLEM, f"{type(exc).__name__}: {exc}")
    took = time.perf_counter() - started
    return ("service reachable", OK, f"HTTP {status} in {took:.2f} s")


def key_accepted(base_url: str, timeout: float = REACH_TIMEOUT) -> Row | None:
    """Whether the service takes the key: one authenticated ``GET`` of a prediction that does
    not exist (API.md, "Get prediction": 404 for an unknown id, 401 for a wrong key). Creates
    nothing, costs nothing. ``None`` when there is no usable key or base URL to check."""
    source, raw = _key_source()
    if raw is None or base_url == _settings.EMULATOR:
        return None
    try:
        _settings.Secret(raw)
        _settings.normalise_base_url(base_url)
    except EachLabsError:
        return None
    try:
        _ask(base_url, f"/v1/prediction/doctor-check-{uuid.uuid4().hex[:12]}", timeout, auth=True)
    except asyncio.TimeoutError:
        return ("API key accepted", PROBLEM, f"no answer within {timeout:g} s")
    except APIError as exc:
        if exc.status_code == 404 and "not found" in exc.message.lower():
            # the service's own "Prediction not found": it checks the key first (API.md)
            return ("API key accepted", OK, "the service took it (asked about no prediction)")
        if exc.status_code == 401:
            return ("API key accepted", PROBLEM, f"the service refused it (401); from {source}")
        return ("API key accepted", PROBLEM, f"answered HTTP {exc.status_code}")
    except Exception as exc:  # the report must still come: say what went wrong
        return ("API key accepted", PROBLEM, f"{type(exc).__name__}: {exc}")
    return ("API key accepted", OK, "the service took it")


def _ask(
    base_url: str,
    path: str,
    timeout: float,
    *,
    params: dict[str, int] | None = None,
    auth: bool = False,
) -> int:
    """The status of one request, without retries, cut off at ``timeout`` seconds."""
    from .._service.client import AsyncEachLabs
    from .._service.retry import RetryPolicy
    from .._service.sync import run_sync

    client = AsyncEachLabs(base_url=base_url, retry=RetryPolicy(max_attempts=1), journal=False)

    async def ask() -> int:
        request = client._http.request("GET", path, params=params, auth=auth)
        return (await asyncio.wait_for(request, timeout)).status_code

    return run_sync(ask())


def _size(nbytes: int) -> str:
    size = float(nbytes)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{nbytes} B"


def journal_rows() -> list[Row]:
    """Path, health and size of the journal, opened read-only (waits at most 1 s for a lock);
    a problem while it is not where ``EACHLABS_HOME`` (or the default) puts it."""
    try:
        place = journal_place(make=False)
    except JournalError as exc:  # no folder at all can be written
        return [("journal", PROBLEM, str(exc))]
    path = place.journal
    rows: list[Row] = [("journal path", INFO, str(path))]
    if place.moved:
        rows.append(("journal place", PROBLEM, place.explain()))
    if not path.exists():
        rows.append(("journal", OK, "none yet (made with the first prediction)"))
        return rows
    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=1)
        try:
            check = str(conn.execute("PRAGMA quick_check").fetchone()[0])
            try:
                count: Any = conn.execute("SELECT count(*) FROM predictions").fetchone()[0]
            except sqlite3.Error:
                count = "?"
        finally:
            conn.close()
    except sqlite3.Error as exc:
        rows.append(("journal", PROBLEM, f"cannot be read: {exc} ({_size(size)})"))
        return rows
    if check != "ok":
        rows.append(("journal", PROBLEM, f"damaged: {check[:120]} ({_size(size)})"))
    else:
        rows.append(("journal", OK, f"healthy, {count} prediction(s), {_size(size)}"))
    return rows


def output_row(folder: str | None) -> Row:
    """Whether outputs can be saved in ``folder`` (probed with a temporary file, removed)."""
    if not folder:
        return ("output folder", INFO, "saving is off")
    path = Path(folder).expanduser().absolute()
    if path.is_dir():
        try:
            with tempfile.NamedTemporaryFile(dir=path, prefix=".eachlabs-doctor-"):
                pass
        except OSError as exc:
            return ("output folder", PROBLEM, f"{path}: not writable ({exc.strerror})")
        return ("output folder", OK, f"{path}: writable")
    if path.exists():
        return ("output folder", PROBLEM, f"{path}: exists but is not a folder")
    parent = next((p for p in path.parents if p.exists()), None)
    if parent is not None and os.access(parent, os.W_OK | os.X_OK):
        return ("output folder", OK, f"{path}: will be made on first save")
    return ("output folder", PROBLEM, f"{path}: cannot be made (no write access to {parent})")


def emulator_row(base_url: str) -> Row:
    try:
        from ..emulator.catalog import models

        count = len(models())
    except Exception as exc:  # a broken install: say what broke
        return ("emulator", PROBLEM, f"not available: {type(exc).__name__}: {exc}")
    used = "in use" if base_url == _settings.EMULATOR else "available (EACHLABS_BASE_URL=emulator)"
    return ("emulator", OK, f"{used}; {count} models")


def _shown_url(url: str) -> str:
    """``url`` without any user:password part."""
    scheme, sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    if sep and "@" in host:
        return f"{scheme}://***@{host.rpartition('@')[2]}{slash}{path}"
    return url


def build_report(output_dir: str | None, timeout: float = REACH_TIMEOUT) -> DoctorReport:
    """The report, checking ``output_dir`` as the output folder (None: saving is off)."""
    base_url = _base_url()
    rows = versions()
    accepted = key_accepted(base_url, timeout)
    rows.append(key_row(accepted))
    rows.append(base_url_row())
    rows.append(reachability(base_url, timeout))
    if accepted is not None:
        rows.append(accepted)
    rows += network_facts(base_url)
    rows += journal_rows()
    rows.append(output_row(output_dir))
    rows.append(emulator_row(base_url))
    return DoctorReport(rows)
