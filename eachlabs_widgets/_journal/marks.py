"""Stars and tags on journal rows, and finding a row by id or short id.

Two columns of ``predictions``: ``starred`` (0 or 1) and ``tags`` (a JSON array of strings).
A journal made before they existed gets them the first time this version opens it
(:func:`add_mark_columns`: ``ALTER TABLE … ADD COLUMN`` with defaults, which rewrites
nothing and leaves the file readable by older versions, whose writes name their columns).

Tags are matched without regard to case; each is kept as first written, once.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence

from .store import add_columns

__all__ = ["add_mark_columns", "clean_tags", "marks_work", "resolve_work"]

_ADD = (
    "ALTER TABLE predictions ADD COLUMN starred INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE predictions ADD COLUMN tags TEXT NOT NULL DEFAULT '[]'",
    "CREATE INDEX IF NOT EXISTS predictions_starred ON predictions (created_at) WHERE starred = 1",
)


def add_mark_columns(conn: sqlite3.Connection) -> None:
    """Give an older journal the ``starred`` and ``tags`` columns (once, in a transaction)."""
    add_columns(conn, "starred", _ADD)


def clean_tags(tags: Iterable[str]) -> list[str]:
    """``tags`` stripped, each once (case-insensitively). Raises ``TypeError`` for a tag that
    is not a string and ``ValueError`` for an empty one or one longer than 100 characters."""
    out: list[str] = []
    seen: set[str] = set()
    for tag in tags:
        if not isinstance(tag, str):
            raise TypeError(f"a tag is a string, not {type(tag).__name__}: {tag!r}")
        text = " ".join(tag.split())
        if not text:
            raise ValueError("a tag cannot be empty")
        if len(text) > 100:
            raise ValueError(f"a tag has at most 100 characters: {text[:40]!r}…")
        if text.casefold() not in seen:
            seen.add(text.casefold())
            out.append(text)
    return out


def resolve_work(prefix: str, limit: int = 6) -> Callable[[sqlite3.Connection], list[str]]:
    """A read: the distinct ids equal to ``prefix`` or starting with it (at most ``limit``),
    newest first. Uses the id index: a range, not a scan."""

    def work(conn: sqlite3.Connection) -> list[str]:
        exact = conn.execute("SELECT 1 FROM predictions WHERE id = ? LIMIT 1", (prefix,))
        if exact.fetchone():
            return [prefix]
        rows = conn.execute(
            "SELECT id, MAX(created_at) AS t FROM predictions WHERE id >= ? AND id < ?"
            " GROUP BY id ORDER BY t DESC LIMIT ?",
            (prefix, prefix + "\U0010ffff", limit),
        ).fetchall()
        return [str(r[0]) for r in rows]

    return work


def marks_work(
    prediction_id: str,
    *,
    starred: bool | None = None,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
) -> Callable[[sqlite3.Connection], tuple[bool, list[str]] | None]:
    """A write: star or unstar, add or remove tags on every row of ``prediction_id`` (the same
    prediction followed again, or from two services, is one thing to the user). Returns the
    newest row's (starred, tags), or None when no row has this id."""
    drop = {t.casefold() for t in remove}

    def work(conn: sqlite3.Connection) -> tuple[bool, list[str]] | None:
        rows = conn.execute(
            "SELECT rowid, starred, tags FROM predictions WHERE id = ?"
            " ORDER BY created_at DESC, rowid DESC",
            (prediction_id,),
        ).fetchall()
        if not rows:
            return None
        result: tuple[bool, list[str]] | None = None
        for rowid, was_starred, text in rows:
            try:
                tags = [t for t in json.loads(text or "[]") if isinstance(t, str)]
            except ValueError:
                tags = []
            known = {t.casefold() for t in tags}
            for tag in add:
                if tag.casefold() not in known:
                    tags.append(tag)
                    known.add(tag.casefold())
            tags = [t for t in tags if t.casefold() not in drop]
            star = bool(was_starred) if starred is None else starred
            conn.execute(
                "UPDATE predictions SET starred = ?, tags = ? WHERE rowid = ?",
                (int(star), json.dumps(tags, ensure_ascii=False), rowid),
            )
            if result is None:
                result = (star, tags)
        return result

    return work
