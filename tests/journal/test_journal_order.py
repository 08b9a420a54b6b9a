"""Listing every row (``entries(limit=None)``, what ``history(limit=None)`` reads) gives the
same entries in the same order as a limited listing and as SQLite's ``ORDER BY created_at DESC,
rowid DESC``: newest first, equal times newest row first, whatever order the rows were written
in. And an entry read from the file holds what the public constructor would."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

import pytest

from eachlabs_widgets._journal.journal import EMULATOR, Journal, JournalEntry, current_session

# (id, created_at): written in this order; times out of order, with ties.
ROWS = [
    ("a", 500.0),
    ("b", 100.0),
    ("c", 300.0),
    ("d", 300.0),
    ("e", 900.0),
    ("f", 100.0),
    ("g", 300.0),
    ("h", 50.0),
]


def _with_times(journal: Journal, rows: list[tuple[str, float]]) -> None:
    for n, (pid, _) in enumerate(rows):
        journal.created(pid, f"m{n % 2}", {"prompt": pid}, "https://api")
    journal.flush()
    with sqlite3.connect(journal.path) as conn:
        conn.executemany(
            "UPDATE predictions SET created_at = ? WHERE id = ?", [(t, p) for p, t in rows]
        )


def _sqlite_order(journal: Journal, where: str = "", args: tuple[object, ...] = ()) -> list[str]:
    with sqlite3.connect(journal.path) as conn:
        query = f"SELECT id FROM predictions {where} ORDER BY created_at DESC, rowid DESC"
        return [r[0] for r in conn.execute(query, args)]


def test_every_row_comes_in_sqlites_order_with_ties_newest_row_first(journal):
    _with_times(journal, ROWS)
    expected = _sqlite_order(journal)
    assert expected == ["e", "a", "g", "d", "c", "f", "b", "h"]
    assert [e.id for e in journal.entries(limit=None)] == expected
    assert [e.id for e in journal.entries(limit=1000)] == expected
    assert [e.id for e in journal.entries(limit=3)] == expected[:3]
    assert [e.id for e in journal.entries(limit=None, model="m1")] == _sqlite_order(
        journal, "WHERE model = ?", ("m1",)
    )
    assert [e.id for e in journal.entries(limit=None, emulator=None)] == expected


def test_the_embedded_emulators_rows_of_other_processes_stay_hidden_in_a_full_listing(journal):
    journal.created("mine", "m", {}, EMULATOR)
    journal.created("theirs", "m", {}, EMULATOR)
    journal.created("service", "m", {}, "https://api")
    journal.flush()
    with sqlite3.connect(journal.path) as conn:
        conn.execute("UPDATE predictions SET session = 'another' WHERE id = 'theirs'")
    listed = [e.id for e in journal.entries(limit=None, emulator=None)]
    assert sorted(listed) == ["mine", "service"]
    assert listed == [e.id for e in journal.entries(limit=10, emulator=None)]


def test_a_time_that_is_not_a_number_still_lists_in_sqlites_order(journal):
    # Only an edited file holds one; the listing must not fail on it.
    _with_times(journal, ROWS)
    with sqlite3.connect(journal.path) as conn:
        conn.execute("UPDATE predictions SET created_at = 'yesterday' WHERE id = 'b'")
    assert [e.id for e in journal.entries(limit=None)] == _sqlite_order(journal)


def test_an_entry_read_from_the_file_holds_what_the_constructor_would(journal):
    journal.created("p1", "flux", {"prompt": "fox", "seed": 3}, "https://api")
    journal.update(
        "p1",
        status="success",
        urls=["https://x/1.png"],
        metrics={"cost": 0.02, "predict_time": 1.5},
        files=["/out/1.png"],
        duration=1.5,
        error="a note",
    )
    (read,) = journal.entries(limit=None)
    built = JournalEntry(
        id="p1",
        model="flux",
        status="success",
        inputs={"prompt": "fox", "seed": 3},
        created_at=read.created_at,
        base_url="https://api",
        urls=["https://x/1.png"],
        metrics={"cost": 0.02, "predict_time": 1.5},
        error="a note",
        files=["/out/1.png"],
        emulator=False,
        session=current_session(),
        duration=1.5,
    )
    assert read == built
    assert read.created_at.tzinfo == timezone.utc
    assert abs(read.created_at - datetime.now(timezone.utc)).total_seconds() < 60
    assert read.inputs is read.inputs  # decoded once, then kept
    assert read.from_this_process and not read.emulator
    with pytest.raises(AttributeError):
        read.files = []  # type: ignore[misc]
