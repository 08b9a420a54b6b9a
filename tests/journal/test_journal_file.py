"""What the journal file holds: rows keyed by (service, id), the older file layout migrated in
place, a damaged file moved aside with one clear error, durations and costs per model."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import time
import warnings
from pathlib import Path

import pytest

from eachlabs_widgets import EachLabsError
from eachlabs_widgets._journal.journal import (
    Journal,
    JournalCorruptError,
    JournalWarning,
    current_session,
)

# The layout written by earlier versions: one row per prediction id, whatever the service.
V1_SCHEMA = """
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


def v1_file(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(V1_SCHEMA)
    rows = [
        ("old-1", "flux", {"prompt": "fox"}, "https://api.eachlabs.ai", "success", 100.0,
         ["https://x/1.png", "https://x/2.png"], {"cost": 0.04, "predict_time": 2}, 2.5),
        ("old-2", "flux", {"prompt": "owl"}, "emulator", "success", 200.0,
         ["data:1"], {"cost": "0.01"}, 1.0),
        ("old-3", "seedream", {"prompt": "cat"}, "https://api.eachlabs.ai", "error", 300.0,
         [], {}, None),
    ]  # fmt: skip
    for pid, model, inputs, base_url, status, created, urls, metrics, duration in rows:
        conn.execute(
            "INSERT INTO predictions (id, model, inputs, input_key, base_url, status, created_at,"
            " updated_at, urls, metrics, duration) VALUES (?, ?, ?, 'k', ?, ?, ?, ?, ?, ?, ?)",
            (pid, model, json.dumps(inputs), base_url, status, created, created,
             json.dumps(urls), json.dumps(metrics), duration),
        )  # fmt: skip
    conn.commit()
    conn.close()


def test_the_same_id_from_two_services_is_two_rows(journal):
    journal.created("p1", "flux", {"prompt": "fox"}, "https://one")
    journal.update("p1", status="success", files=["/a.png"])
    journal.created("p1", "flux", {"prompt": "owl"}, "https://two")
    journal.update("p1", status="error", error="flagged")  # the newest p1: the second
    rows = journal.entries()
    assert [(e.base_url, e.prompt, e.status) for e in rows] == [
        ("https://two", "owl", "error"),
        ("https://one", "fox", "success"),
    ]
    assert journal.get("p1", base_url="https://one").files == ["/a.png"]
    assert journal.get("p1").base_url == "https://two"
    journal.update("p1", base_url="https://one", status="cancelled")
    assert journal.get("p1", base_url="https://one").status == "cancelled"
    assert journal.get("p1", base_url="https://two").status == "error"


def test_the_same_id_from_two_emulator_runs_is_two_rows(journal):
    # An emulator started twice with --seed gives the same ids on the same URL.
    for prompt in ("fox", "owl"):
        journal.created("emu-1", "flux", {"prompt": prompt}, "http://127.0.0.1:9", emulator=True)
        journal.update("emu-1", status="success", files=[f"/{prompt}.png"])
    rows = journal.entries()
    assert [(e.prompt, e.files, e.emulator) for e in rows] == [
        ("owl", ["/owl.png"], True),
        ("fox", ["/fox.png"], True),
    ]
    # The real service's ids are unique: recording one twice keeps one row.
    journal.created("real-1", "flux", {"prompt": "cat"}, "https://api")
    journal.created("real-1", "flux", {"prompt": "cat"}, "https://api")
    assert len(journal.entries(model="flux")) == 3


def test_rows_of_the_embedded_emulator_are_marked_and_carry_their_process(journal):
    journal.created("e1", "flux", {}, "emulator")
    journal.created("r1", "flux", {}, "https://api")
    e1, r1 = journal.get("e1"), journal.get("r1")
    assert (e1.emulator, r1.emulator) == (True, False)
    assert e1.session == current_session() and e1.from_this_process


def test_an_earlier_layout_is_migrated_in_place(tmp_path):
    path = tmp_path / "journal.sqlite3"
    v1_file(path)
    journal = Journal(path)
    rows = {e.id: e for e in journal.entries()}
    assert set(rows) == {"old-1", "old-2", "old-3"}
    assert rows["old-1"].urls == ["https://x/1.png", "https://x/2.png"]
    assert rows["old-1"].metrics == {"cost": 0.04, "predict_time": 2}
    assert rows["old-1"].duration == 2.5 and not rows["old-1"].emulator
    assert rows["old-2"].emulator  # base URL "emulator": marked
    assert journal.costs("flux", "https://api.eachlabs.ai") == [pytest.approx(0.02)]
    assert journal.costs("flux", "emulator") == [pytest.approx(0.01)]
    assert journal.durations("flux", "https://api.eachlabs.ai") == [2.5]
    # The new key holds: the same id on another service is a new row.
    journal.created("old-1", "flux", {"prompt": "again"}, "https://other")
    assert len(journal.entries()) == 4
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"predictions_model", "predictions_created", "predictions_id"} <= indexes
    plan = conn.execute(
        "EXPLAIN QUERY PLAN SELECT duration FROM predictions WHERE model = ? AND base_url = ?"
        " ORDER BY created_at DESC",
        ("flux", "x"),
    ).fetchall()
    assert "predictions_model" in str(plan)
    conn.close()


def test_a_damaged_file_is_moved_aside_with_one_clear_error(tmp_path):
    path = tmp_path / "journal.sqlite3"
    garbage = b"this is not a database" * 100
    path.write_bytes(garbage)
    journal = Journal(path)
    with pytest.raises(JournalCorruptError) as info:
        journal.entries()
    error = info.value
    assert isinstance(error, EachLabsError)
    assert error.path == path and error.moved_to is not None
    assert str(path) in str(error) and str(error.moved_to) in str(error)
    assert ".recover" in str(error)  # how to get back what can be read
    assert error.moved_to.read_bytes() == garbage
    assert error.moved_to.name.startswith("journal.sqlite3.corrupt-")
    # Said once; the new journal works.
    assert journal.entries() == []
    journal.created("p1", "m", {}, "https://api")
    assert [e.id for e in journal.entries()] == ["p1"]


def test_a_write_to_a_damaged_file_lands_in_a_new_one_and_warns_once(tmp_path):
    path = tmp_path / "journal.sqlite3"
    path.write_bytes(b"\x00garbage" * 500)
    journal = Journal(path)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        journal.submit_created("p1", "m", {"prompt": "fox"}, "https://api")
        assert journal.flush(timeout=30)
        journal.submit_update("p1", status="success")
        journal.submit_update("p1", files=["/a.png"])
        entry = journal.get("p1")
    assert entry is not None and entry.status == "success" and entry.files == ["/a.png"]
    assert [w.category for w in seen] == [JournalWarning]
    assert "moved to" in str(seen[0].message)
    assert len(list(tmp_path.glob("journal.sqlite3.corrupt-*"))) == 1


def test_costs_are_kept_per_image_per_service_and_model(journal):
    journal.created("p1", "flux", {}, "https://api")
    journal.update("p1", status="success", urls=["a", "b"], metrics={"cost": 0.06})
    journal.created("p2", "flux", {}, "https://api")
    journal.update("p2", status="success", urls=["a"])
    journal.update("p2", metrics={"cost": 0.05})  # urls from the row: one output
    journal.created("p3", "flux", {}, "https://api")
    journal.update("p3", status="success", urls=["a"], metrics={"predict_time": 1})  # no cost
    journal.created("p4", "flux", {}, "emulator")
    journal.update("p4", status="success", urls=["a"], metrics={"cost": 0.001})
    assert journal.costs("flux", "https://api") == [pytest.approx(0.05), pytest.approx(0.03)]
    assert journal.costs("flux", "emulator") == [pytest.approx(0.001)]
    assert journal.costs("other", "https://api") == []


def _record_durations(path: str) -> None:
    journal = Journal(path)
    for i, seconds in enumerate((3.0, 4.0, 5.0)):
        journal.created(f"p{i}", "flux", {}, "https://api")
        journal.update(f"p{i}", status="downloading", duration=seconds)
        journal.update(f"p{i}", status="success")
        time.sleep(0.01)  # distinct creation times


def test_a_new_process_knows_the_durations_without_waiting_for_the_file(tmp_path):
    path = tmp_path / "journal.sqlite3"
    process = multiprocessing.get_context("spawn").Process(
        target=_record_durations, args=(str(path),)
    )
    process.start()
    process.join(60)
    assert process.exitcode == 0
    journal = Journal(path)
    first = journal.durations_nowait("flux", "https://api")  # starts the background read
    assert first in ([], [5.0, 4.0, 3.0])
    assert journal.flush(timeout=30)  # ordered after that read
    assert journal.durations_nowait("flux", "https://api") == [5.0, 4.0, 3.0]
    assert journal.durations("flux", "https://api") == [5.0, 4.0, 3.0]
    # Durations this process writes are known at once, newest first.
    journal.created("p9", "flux", {}, "https://api")
    journal.update("p9", status="downloading", duration=2.0)
    assert journal.durations_nowait("flux", "https://api") == [2.0, 5.0, 4.0, 3.0]
    assert journal.durations_nowait("flux", "https://other") == []


def test_entries_compare_and_read_like_the_records_they_were(journal):
    journal.created("p1", "m", {"prompt": "fox", "seed": 3}, "https://api")
    journal.update("p1", status="success", urls=["u"], metrics={"cost": 1}, files=["/f"])
    entry = journal.get("p1")
    assert entry == journal.entries()[0]
    assert entry.inputs == {"prompt": "fox", "seed": 3} and entry.prompt == "fox"
    assert entry.created_at.tzinfo is not None
    with pytest.raises(AttributeError):
        entry.status = "error"  # type: ignore[misc]
    assert "p1" in repr(entry)
