"""Folders as they are: a home that cannot be written moves the journal to the next writable place
(in the stated order), says so once, and the doctor marks it; nothing ends in a bare OSError."""

from __future__ import annotations

import os
import stat
import tempfile
import warnings
from pathlib import Path

import pytest

import eachlabs_widgets as el
from eachlabs_widgets._doctor.report import journal_rows
from eachlabs_widgets._journal import journal as _journal
from eachlabs_widgets._journal import place as _place
from eachlabs_widgets._journal.journal import Journal, JournalError, JournalWarning


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """A home whose every place is under ``tmp_path``; ``blocker`` is a file where folders go."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setenv("EACHLABS_BASE_URL", "emulator")
    monkeypatch.setenv("EACHLABS_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("EACHLABS_CARD", "0")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(_place, "_chosen", {})
    monkeypatch.setattr(_journal, "_default", {})
    return blocker


def test_a_writable_home_is_used_as_it_is(machine, tmp_path, monkeypatch):
    monkeypatch.setenv("EACHLABS_HOME", str(tmp_path / "state"))
    place = _place.journal_place()
    assert place.folder == tmp_path / "state" and not place.moved and place.kept
    assert [row[0] for row in journal_rows()] == ["journal path", "journal"]


def test_an_unwritable_eachlabs_home_falls_back_to_the_platform_dir(machine, tmp_path, monkeypatch):
    monkeypatch.setenv("EACHLABS_HOME", str(machine / "eachlabs"))
    with pytest.warns(JournalWarning) as said:
        generation = el.generate("flux-2-turbo-text-to-image", "a fox", seed=7)
    assert len(said) == 1
    message = str(said[0].message)
    assert str(machine / "eachlabs") in message and "Not a directory" in message
    assert str(tmp_path / "data" / "eachlabs-widgets") in message and "kept" in message
    assert "not kept" not in message
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once
        assert [entry.id for entry in el.history()] == [generation.id]
        again = el.generate("flux-2-turbo-text-to-image", "a fox", seed=7)
    assert again.id == generation.id  # the journal found the identical run: it works
    assert (tmp_path / "data" / "eachlabs-widgets" / "journal.sqlite3").is_file()


def test_with_no_writable_home_the_runtime_dir_is_used_and_said_not_kept(
    machine, tmp_path, monkeypatch
):
    monkeypatch.delenv("EACHLABS_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(machine / "data"))  # HOME=/nonexistent's shape
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    (tmp_path / "run").mkdir()
    with pytest.warns(JournalWarning, match="not kept") as said:
        el.history()
    assert "$XDG_RUNTIME_DIR" in str(said[0].message)
    assert _place.journal_place().folder == tmp_path / "run" / "eachlabs-widgets"


def test_last_a_temporary_folder_of_this_user(machine, tmp_path, monkeypatch):
    monkeypatch.setenv("EACHLABS_HOME", str(machine / "x"))
    monkeypatch.setenv("XDG_DATA_HOME", str(machine / "data"))
    with pytest.warns(JournalWarning, match="a temporary folder\\), not kept"):
        el.history()
    folder = _place.journal_place().folder
    assert folder.parent == tmp_path / "tmp" and folder.name.startswith("eachlabs-widgets-")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_a_temporary_folder_others_could_write_is_not_used(machine, tmp_path, monkeypatch):
    monkeypatch.setenv("EACHLABS_HOME", str(machine / "x"))
    monkeypatch.setenv("XDG_DATA_HOME", str(machine / "data"))
    planted = tmp_path / "tmp" / f"eachlabs-widgets-{_place._user()}"
    planted.mkdir()
    planted.chmod(0o777)
    with pytest.warns(JournalWarning, match="this process"):
        el.history()
    folder = _place.journal_place().folder
    assert folder != planted and folder.parent == tmp_path / "tmp"
    assert not any(planted.iterdir())


def test_the_doctor_marks_the_fallback_a_problem_and_creates_nothing(
    machine, tmp_path, monkeypatch
):
    monkeypatch.setenv("EACHLABS_HOME", str(machine / "eachlabs"))
    rows = {check: (status, detail) for check, status, detail in journal_rows()}
    status, detail = rows["journal place"]
    assert status == "PROBLEM" and "the platform's user data dir" in detail
    assert detail.endswith(", kept")
    assert not (tmp_path / "data").exists()  # the doctor changes nothing
    monkeypatch.setenv("XDG_DATA_HOME", str(machine / "data"))
    rows = {check: (status, detail) for check, status, detail in journal_rows()}
    assert "not kept" in rows["journal place"][1] and "EACHLABS_HOME" in rows["journal place"][1]


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores permission bits"
)
def test_a_read_only_folder_and_a_read_only_journal_file(machine, tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "journal.sqlite3").write_bytes(b"")
    (locked / "journal.sqlite3").chmod(0o444)
    monkeypatch.setenv("EACHLABS_HOME", str(locked))
    assert "Permission denied" in str(_place.journal_place(make=False).why)
    locked.chmod(0o555)
    try:
        assert _place.journal_place().moved
    finally:
        locked.chmod(0o755)


def test_a_journal_of_ones_own_in_an_unwritable_folder_is_a_journal_error(machine):
    journal = Journal(machine / "sub" / "journal.sqlite3")
    with pytest.raises(JournalError, match="EACHLABS_HOME") as info:
        journal.entries()
    assert info.value.path == Path(machine / "sub" / "journal.sqlite3")


@pytest.mark.skipif(os.name != "posix", reason="a passwd entry is a POSIX matter")
def test_no_home_at_all_is_not_taken_for_a_folder_in_the_working_folder(
    machine, tmp_path, monkeypatch
):
    # a container run as a uid without a passwd entry and without HOME: "~" stays "~"
    import pwd

    def no_entry(uid):
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    monkeypatch.delenv("EACHLABS_HOME", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.delenv("HOME", raising=False)
    monkeypatch.setattr(pwd, "getpwuid", no_entry)
    monkeypatch.chdir(tmp_path)
    with pytest.warns(JournalWarning, match="no home folder"):
        el.history()
    assert _place.journal_place().folder.is_absolute()
    assert not (tmp_path / "~").exists()


def test_when_nothing_at_all_can_be_written_it_is_a_journal_error_that_says_what_to_do(
    machine, monkeypatch
):
    monkeypatch.setenv("EACHLABS_HOME", str(machine / "x"))
    monkeypatch.setenv("XDG_DATA_HOME", str(machine / "data"))
    monkeypatch.setattr(tempfile, "tempdir", str(machine / "tmp"))  # no temporary folder either
    with pytest.raises(JournalError, match="set EACHLABS_HOME to a writable folder"):
        el.history()
    [row] = journal_rows()
    assert row[:2] == ("journal", "PROBLEM") and "cannot be kept anywhere" in row[2]
