"""The journal's ``parent`` column: written with the create, read by ``JournalEntry.parent``,
added to an older file in place, and followed by ``Journal.lineage`` back to the root."""

from __future__ import annotations

import json
import sqlite3
import time

from eachlabs_widgets._journal.journal import Journal, JournalEntry
from eachlabs_widgets._journal.lineage import walk_parents


def _file_before_parent(path):
    """A journal as the version before this one left it: schema 2 with the marks, no parent."""
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE predictions (
            id TEXT NOT NULL, base_url TEXT NOT NULL, run INTEGER NOT NULL DEFAULT 0,
            model TEXT NOT NULL, inputs TEXT NOT NULL, input_key TEXT NOT NULL,
            status TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL,
            urls TEXT NOT NULL DEFAULT '[]', metrics TEXT NOT NULL DEFAULT '{}', error TEXT,
            files TEXT NOT NULL DEFAULT '[]', duration REAL, cost_per_image REAL,
            emulator INTEGER NOT NULL DEFAULT 0, session TEXT NOT NULL DEFAULT '',
            UNIQUE (base_url, id, run)
        );
        ALTER TABLE predictions ADD COLUMN starred INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE predictions ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
        PRAGMA user_version = 2;
        """
    )
    now = time.time()
    conn.execute(
        "INSERT INTO predictions (id, base_url, model, inputs, input_key, status, created_at,"
        " updated_at, starred, tags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ("old-1", "https://api", "flux", json.dumps({"prompt": "fox"}), "k", "success", now, now,
         1, json.dumps(["hero"])),
    )  # fmt: skip
    conn.commit()
    conn.close()


def test_an_older_journal_gets_the_parent_column_after_the_marks(tmp_path):
    path = tmp_path / "journal.sqlite3"
    _file_before_parent(path)
    journal = Journal(path)
    old = journal.get("old-1")
    assert old is not None
    # The marks still read from their places, and the old row has no parent.
    assert (old.starred, old.tags, old.parent) == (True, ["hero"], None)
    journal.created("new-1", "flux", {"prompt": "fox, again"}, "https://api", parent="old-1")
    new = journal.get("new-1")
    assert new is not None and new.parent == "old-1" and not new.starred and new.tags == []
    conn = sqlite3.connect(path)
    columns = [r[1] for r in conn.execute("PRAGMA table_info(predictions)")]
    conn.close()
    assert columns[-3:] == ["starred", "tags", "parent"]


def test_a_new_journal_has_the_same_column_order(journal, tmp_path):
    journal.created("p1", "flux", {}, "https://api")
    conn = sqlite3.connect(journal.path)
    columns = [r[1] for r in conn.execute("PRAGMA table_info(predictions)")]
    conn.close()
    assert columns[-3:] == ["starred", "tags", "parent"]
    entry = journal.get("p1")
    assert entry is not None and entry.parent is None


def test_the_parent_is_kept_through_updates_and_marks(journal):
    journal.created("root", "flux", {"prompt": "fox"}, "https://api")
    journal.created("kid", "flux", {"prompt": "fox", "seed": 2}, "https://api", parent="root")
    journal.update("kid", status="success", files=["/kid.png"], metrics={"cost": 0.01})
    journal.mark("kid", starred=True, add=["keep"])
    kid = journal.get("kid")
    assert kid is not None
    assert (kid.status, kid.parent, kid.starred, kid.tags) == ("success", "root", True, ["keep"])
    assert [e.parent for e in journal.entries()] == ["root", None]
    assert [e.parent for e in journal.search("fox")] == ["root", None]
    # An entry built in code says the same as one read back.
    built = JournalEntry("kid", "flux", "success", {}, kid.created_at, "https://api", parent="r")
    assert built.parent == "r"


def test_lineage_runs_from_the_run_back_to_its_root(journal):
    journal.created("a", "flux", {"prompt": "fox"}, "https://api")
    journal.created("b", "flux", {"prompt": "fox", "seed": 1}, "https://api", parent="a")
    journal.created("c", "flux", {"prompt": "fox at night"}, "https://api", parent="b")
    journal.created("d", "flux", {"prompt": "fox"}, "https://api", parent="a")
    assert [e.id for e in journal.lineage("c")] == ["c", "b", "a"]
    assert [e.id for e in journal.lineage("d")] == ["d", "a"]
    assert [e.id for e in journal.lineage("a")] == ["a"]
    assert journal.lineage("unknown") == []


def test_lineage_stops_at_a_missing_parent_and_at_a_cycle(journal, tmp_path):
    journal.created("orphan", "flux", {}, "https://api", parent="long-gone")
    assert [e.id for e in journal.lineage("orphan")] == ["orphan"]
    journal.created("x", "flux", {}, "https://api", parent="y")
    journal.created("y", "flux", {}, "https://api", parent="z")
    journal.created("z", "flux", {}, "https://api", parent="x")  # only an edited file does this
    assert [e.id for e in journal.lineage("x")] == ["x", "y", "z"]
    journal.created("self", "flux", {}, "https://api", parent="self")
    assert [e.id for e in journal.lineage("self")] == ["self"]


def test_walk_parents_is_bounded_whatever_get_answers():
    # A chain that never ends (each id names a new parent) stops at the depth guard.
    chain = walk_parents("0", lambda pid: pid, lambda pid: str(int(pid) + 1))
    assert len(chain) == 10_000 and chain[:3] == ["0", "1", "2"]
