"""The journal: every prediction, recorded durably the moment it is created.

A SQLite file in ``EACHLABS_HOME`` (default: the platform's user data directory). A row is
written right after the create answers, before anything else can go wrong, and then updated
as the status, outputs and saved files arrive, so a kernel that dies loses no paid-for work:
``history()`` lists it and ``resume(id)`` picks it up. The key is never stored.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ._settings import home

__all__ = ["Journal", "JournalEntry", "default_journal", "input_key"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS predictions (
    id TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    inputs TEXT NOT NULL,
    input_key TEXT NOT NULL,
    base_url TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    urls TEXT NOT NULL DEFAULT '[]',
    metrics TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    files TEXT NOT NULL DEFAULT '[]',
    duration REAL
);
CREATE INDEX IF NOT EXISTS predictions_created ON predictions (created_at DESC);
CREATE INDEX IF NOT EXISTS predictions_key ON predictions (input_key);
"""


def input_key(model: str, inputs: Mapping[str, Any], base_url: str) -> str:
    """A stable hash of what a prediction asked for, to find an identical earlier run."""
    canonical = json.dumps([base_url, model, dict(inputs)], sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class JournalEntry:
    """One recorded prediction."""

    id: str
    model: str
    status: str
    inputs: dict[str, Any]
    created_at: datetime
    base_url: str
    urls: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    files: list[str] = field(default_factory=list)

    @property
    def prompt(self) -> str | None:
        value = self.inputs.get("prompt")
        return value if isinstance(value, str) else None

    def __repr__(self) -> str:
        when = self.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        return f"<JournalEntry {self.id} {self.model} {self.status} {when}>"


class Journal:
    """Thread-safe access to one journal file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._ready = False

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if not self._ready:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30)
            try:
                if not self._ready:
                    conn.execute("PRAGMA journal_mode=WAL")
                    conn.executescript(_SCHEMA)
                    self._ready = True
                # FULL: a row is on disk when the call returns, even if the process is killed.
                conn.execute("PRAGMA synchronous=FULL")
                with conn:
                    yield conn
            finally:
                conn.close()

    def created(
        self, prediction_id: str, model: str, inputs: Mapping[str, Any], base_url: str
    ) -> None:
        now = time.time()
        with self._connect() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO predictions (id, model, inputs, input_key, base_url, status,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'created', ?, ?)",
                (
                    prediction_id,
                    model,
                    json.dumps(dict(inputs), default=str),
                    input_key(model, inputs, base_url),
                    base_url,
                    now,
                    now,
                ),
            )

    def update(
        self,
        prediction_id: str,
        *,
        status: str | None = None,
        urls: list[str] | None = None,
        metrics: Mapping[str, Any] | None = None,
        error: str | None = None,
        files: list[str] | None = None,
        duration: float | None = None,
    ) -> None:
        sets: dict[str, Any] = {"updated_at": time.time()}
        if duration is not None and duration > 0:
            sets["duration"] = duration
        if status is not None:
            sets["status"] = status
        if urls is not None:
            sets["urls"] = json.dumps(urls)
        if metrics is not None:
            sets["metrics"] = json.dumps(dict(metrics), default=str)
        if error is not None:
            sets["error"] = error
        if files is not None:
            sets["files"] = json.dumps(files)
        columns = ", ".join(f"{k} = ?" for k in sets)
        with self._connect() as conn:
            conn.execute(
                f"UPDATE predictions SET {columns} WHERE id = ?", (*sets.values(), prediction_id)
            )

    def get(self, prediction_id: str) -> JournalEntry | None:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT * FROM predictions WHERE id = ?", (prediction_id,)
            ).fetchone()
            names = [d[0] for d in conn.execute("SELECT * FROM predictions LIMIT 0").description]
        return _entry(dict(zip(names, row, strict=False))) if row else None

    def entries(
        self, limit: int | None = None, model: str | None = None, status: str | None = None
    ) -> list[JournalEntry]:
        query = "SELECT * FROM predictions"
        where, args = [], []
        if model:
            where.append("model = ?")
            args.append(model)
        if status:
            where.append("status = ?")
            args.append(status)
        if where:
            query += " WHERE " + " AND ".join(where)
        query += " ORDER BY created_at DESC, rowid DESC"
        if limit:
            query += f" LIMIT {int(limit)}"
        with self._connect() as conn:
            cursor = conn.execute(query, args)
            names = [d[0] for d in cursor.description]
            return [_entry(dict(zip(names, row, strict=False))) for row in cursor.fetchall()]

    def durations(self, model: str, base_url: str, limit: int = 10) -> list[float]:
        """How long ``model``'s latest successful predictions ran, newest first (seconds)."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT duration FROM predictions WHERE model = ? AND base_url = ?"
                " AND status = 'success' AND duration IS NOT NULL"
                " ORDER BY created_at DESC LIMIT ?",
                (model, base_url, limit),
            ).fetchall()
        return [float(r[0]) for r in rows]

    def find_reusable(
        self, model: str, inputs: Mapping[str, Any], base_url: str
    ) -> JournalEntry | None:
        """The newest successful run of exactly these inputs whose files are still on disk."""
        key = input_key(model, inputs, base_url)
        with self._connect() as conn:
            cursor = conn.execute(
                "SELECT * FROM predictions WHERE input_key = ? AND status = 'success'"
                " ORDER BY created_at DESC",
                (key,),
            )
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
        for row in rows:
            entry = _entry(dict(zip(names, row, strict=False)))
            if entry.files and all(Path(f).exists() for f in entry.files):
                return entry
        return None


def _entry(row: Mapping[str, Any]) -> JournalEntry:
    return JournalEntry(
        id=row["id"],
        model=row["model"],
        status=row["status"],
        inputs=json.loads(row["inputs"]),
        created_at=datetime.fromtimestamp(row["created_at"], tz=timezone.utc),
        base_url=row["base_url"],
        urls=json.loads(row["urls"]),
        metrics=json.loads(row["metrics"]),
        error=row["error"],
        files=json.loads(row["files"]),
    )


_default: dict[Path, Journal] = {}


def default_journal() -> Journal:
    """The journal in ``EACHLABS_HOME`` (read per call, so the variable may change)."""
    path = home() / "journal.sqlite3"
    if path not in _default:
        _default[path] = Journal(path)
    return _default[path]
