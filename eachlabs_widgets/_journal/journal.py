"""The journal: every prediction, recorded durably the moment it is created.

A SQLite file in ``EACHLABS_HOME`` (default: the platform's user data directory). A row is
written right after the create answers, then updated as the status, outputs and saved files
arrive, so a kernel that dies loses no paid-for work: ``history()`` lists it and
``resume(id)`` picks it up. The key is never stored.

Rows are keyed by (service, prediction id): the same id from two services is two rows, and so
is the same id from two runs of an emulator (which gives its ids again after a restart with
``--seed``). Emulator rows are marked (``JournalEntry.emulator``).

All file work runs on one thread per file (see ``store``), so nothing here blocks an
event loop when it uses the non-blocking half of the API:

- ``submit_created(...)`` / ``submit_update(...)`` return at once (a :class:`Ticket`, which
  may be awaited); the write is on disk moments later, or once another process that holds
  the file locked lets go.
- ``await aflush()``, ``await aget(...)``, ``await aentries(...)``, ``await adurations(...)``,
  ``await acosts(...)``, ``await afind_reusable(...)``: reads that wait on that thread.
- ``durations_nowait(model, base_url)``: what is known right now, never waiting.

The blocking methods (``created``, ``update``, ``get``, ``entries``, ``durations``, ``costs``,
``find_reusable``) are for scripts and tests; called on an event loop they hold it up.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import secrets
import sqlite3
import time
import warnings
from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from typing import Any, TypeVar

from .._exceptions import EachLabsError
from .._settings import EMULATOR
from .lineage import add_parent_column, walk_parents
from .marks import add_mark_columns, marks_work, resolve_work
from .place import journal_place
from .search import build_index_work, has_index, search_sql
from .store import (
    JournalBusyError,
    JournalCorruptError,
    JournalError,
    Store,
    store_for,
)
from .ticket import Ticket

__all__ = [
    "CANCEL_REQUESTED",
    "Journal",
    "JournalBusyError",
    "JournalCorruptError",
    "JournalEntry",
    "JournalError",
    "JournalWarning",
    "PredictionNotFound",
    "current_session",
    "default_journal",
    "finished_after_cancel",
    "input_key",
]

T = TypeVar("T")

SCHEMA_VERSION = 2
#: How long a read waits for the writes submitted before it (seconds); after that it reads
#: what is on disk (a file locked by another process delays rows, not reads).
FLUSH_WAIT = 2.0
#: How long the blocking ``created``/``update`` wait for their row (seconds). The row is
#: written later if the file stays locked longer; it is never dropped.
WRITE_WAIT = 10.0
#: Durations and costs kept per (model, service) for planning polls and estimating prices.
RECENT = 10

_TABLE = """
CREATE TABLE predictions (
    id TEXT NOT NULL,
    base_url TEXT NOT NULL,
    run INTEGER NOT NULL DEFAULT 0,
    model TEXT NOT NULL,
    inputs TEXT NOT NULL,
    input_key TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    urls TEXT NOT NULL DEFAULT '[]',
    metrics TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    files TEXT NOT NULL DEFAULT '[]',
    duration REAL,
    cost_per_image REAL,
    emulator INTEGER NOT NULL DEFAULT 0,
    session TEXT NOT NULL DEFAULT '',
    UNIQUE (base_url, id, run)
)
"""
_INDEXES = (
    "CREATE INDEX IF NOT EXISTS predictions_created ON predictions (created_at)",
    "CREATE INDEX IF NOT EXISTS predictions_id ON predictions (id)",
    "CREATE INDEX IF NOT EXISTS predictions_key ON predictions (input_key)",
    "CREATE INDEX IF NOT EXISTS predictions_model ON predictions (model, base_url, created_at)",
)
# Version 1 (no user_version): ``id TEXT PRIMARY KEY``, one row per id whatever the service.
_V1_COLUMNS = (
    "id, base_url, model, inputs, input_key, status, created_at, updated_at, urls, metrics,"
    " error, files"
)


#: The note of a row whose cancel the service accepted but has not yet carried out (API.md,
#: "Cancel": the 200 means accepted; the prediction may still complete, and is billed then).
#: The row's status keeps the service's last word until it says how the prediction ended.
CANCEL_REQUESTED = (
    "cancel requested: the service may still finish it (then it is billed and its files are "
    "saved); resume(id) settles it"
)


def finished_after_cancel(cost: Any) -> str:
    """The one-line notice for a prediction that completed although its cancel was accepted:
    ``finished before the cancel took effect: saved, $0.01`` (``cost`` in USD, if known)."""
    paid = (
        f", ${cost:.2f}"
        if isinstance(cost, int | float) and not isinstance(cost, bool)
        else ", cost not reported"
    )
    return f"finished before the cancel took effect: saved{paid}"


class JournalWarning(UserWarning):
    """Something happened to the journal file that the user should know (said once)."""


class PredictionNotFound(EachLabsError, KeyError):
    """A prediction cannot be resumed: it is not in the journal, or it was made by an emulator
    that no longer holds it. The message says how to go on. (Also a ``KeyError``, as before.)"""

    def __init__(self, message: str, *, prediction_id: str) -> None:
        self.prediction_id = prediction_id
        super().__init__(message)

    def __str__(self) -> str:  # not KeyError's quoted repr
        return str(self.args[0]) if self.args else ""


_session = f"{os.getpid()}-{secrets.token_hex(4)}"


def current_session() -> str:
    """This process's mark on the rows it writes (emulator rows live no longer than it)."""
    return _session


def _new_session_after_fork() -> None:
    global _session
    _session = f"{os.getpid()}-{secrets.token_hex(4)}"


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_session_after_fork)


def input_key(model: str, inputs: Mapping[str, Any], base_url: str) -> str:
    """A stable hash of what a prediction asked for, to find an identical earlier run."""
    canonical = json.dumps([base_url, model, dict(inputs)], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class JournalEntry:
    """One recorded prediction (read-only).

    ``id``, ``model``, ``status``, ``base_url``; ``inputs`` (dict), ``urls`` (list of str),
    ``metrics`` (dict), ``error`` (str or None: why it failed, or a note), ``files`` (paths
    saved, list of str); ``cancel_requested``: its cancel was accepted and the service has not
    yet said how it ended (``status`` is the service's last word);
    ``created_at``: when its create answered (aware datetime, UTC); ``duration``: seconds it
    ran on the service, once known; ``emulator``: whether an emulator made it; ``session``:
    which process recorded it; ``starred`` (bool) and ``tags`` (list of str): the marks
    ``star()`` and ``tag()`` put on it; ``parent``: the prediction id of the run it was made
    from (a variation, a remix, an image used as input, a loaded form, a recall), or None.

    Entries read from the journal keep the row as read and decode a field (JSON, the
    timestamp) on its first use, into a slot of its own: listing thousands of them costs
    little more than reading them.
    """

    __slots__ = ("_created_at", "_files", "_inputs", "_metrics", "_row", "_tags", "_urls")
    _row: tuple[Any, ...]
    _created_at: datetime

    def __init__(
        self,
        id: str,
        model: str,
        status: str,
        inputs: dict[str, Any],
        created_at: datetime,
        base_url: str,
        urls: list[str] | None = None,
        metrics: dict[str, Any] | None = None,
        error: str | None = None,
        files: list[str] | None = None,
        emulator: bool = False,
        session: str = "",
        duration: float | None = None,
        starred: bool = False,
        tags: list[str] | None = None,
        parent: str | None = None,
    ) -> None:
        row = (id, model, status, None, None, base_url, None, None, error, None)
        _set(self, "_row", (*row, emulator, session, duration, int(starred), None, parent))
        _set(self, "_tags", list(tags or []))
        _set(self, "_inputs", inputs)
        _set(self, "_created_at", created_at)
        _set(self, "_urls", list(urls or []))
        _set(self, "_metrics", dict(metrics or {}))
        _set(self, "_files", list(files or []))

    @classmethod
    def _of_rows(cls, rows: list[tuple[Any, ...]]) -> list[JournalEntry]:
        """Entries of rows as read (columns in ``_COLUMNS`` order), nothing decoded yet. Built
        by C-level ``map`` calls: no Python frame per row, which was most of the cost of a
        long listing once the row was read."""
        entries = list(map(_new, repeat(cls, len(rows))))
        deque(map(_set, entries, repeat("_row"), rows), maxlen=0)
        return entries

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a JournalEntry is read-only (cannot set {name!r})")

    def _json(self, slot: str, index: int, empty: Any) -> Any:
        try:
            return getattr(self, slot)
        except AttributeError:  # not decoded yet
            value = _loads(self._row[index], empty)
            _set(self, slot, value)
            return value

    @property
    def id(self) -> str:
        return str(self._row[0])

    @property
    def model(self) -> str:
        return str(self._row[1])

    @property
    def status(self) -> str:
        return str(self._row[2])

    @property
    def inputs(self) -> dict[str, Any]:
        value: dict[str, Any] = self._json("_inputs", 3, {})
        return value

    @property
    def created_at(self) -> datetime:
        try:
            return self._created_at
        except AttributeError:  # not decoded yet
            value = _fromtimestamp(self._row[4], tz=_utc)
            _set(self, "_created_at", value)
            return value

    @property
    def base_url(self) -> str:
        return str(self._row[5])

    @property
    def urls(self) -> list[str]:
        value: list[str] = self._json("_urls", 6, [])
        return value

    @property
    def metrics(self) -> dict[str, Any]:
        value: dict[str, Any] = self._json("_metrics", 7, {})
        return value

    @property
    def error(self) -> str | None:
        value = self._row[8]
        return None if value is None else str(value)

    @property
    def files(self) -> list[str]:
        value: list[str] = self._json("_files", 9, [])
        return value

    @property
    def cancel_requested(self) -> bool:
        return self._row[8] == CANCEL_REQUESTED

    @property
    def emulator(self) -> bool:
        return bool(self._row[10])

    @property
    def session(self) -> str:
        return str(self._row[11])

    @property
    def duration(self) -> float | None:
        value = self._row[12]
        return None if value is None else float(value)

    @property
    def starred(self) -> bool:
        return bool(self._row[13]) if len(self._row) > 13 else False

    @property
    def tags(self) -> list[str]:
        if len(self._row) <= 14:
            return []
        value: list[str] = self._json("_tags", 14, [])
        return list(value)

    @property
    def parent(self) -> str | None:
        value = self._row[15] if len(self._row) > 15 else None
        return str(value) if value else None

    @property
    def prompt(self) -> str | None:
        value = self.inputs.get("prompt")
        return value if isinstance(value, str) else None

    @property
    def from_this_process(self) -> bool:
        return self.session == _session

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _ENTRY_FIELDS)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, JournalEntry):
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # holds dicts, like the dataclass it replaces

    def __repr__(self) -> str:
        when = self.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        label = " (emulator)" if self.emulator else ""
        return f"<JournalEntry {self.id} {self.model}{label} {self.status} {when}>"


_ENTRY_FIELDS = (
    "id",
    "model",
    "status",
    "inputs",
    "created_at",
    "base_url",
    "urls",
    "metrics",
    "error",
    "files",
    "emulator",
    "session",
    "duration",
    "starred",
    "tags",
    "parent",
)
_new = object.__new__
_set = object.__setattr__


# -- the schema ---------------------------------------------------------------------------


def _prepare(conn: sqlite3.Connection) -> None:
    """Create the table or bring an older file up to date; then the marks (``marks``), then
    the parent (``lineage``): in that order, so ``parent`` follows ``tags`` in every file."""
    _prepare_table(conn)
    add_mark_columns(conn)
    add_parent_column(conn)


def _prepare_table(conn: sqlite3.Connection) -> None:
    """Create the table, or bring an older file up to date, in one transaction."""
    if conn.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            tables = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            if "predictions" in tables:
                _migrate_from_v1(conn)
            else:
                conn.execute(_TABLE)
            for statement in _INDEXES:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _migrate_from_v1(conn: sqlite3.Connection) -> None:
    """Version 1 had ``id`` as its primary key. Rows keep their values; emulator rows (base URL
    ``emulator``) are marked; a cost per image is derived from ``metrics.cost``."""
    old = {r[1] for r in conn.execute("PRAGMA table_info(predictions)")}
    duration = "duration" if "duration" in old else "NULL"
    conn.execute(_TABLE.replace("CREATE TABLE predictions", "CREATE TABLE predictions_v2"))
    conn.execute(
        f"INSERT INTO predictions_v2 ({_V1_COLUMNS}, duration, emulator, run)"
        f" SELECT {_V1_COLUMNS}, {duration}, base_url = ?, 0 FROM predictions",
        (EMULATOR,),
    )
    rows = conn.execute(
        "SELECT rowid, metrics, urls FROM predictions_v2 WHERE metrics LIKE '%cost%'"
    ).fetchall()
    for rowid, metrics, urls in rows:
        cost = _cost_per_image(_loads(metrics, {}), len(_loads(urls, [])))
        if cost is not None:
            conn.execute(
                "UPDATE predictions_v2 SET cost_per_image = ? WHERE rowid = ?", (cost, rowid)
            )
    conn.execute("DROP TABLE predictions")  # its indexes go with it
    conn.execute("ALTER TABLE predictions_v2 RENAME TO predictions")


def _loads(text: str | None, empty: Any) -> Any:
    if not text or text in ("[]", "{}"):
        return type(empty)()
    try:
        return json.loads(text)
    except ValueError:
        return type(empty)()


def _cost_per_image(metrics: Mapping[str, Any], outputs: int) -> float | None:
    """``metrics.cost`` (USD, for the whole prediction) over its outputs, if it is a number."""
    cost = metrics.get("cost") if isinstance(metrics, Mapping) else None
    if isinstance(cost, bool) or cost is None:
        return None
    try:
        value = float(cost)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return value / max(1, outputs)


# -- rows ---------------------------------------------------------------------------------

_COLUMNS = (
    "id, model, status, inputs, created_at, base_url, urls, metrics, error, files,"
    " emulator, session, duration, starred, tags, parent"
)
_SELECT = f"SELECT {_COLUMNS} FROM predictions"
_ORDER = " ORDER BY created_at DESC, rowid DESC"
_CREATED_AT = itemgetter(4)  # its place in _COLUMNS
_utc = timezone.utc
_fromtimestamp = datetime.fromtimestamp


_entries = JournalEntry._of_rows


def _entry(row: tuple[Any, ...]) -> JournalEntry:
    return _entries([row])[0]


def _where_id(prediction_id: str, base_url: str | None) -> tuple[str, tuple[Any, ...]]:
    if base_url is None:
        return "id = ?", (prediction_id,)
    return "id = ? AND base_url = ?", (prediction_id, base_url)


Work = Callable[[sqlite3.Connection], T]


def _get_work(prediction_id: str, base_url: str | None) -> Work[JournalEntry | None]:
    where, args = _where_id(prediction_id, base_url)

    def work(conn: sqlite3.Connection) -> JournalEntry | None:
        row = conn.execute(f"{_SELECT} WHERE {where}{_ORDER} LIMIT 1", args).fetchone()
        return _entry(row) if row else None

    return work


def _lineage_work(prediction_id: str) -> Work[list[JournalEntry]]:
    def work(conn: sqlite3.Connection) -> list[JournalEntry]:
        def get(pid: str) -> JournalEntry | None:
            row = conn.execute(f"{_SELECT} WHERE id = ?{_ORDER} LIMIT 1", (pid,)).fetchone()
            return _entry(row) if row else None

        return walk_parents(prediction_id, get, lambda entry: entry.parent)

    return work


def _entries_work(
    limit: int | None, model: str | None, status: str | None, emulator: bool | None
) -> Work[list[JournalEntry]]:
    query = _SELECT
    where: list[str] = []
    args: list[Any] = []
    if model:
        where.append("model = ?")
        args.append(model)
    if status:
        where.append("status = ?")
        args.append(status)
    if emulator is False:
        where.append("emulator = 0")
    elif emulator is None:
        # The embedded emulator lives in its process: its rows from others are dead ends.
        where.append("(emulator = 0 OR base_url != ? OR session = ?)")
        args += [EMULATOR, _session]
    if where:
        query += " WHERE " + " AND ".join(where)
    if limit:
        limited = f"{query}{_ORDER} LIMIT {int(limit)}"

        def first(conn: sqlite3.Connection) -> list[JournalEntry]:
            return _entries(conn.execute(limited, args).fetchall())

        return first

    def every(conn: sqlite3.Connection) -> list[JournalEntry]:
        # Every row is wanted: the table is read in its own order, newest rowid first, and
        # sorted here. Going through the created_at index costs a B-tree seek per row (about a
        # tenth of the read over 10,000 rows); rows are written about in creation order, so
        # this sort is nearly free. It is stable, so equal times keep the newest rowid first,
        # as _ORDER says.
        rows = conn.execute(f"{query} ORDER BY rowid DESC", args).fetchall()
        try:
            rows.sort(key=_CREATED_AT, reverse=True)
        except TypeError:  # a time that is not a number (an edited file): SQLite's own order
            rows = conn.execute(f"{query}{_ORDER}", args).fetchall()
        return _entries(rows)

    return every


_P_COLUMNS = ", ".join(f"p.{c.strip()}" for c in _COLUMNS.split(","))


def _search_work(
    text: str | None,
    model: str | None,
    starred: bool | None,
    tag: str | None,
    since: datetime | None,
    status: str | None,
    limit: int | None,
) -> Work[list[JournalEntry]]:
    def work(conn: sqlite3.Connection) -> list[JournalEntry]:
        sql, args = search_sql(
            _P_COLUMNS,
            text=text,
            model=model,
            starred=starred,
            tag=tag,
            since=since,
            status=status,
            limit=limit,
            indexed=has_index(conn),
        )
        return _entries(conn.execute(sql, args).fetchall())

    return work


def _recent_work(column: str, model: str, base_url: str, limit: int) -> Work[list[float]]:
    status = " AND status = 'success'" if column == "duration" else ""

    def work(conn: sqlite3.Connection) -> list[float]:
        rows = conn.execute(
            f"SELECT {column} FROM predictions WHERE model = ? AND base_url = ?{status}"
            f" AND {column} IS NOT NULL ORDER BY created_at DESC LIMIT ?",
            (model, base_url, limit),
        ).fetchall()
        return [float(r[0]) for r in rows]

    return work


def _all_recent_durations(conn: sqlite3.Connection) -> dict[tuple[str, str], list[float]]:
    rows = conn.execute(
        "SELECT model, base_url, duration FROM (SELECT model, base_url, duration, ROW_NUMBER()"
        " OVER (PARTITION BY model, base_url ORDER BY created_at DESC) AS n FROM predictions"
        " WHERE status = 'success' AND duration IS NOT NULL) WHERE n <= ? ORDER BY n",
        (RECENT,),
    ).fetchall()
    known: dict[tuple[str, str], list[float]] = {}
    for model, base_url, seconds in rows:
        known.setdefault((model, base_url), []).append(float(seconds))
    return known


def _reusable_work(key: str) -> Work[JournalEntry | None]:
    def work(conn: sqlite3.Connection) -> JournalEntry | None:
        rows = conn.execute(
            f"{_SELECT} WHERE input_key = ? AND status = 'success'{_ORDER}", (key,)
        ).fetchall()
        for row in rows:
            entry = _entry(row)
            if entry.files and all(Path(f).exists() for f in entry.files):
                return entry
        return None

    return work


def _created_work(
    prediction_id: str,
    model: str,
    inputs: Mapping[str, Any],
    base_url: str,
    emulator: bool,
    now: float,
    if_missing: bool = False,
    parent: str | None = None,
) -> Work[None]:
    values = (
        prediction_id,
        model,
        json.dumps(dict(inputs), default=str),
        input_key(model, inputs, base_url),
        base_url,
        now,
        now,
        int(emulator),
        _session,
        parent or None,
    )

    def work(conn: sqlite3.Connection) -> None:
        if (
            if_missing
            and conn.execute(
                "SELECT 1 FROM predictions WHERE base_url = ? AND id = ? LIMIT 1",
                (base_url, prediction_id),
            ).fetchone()
        ):
            return
        run = 0
        if emulator:
            # An emulator gives its ids again after a restart: each of its creates is a row.
            (last,) = conn.execute(
                "SELECT COALESCE(MAX(run), 0) FROM predictions WHERE base_url = ? AND id = ?",
                (base_url, prediction_id),
            ).fetchone()
            run = int(last) + 1
        conn.execute(
            "INSERT OR IGNORE INTO predictions (id, model, inputs, input_key, base_url, status,"
            " created_at, updated_at, emulator, session, parent, run)"
            " VALUES (?, ?, ?, ?, ?, 'created', ?, ?, ?, ?, ?, ?)",
            (*values, run),
        )

    return work


def _update_work(
    prediction_id: str,
    base_url: str | None,
    sets: dict[str, Any],
    metrics: Mapping[str, Any] | None,
    outputs: int | None,
) -> Work[tuple[str, str] | None]:
    where, args = _where_id(prediction_id, base_url)

    def work(conn: sqlite3.Connection) -> tuple[str, str] | None:
        row = conn.execute(
            f"SELECT rowid, model, base_url, urls FROM predictions WHERE {where}{_ORDER} LIMIT 1",
            args,
        ).fetchone()
        if row is None:
            return None  # nothing recorded under this id (e.g. resumed without a journal row)
        values = dict(sets)
        if metrics is not None:
            count = outputs if outputs is not None else len(_loads(row[3], []))
            cost = _cost_per_image(metrics, count)
            if cost is not None:
                values["cost_per_image"] = cost
        columns = ", ".join(f"{k} = ?" for k in values)
        conn.execute(
            f"UPDATE predictions SET {columns} WHERE rowid = ?", (*values.values(), row[0])
        )
        return row[1], row[2]

    return work


# -- the journal --------------------------------------------------------------------------


class Journal:
    """One journal file. Every instance for the same file shares one connection and thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._store: Store = store_for(self.path, _prepare)

    def __repr__(self) -> str:
        return f"<Journal {self.path}>"

    # -- writes that return at once ------------------------------------------------------

    def submit_created(
        self,
        prediction_id: str,
        model: str,
        inputs: Mapping[str, Any],
        base_url: str,
        *,
        emulator: bool | None = None,
        if_missing: bool = False,
        parent: str | None = None,
    ) -> Ticket[None]:
        """Record a prediction whose create just answered; returns at once. With
        ``if_missing``, only when no row of ``base_url`` has this id (a prediction followed
        again, whose row may or may not have reached the disk).

        ``emulator`` marks a row made by an emulator (default: ``base_url == "emulator"``; pass
        True for an emulator served on a URL, e.g. when its answers carry
        ``X-EachLabs-Emulator``). ``created_at`` is now, not when the row reaches the disk.
        ``parent``: the prediction id of the run this one was made from, if any.
        """
        self._prime()
        flag = base_url == EMULATOR if emulator is None else bool(emulator)
        work = _created_work(
            prediction_id, model, inputs, base_url, flag, time.time(), if_missing, parent
        )
        ticket: Ticket[None] = self._store.write(work, f"created {prediction_id}")
        self._report(raising=False)
        return ticket

    def submit_update(
        self,
        prediction_id: str,
        *,
        base_url: str | None = None,
        status: str | None = None,
        urls: list[str] | None = None,
        metrics: Mapping[str, Any] | None = None,
        error: str | None = None,
        files: list[str] | None = None,
        duration: float | None = None,
    ) -> Ticket[Any]:
        """Update the newest row of ``prediction_id`` (of ``base_url`` when given); returns at
        once. ``duration`` is seconds on the service; ``metrics.cost`` (USD) is kept per image.
        """
        self._prime()
        sets: dict[str, Any] = {"updated_at": time.time()}
        if duration is not None and duration > 0:
            sets["duration"] = float(duration)
        if status is not None:
            sets["status"] = status
        if urls is not None:
            sets["urls"] = json.dumps(list(urls))
        if metrics is not None:
            sets["metrics"] = json.dumps(dict(metrics), default=str)
        if error is not None:
            sets["error"] = error
        if files is not None:
            sets["files"] = json.dumps(list(files))
        work = _update_work(
            prediction_id,
            base_url,
            sets,
            dict(metrics) if metrics is not None else None,
            len(urls) if urls is not None else None,
        )
        ticket: Ticket[Any] = self._store.write(work, f"{status or 'update'} {prediction_id}")
        if "duration" in sets:
            seconds = sets["duration"]
            ticket.add_done_callback(lambda f: self._learned(f, seconds))
        self._report(raising=False)
        return ticket

    async def aflush(self, timeout: float | None = None) -> bool:
        """Wait (without blocking the loop) until every write submitted so far is on disk.
        False if ``timeout`` seconds passed first (the writes stay queued)."""
        return await self._store.barrier().wait_async(timeout)

    def flush(self, timeout: float | None = None) -> bool:
        """Blocking :meth:`aflush`."""
        self._not_on_worker()
        return self._store.barrier().wait(timeout)

    @property
    def pending(self) -> list[str]:
        """The writes not yet on disk (``"created ID"``, ``"success ID"``…), oldest first."""
        return self._store.pending

    # -- blocking writes (scripts, tests) ---------------------------------------------------

    def created(
        self,
        prediction_id: str,
        model: str,
        inputs: Mapping[str, Any],
        base_url: str,
        *,
        emulator: bool | None = None,
        if_missing: bool = False,
        parent: str | None = None,
    ) -> None:
        """:meth:`submit_created`, then wait for the row (up to ``WRITE_WAIT`` seconds; if the
        file is still locked then, the row is written when it frees)."""
        self._settle(
            self.submit_created(
                prediction_id,
                model,
                inputs,
                base_url,
                emulator=emulator,
                if_missing=if_missing,
                parent=parent,
            )
        )

    def update(
        self,
        prediction_id: str,
        *,
        base_url: str | None = None,
        status: str | None = None,
        urls: list[str] | None = None,
        metrics: Mapping[str, Any] | None = None,
        error: str | None = None,
        files: list[str] | None = None,
        duration: float | None = None,
    ) -> None:
        """:meth:`submit_update`, then wait for it like :meth:`created`."""
        self._settle(
            self.submit_update(
                prediction_id,
                base_url=base_url,
                status=status,
                urls=urls,
                metrics=metrics,
                error=error,
                files=files,
                duration=duration,
            )
        )

    def deferring(self, *, emulator: bool | None = None) -> Journal:
        """This journal as seen by code on an event loop: ``created``/``update`` submit and
        return at once. ``emulator`` is the mark for the rows it creates."""
        return _Deferring(self, emulator)

    # -- reads ----------------------------------------------------------------------------

    def get(self, prediction_id: str, base_url: str | None = None) -> JournalEntry | None:
        """The newest row of ``prediction_id`` (of ``base_url``, when given), or None."""
        return self._read(_get_work(prediction_id, base_url))

    async def aget(self, prediction_id: str, base_url: str | None = None) -> JournalEntry | None:
        return await self._aread(_get_work(prediction_id, base_url))

    def entries(
        self,
        limit: int | None = None,
        model: str | None = None,
        status: str | None = None,
        *,
        emulator: bool | None = True,
    ) -> list[JournalEntry]:
        """Rows newest first. ``emulator``: True all rows, False none made by an emulator,
        None all but the embedded emulator's rows of other processes (which cannot be
        resumed: its predictions live in the process that ran it)."""
        return self._read(_entries_work(limit, model, status, emulator))

    async def aentries(
        self,
        limit: int | None = None,
        model: str | None = None,
        status: str | None = None,
        *,
        emulator: bool | None = True,
    ) -> list[JournalEntry]:
        return await self._aread(_entries_work(limit, model, status, emulator))

    def durations(self, model: str, base_url: str, limit: int = RECENT) -> list[float]:
        """How long ``model``'s latest successful predictions on ``base_url`` ran, newest first
        (seconds)."""
        return self._read(_recent_work("duration", model, base_url, limit))

    async def adurations(self, model: str, base_url: str, limit: int = RECENT) -> list[float]:
        return await self._aread(_recent_work("duration", model, base_url, limit))

    def durations_nowait(self, model: str, base_url: str) -> list[float]:
        """:meth:`durations` as known right now, without waiting: the journal's durations are
        read in the background when it is first used, and this process's own are added as
        they are written. Empty until that first read is done."""
        self._prime()
        known = self._store_state().get("durations")
        return list(known.get((model, base_url), ())) if known else []

    def costs(self, model: str, base_url: str, limit: int = RECENT) -> list[float]:
        """What ``model`` cost per output on ``base_url`` (``metrics.cost`` over the outputs,
        USD), latest first; empty until the service has reported one."""
        return self._read(_recent_work("cost_per_image", model, base_url, limit))

    async def acosts(self, model: str, base_url: str, limit: int = RECENT) -> list[float]:
        return await self._aread(_recent_work("cost_per_image", model, base_url, limit))

    def find_reusable(
        self, model: str, inputs: Mapping[str, Any], base_url: str
    ) -> JournalEntry | None:
        """The newest successful run of exactly these inputs whose files are still on disk."""
        return self._read(_reusable_work(input_key(model, inputs, base_url)))

    async def afind_reusable(
        self, model: str, inputs: Mapping[str, Any], base_url: str
    ) -> JournalEntry | None:
        return await self._aread(_reusable_work(input_key(model, inputs, base_url)))

    def search(
        self,
        text: str | None = None,
        *,
        model: str | None = None,
        starred: bool | None = None,
        tag: str | None = None,
        since: datetime | None = None,
        status: str | None = None,
        limit: int | None = 50,
    ) -> list[JournalEntry]:
        """Rows whose prompt or negative prompt holds every word of ``text`` (words and word
        prefixes, case and accents aside), best match first; without ``text``, newest first.
        The other arguments narrow it down (``since``: created at or after, an aware
        datetime). The full-text index is built on first use (see ``search``)."""
        self._ensure_index()
        return self._read(_search_work(text, model, starred, tag, since, status, limit))

    def _ensure_index(self) -> None:
        state = self._store_state()
        if not state.get("fts"):
            self._settle(self._store.write(build_index_work, "search index"))
            state["fts"] = True

    def mark(
        self,
        prediction_id: str,
        *,
        starred: bool | None = None,
        add: list[str] | None = None,
        remove: list[str] | None = None,
    ) -> tuple[bool, list[str]] | None:
        """Star (``starred``) and tag (``add``, ``remove``) every row of ``prediction_id``;
        the newest row's (starred, tags) after, or None when the journal has no such id."""
        work = marks_work(prediction_id, starred=starred, add=add or [], remove=remove or [])
        ticket: Ticket[Any] = self._store.write(work, f"marks {prediction_id}")
        self._not_on_worker()
        if not ticket.wait(WRITE_WAIT):
            raise JournalBusyError(
                f"the journal {self.path} stayed locked by another process; the mark is "
                f"written when it frees",
                path=self.path,
            )
        try:
            result: tuple[bool, list[str]] | None = ticket.result(timeout=0)
        except sqlite3.Error as exc:
            raise JournalError(
                f"could not write the journal {self.path}: {exc}", path=self.path
            ) from None
        self._report(raising=False)
        return result

    def lineage(self, prediction_id: str) -> list[JournalEntry]:
        """The run ``prediction_id`` and the runs it was made from, child first, back to the
        root: each entry's ``parent`` is the next one's id. Ends at a parent the journal does
        not hold and at a cycle (an edited file); empty when ``prediction_id`` is unknown."""
        return self._read(_lineage_work(prediction_id))

    async def alineage(self, prediction_id: str) -> list[JournalEntry]:
        return await self._aread(_lineage_work(prediction_id))

    def resolve(self, prefix: str) -> list[str]:
        """The ids equal to ``prefix``, or else starting with it (a short id), newest first;
        at most six."""
        return self._read(resolve_work(prefix))

    def close(self, timeout: float = 5.0) -> bool:
        """Wait for pending writes (up to ``timeout`` seconds); the connection closes by itself
        when idle. False if writes are still pending."""
        return self.flush(timeout)

    # -- plumbing -------------------------------------------------------------------------

    def _store_state(self) -> dict[str, Any]:
        return self._store.state

    def _prime(self) -> None:
        """On first use of the file in this process, read the recent durations in the
        background, so a new process plans its polls from them."""
        state = self._store_state()
        if "durations" in state or state.get("priming"):
            return
        state["priming"] = True
        ticket = self._store.read(_all_recent_durations, flush_wait=0.0)

        def done(f: Ticket[dict[tuple[str, str], list[float]]]) -> None:
            state["durations"] = f.result(0) if f.exception() is None else {}

        ticket.add_done_callback(done)

    def _learned(self, ticket: Ticket[Any], seconds: float) -> None:
        # Runs on the journal's thread, in write order: after the priming read, so a duration
        # is either in what that read saw or added here, never both.
        if ticket.exception() is not None:
            return
        key = ticket.result(0)
        known = self._store_state().get("durations")
        if key is None or known is None:
            return
        known[key] = [seconds, *known.get(key, ())][:RECENT]

    def _read(self, work: Work[T]) -> T:
        self._not_on_worker()
        ticket: Ticket[T] = self._store.read(work, FLUSH_WAIT)
        if not ticket.wait(FLUSH_WAIT + 30):
            raise JournalBusyError(
                f"the journal {self.path} did not answer (is its disk very slow?)", path=self.path
            )
        try:
            result = ticket.result(timeout=0)
        except EachLabsError:
            raise
        except (sqlite3.Error, OSError) as exc:
            raise JournalError(
                f"could not read the journal {self.path}: {exc}{_hint(exc)}", path=self.path
            ) from None
        self._report(raising=True)
        return result

    async def _aread(self, work: Work[T]) -> T:
        ticket: Ticket[T] = self._store.read(work, FLUSH_WAIT)
        try:
            result = await ticket
        except (sqlite3.Error, OSError) as exc:
            raise JournalError(
                f"could not read the journal {self.path}: {exc}{_hint(exc)}", path=self.path
            ) from None
        self._report(raising=True)
        return result

    def _settle(self, ticket: Ticket[Any]) -> None:
        self._not_on_worker()
        if not ticket.wait(WRITE_WAIT):
            return  # still queued behind another process's lock: written when it frees
        try:
            ticket.result(timeout=0)
        except EachLabsError:
            raise
        except (sqlite3.Error, OSError) as exc:
            raise JournalError(
                f"could not write the journal {self.path}: {exc}{_hint(exc)}", path=self.path
            ) from None
        self._report(raising=False)

    def _report(self, *, raising: bool) -> None:
        problem = self._store.take_problem()
        if problem is None:
            return
        if raising:
            raise problem
        warnings.warn(str(problem), JournalWarning, stacklevel=4)

    def _not_on_worker(self) -> None:
        if self._store.on_worker_thread():
            raise RuntimeError("a blocking journal call from the journal's own thread")


def _hint(exc: BaseException) -> str:
    """What to do about a folder that cannot be written."""
    if isinstance(exc, OSError):
        return "; set EACHLABS_HOME to a folder that can be written"
    return ""


class _Deferring(Journal):
    """A journal whose ``created``/``update`` return at once (see :meth:`Journal.deferring`):
    the writes are submitted as by :meth:`Journal.created`, and not waited for."""

    def __init__(self, journal: Journal, emulator: bool | None) -> None:
        self.path = journal.path
        self._store = journal._store
        self._emulator = emulator

    def submit_created(
        self,
        prediction_id: str,
        model: str,
        inputs: Mapping[str, Any],
        base_url: str,
        *,
        emulator: bool | None = None,
        if_missing: bool = False,
        parent: str | None = None,
    ) -> Ticket[None]:
        mark = emulator if emulator is not None else self._emulator
        return super().submit_created(
            prediction_id,
            model,
            inputs,
            base_url,
            emulator=mark,
            if_missing=if_missing,
            parent=parent,
        )

    def _settle(self, ticket: Ticket[Any]) -> None:
        """Nothing to wait for: a write's problem is reported by the next journal call."""


_default: dict[Path, Journal] = {}


def default_journal() -> Journal:
    """The journal in ``EACHLABS_HOME`` (read per call, so the variable may change), or where
    it falls back to when that folder cannot be written (see :mod:`.place`; said once, with a
    :class:`JournalWarning`)."""
    place = journal_place()
    path = place.journal
    journal = _default.get(path)
    if journal is None:
        if place.moved:
            warnings.warn(f"journal: {place.explain()}", JournalWarning, stacklevel=2)
        journal = _default.setdefault(path, Journal(path))
    return journal
