"""The journal's file work never holds up its caller: a file locked by another process delays
rows (written once it frees), never the caller, never drops them; interrupts leave nothing
locked; pending rows are written at exit."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from eachlabs_widgets._journal.journal import Journal

HOLD = textwrap.dedent(
    """
    import sqlite3, sys
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    sys.stdin.readline()
    conn.execute("COMMIT")
    """
)


class Locker:
    """Another process holding the journal's write lock until :meth:`release`."""

    def __init__(self, path: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLD, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "locked"

    def release(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.write("go\n")
            self.process.stdin.flush()
            self.process.wait(30)


@pytest.fixture
def lock_journal() -> Iterator:
    lockers: list[Locker] = []

    def lock(journal: Journal) -> Locker:
        journal.entries()  # the file and its schema exist, as in a journal in use
        locker = Locker(journal.path)
        lockers.append(locker)
        return locker

    yield lock
    for locker in lockers:
        locker.release()


def rows_on_disk(path: Path) -> list[tuple[str, str]]:
    """What another process reading the file sees (not this process's connection)."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT id, status FROM predictions ORDER BY rowid").fetchall()
    finally:
        conn.close()


def test_a_locked_file_delays_the_row_and_writes_it_once_free(journal, lock_journal):
    locker = lock_journal(journal)
    future = journal.submit_created("p1", "m", {"prompt": "fox"}, "https://api")
    journal.submit_update("p1", status="success", files=["/out/a.png"])
    # Returned although the other process still holds the lock: nothing waited for it.
    assert not future.done()
    assert journal.flush(timeout=0.3) is False
    assert journal.pending == ["created p1", "success p1"]
    # Reads are not held up by the waiting rows: they answer with what is on disk.
    assert journal.entries() == []
    locker.release()
    assert journal.flush(timeout=30) is True
    assert future.result() is None
    assert journal.pending == []
    assert rows_on_disk(journal.path) == [("p1", "success")]


async def test_the_event_loop_runs_on_while_the_journal_is_locked(journal, lock_journal):
    locker = lock_journal(journal)
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    beat = asyncio.ensure_future(heartbeat())
    journal.submit_created("p1", "m", {"prompt": "fox"}, "https://api")
    assert await journal.aflush(timeout=0.3) is False  # the loop waited, it was not blocked
    assert ticks > 0
    seen = await journal.aentries()  # a read on the loop while the lock is held
    assert seen == []
    locker.release()
    assert await journal.aflush(timeout=30) is True
    assert [e.id for e in await journal.aentries()] == ["p1"]
    beat.cancel()


async def test_a_client_run_records_its_prediction_once_the_lock_frees(
    make_client, journal, lock_journal
):
    locker = lock_journal(journal)
    async with make_client() as client:
        generation = await client.run("flux", {"prompt": "fox"})
    assert generation.id == "p1"
    assert "created p1" in journal.pending  # the run finished; the row waits for the lock
    assert rows_on_disk(journal.path) == []
    locker.release()
    assert await journal.aflush(timeout=30)
    entry = journal.get("p1")
    assert entry is not None and entry.status == "success"
    assert entry.metrics["cost"] == 0.01 and entry.duration is not None


def test_writes_from_many_threads_all_land_in_order_per_prediction(journal):
    def worker(n: int) -> None:
        for i in range(40):
            pid = f"t{n}-{i}"
            journal.submit_created(pid, f"m{n}", {"prompt": pid}, "https://api")
            journal.submit_update(pid, status="processing")
            journal.submit_update(pid, status="success", urls=[f"https://x/{pid}.png"])

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    entries = journal.entries()
    assert len(entries) == 240
    assert {e.status for e in entries} == {"success"}
    assert all(e.urls == [f"https://x/{e.id}.png"] for e in entries)


def test_one_connection_serves_every_call_in_wal_mode_with_normal_sync(journal):
    def probe(conn: sqlite3.Connection) -> tuple[int, str, int]:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        sync = conn.execute("PRAGMA synchronous").fetchone()[0]
        return id(conn), mode, sync

    journal.created("p1", "m", {}, "https://api")
    first = journal._store.read(probe, 0).result(10)
    journal.update("p1", status="success")
    journal.entries()
    second = journal._store.read(probe, 0).result(10)
    assert first == second
    assert first[1:] == ("wal", 1)  # 1: NORMAL
    assert Journal(journal.path)._store is journal._store  # one per file in a process


def _interrupt_soon(delay: float) -> None:
    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, delay)


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs SIGALRM")
def test_an_interrupt_while_waiting_on_a_locked_journal_leaves_nothing_locked(
    journal, lock_journal
):
    previous = signal.getsignal(signal.SIGALRM)
    try:
        locker = lock_journal(journal)
        _interrupt_soon(0.2)
        with pytest.raises(KeyboardInterrupt):
            journal.created("p1", "m", {"prompt": "fox"}, "https://api")  # waits for the lock
        _interrupt_soon(0.2)
        with pytest.raises(KeyboardInterrupt):
            journal.flush()  # waits without a bound
        # Nothing is left held: the next calls answer, and the interrupted row is not lost.
        assert journal.entries() == []
        journal.submit_created("p2", "m", {"prompt": "owl"}, "https://api")
        locker.release()
        assert journal.flush(timeout=30)
        assert sorted(e.id for e in journal.entries()) == ["p1", "p2"]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs SIGALRM")
def test_ctrl_c_at_any_moment_of_journal_calls_never_deadlocks_it(journal):
    """An interrupt landing at many different moments inside a sequence of journal calls
    (the Stop button of a kernel, at random): every call after it still answers, and every
    row whose submit returned is written."""
    previous = signal.getsignal(signal.SIGALRM)
    submitted: set[str] = set()
    interrupted = 0
    try:
        for step in range(200):
            pid = f"p{step}"
            _interrupt_soon(0.00005 + 0.0001 * (step % 25))
            try:
                journal.submit_created(pid, "m", {"prompt": pid}, "https://api")
                submitted.add(pid)
                journal.update(pid, status="processing")
                journal.get(pid)
                journal.entries(limit=5)
                journal.submit_update(pid, status="success")
                journal.flush(timeout=10)
                signal.setitimer(signal.ITIMER_REAL, 0)
            except KeyboardInterrupt:
                interrupted += 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert interrupted > 0
    assert journal.flush(timeout=30)
    written = {e.id for e in journal.entries()}
    assert submitted <= written
    assert journal.get("p199") is not None or "p199" not in submitted


EXIT_SCRIPT = textwrap.dedent(
    """
    import sys
    from eachlabs_widgets._journal import store as _journal_store
    from eachlabs_widgets._journal.journal import Journal
    _journal_store.EXIT_WAIT = float(sys.argv[2])
    journal = Journal(sys.argv[1])
    for i in range(200):
        journal.submit_created(f"p{i}", "m", {"prompt": "fox"}, "https://api")
    # The script ends at once: only the exit flush can write what is still queued.
    """
)


def test_rows_still_queued_at_exit_are_written(tmp_path):
    path = tmp_path / "j.sqlite3"
    done = subprocess.run(
        [sys.executable, "-c", EXIT_SCRIPT, str(path), "30"], capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert len(rows_on_disk(path)) == 200


def test_rows_that_cannot_be_written_by_exit_are_named(tmp_path, lock_journal):
    path = tmp_path / "j.sqlite3"
    lock_journal(Journal(path))
    done = subprocess.run(
        [sys.executable, "-c", EXIT_SCRIPT, str(path), "0.3"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0
    assert "200 journal row(s) could not be written" in done.stderr
    assert "created p0" in done.stderr
