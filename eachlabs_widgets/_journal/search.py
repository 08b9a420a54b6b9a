"""Full-text search of the journal's prompts: an SQLite FTS5 index kept in step by triggers.

The index (``predictions_fts``) holds each row's ``prompt`` and ``negative_prompt`` under the
row's ``rowid``. It is built for the rows already there the first time a search runs
(:func:`build_index_work`, one transaction), and from then on three triggers keep it in
step with every insert, every change of ``inputs`` and every delete, whichever process (or
version of the package) writes: nothing can write a row without updating the index.

A search matches words and word prefixes (``fox`` finds "fox" and "foxes"; every word must be
there), accents and case aside (``unicode61``, diacritics removed). The user's text is never
FTS5 syntax: each word is quoted, so ``"``, ``-``, ``NEAR`` or ``*`` cannot make a query fail.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from datetime import datetime
from typing import Any

__all__ = ["build_index_work", "fts_query", "has_index", "search_sql"]

_TEXT = "CASE WHEN json_valid({row}.inputs) THEN json_extract({row}.inputs, '$.{key}') END"


def _columns(row: str) -> str:
    prompt = _TEXT.format(row=row, key="prompt")
    negative = _TEXT.format(row=row, key="negative_prompt")
    return f"{prompt}, {negative}"


_INDEX = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS predictions_fts USING fts5("
    "prompt, negative_prompt, tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3')",
    "CREATE TRIGGER IF NOT EXISTS predictions_fts_insert AFTER INSERT ON predictions BEGIN"
    " INSERT INTO predictions_fts (rowid, prompt, negative_prompt)"
    f" VALUES (new.rowid, {_columns('new')}); END",
    "CREATE TRIGGER IF NOT EXISTS predictions_fts_update AFTER UPDATE OF inputs ON predictions"
    " BEGIN DELETE FROM predictions_fts WHERE rowid = old.rowid;"
    " INSERT INTO predictions_fts (rowid, prompt, negative_prompt)"
    f" VALUES (new.rowid, {_columns('new')}); END",
    "CREATE TRIGGER IF NOT EXISTS predictions_fts_delete AFTER DELETE ON predictions BEGIN"
    " DELETE FROM predictions_fts WHERE rowid = old.rowid; END",
)


def has_index(conn: sqlite3.Connection) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'predictions_fts'"
        ).fetchone()
        is not None
    )


_TRIGGERS = ("predictions_fts_insert", "predictions_fts_update", "predictions_fts_delete")


def build_index_work(conn: sqlite3.Connection) -> bool:
    """A write: create the index and its triggers and fill it with the rows already there.
    False (and nothing done) when it exists with its triggers. An index left without them (the
    table rebuilt by a later schema migration drops its triggers) is built again."""
    if has_index(conn):
        names = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        }
        if all(name in names for name in _TRIGGERS):
            return False
        conn.execute("DROP TABLE predictions_fts")  # out of step: start again
    for statement in _INDEX:
        conn.execute(statement)
    conn.execute(
        "INSERT INTO predictions_fts (rowid, prompt, negative_prompt)"
        f" SELECT p.rowid, {_columns('p')} FROM predictions AS p"
    )
    return True


_WORD = re.compile(r"\w+", re.UNICODE)


def fts_query(text: str) -> str | None:
    """The FTS5 query for ``text``: every word, as a quoted prefix (``"red"* AND "fox"*``);
    None when it holds no word."""
    words = _WORD.findall(text)
    if not words:
        return None
    return " AND ".join(f'"{w}"*' for w in words)


def search_sql(
    columns: str,
    *,
    text: str | None,
    model: str | None,
    starred: bool | None,
    tag: str | None,
    since: datetime | None,
    status: str | None,
    limit: int | None,
    indexed: bool = True,
) -> tuple[str, list[Any]]:
    """The query (and its arguments) that lists matching rows: by rank when ``text`` is given
    (newest first among equals), else newest first. ``columns`` are the row's columns, each
    prefixed ``p.``. Without the index (``indexed=False``) text is matched by ``LIKE``."""
    where: list[str] = []
    args: list[Any] = []
    join = ""
    order = " ORDER BY p.created_at DESC, p.rowid DESC"
    query = fts_query(text) if text else None
    if text and query is None:
        where.append("0")  # only punctuation: nothing can match
    elif query is not None and indexed:
        join = " JOIN predictions_fts ON predictions_fts.rowid = p.rowid"
        where.append("predictions_fts MATCH ?")
        args.append(query)
        # a word in the prompt weighs more than one in the negative prompt
        order = " ORDER BY bm25(predictions_fts, 10.0, 1.0), p.created_at DESC, p.rowid DESC"
    elif query is not None:
        for word in _WORD.findall(text or ""):
            where.append("p.inputs LIKE ? ESCAPE '\\'")
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            args.append(f"%{escaped}%")
    if model:
        where.append("p.model = ?")
        args.append(model)
    if status:
        where.append("p.status = ?")
        args.append(status)
    if starred is not None:
        where.append("p.starred = ?")
        args.append(int(starred))
    if tag:
        where.append(
            "EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(p.tags) THEN p.tags"
            " ELSE '[]' END) WHERE lower(value) = lower(?))"
        )
        args.append(tag.strip())
    if since is not None:
        where.append("p.created_at >= ?")
        args.append(since.timestamp())
    sql = f"SELECT {columns} FROM predictions AS p{join}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += order
    if limit:
        sql += f" LIMIT {int(limit)}"
    return sql, args


Search = Callable[[sqlite3.Connection], list[tuple[Any, ...]]]
