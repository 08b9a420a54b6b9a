"""Which run each run was made from: the ``parent`` column, and the chain back to the root.

A run made from another one (a variation, a remix, an image used as input, a form loaded from
a result, a recalled picture) records that run's prediction id in ``parent``. A journal made
before the column existed gets it the first time this version opens it
(:func:`add_parent_column`: ``ALTER TABLE … ADD COLUMN``, which rewrites nothing and leaves
the file readable by older versions, whose reads and writes name their columns). It comes
after ``starred`` and ``tags`` in every journal, old or new: the marks are added first.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TypeVar

from .store import add_columns

__all__ = ["add_parent_column", "walk_parents"]

T = TypeVar("T")

_ADD = (
    "ALTER TABLE predictions ADD COLUMN parent TEXT",
    "CREATE INDEX IF NOT EXISTS predictions_parent ON predictions (parent)"
    " WHERE parent IS NOT NULL",
)
#: The longest chain followed (a guard: a cycle is caught before, by the ids seen).
MAX_DEPTH = 10_000


def add_parent_column(conn: sqlite3.Connection) -> None:
    """Give an older journal the ``parent`` column (once, in a transaction)."""
    add_columns(conn, "parent", _ADD)


def walk_parents(
    start: str, get: Callable[[str], T | None], parent_of: Callable[[T], str | None]
) -> list[T]:
    """``start``'s entry, then its parent's, and so on back to the root (child first).

    Stops at a parent the journal does not hold (``get`` returns None) and at an id seen
    before (a cycle, which only an edited file can hold), so it always ends.
    """
    chain: list[T] = []
    seen: set[str] = set()
    current: str | None = start
    while current and current not in seen and len(chain) < MAX_DEPTH:
        seen.add(current)
        entry = get(current)
        if entry is None:
            break
        chain.append(entry)
        current = parent_of(entry)
    return chain
