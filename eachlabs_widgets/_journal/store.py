"""One journal file's connection, owned by one thread that runs every read and write in order.

Callers never touch SQLite themselves: they hand work to :class:`Store` and get a
:class:`~._ticket.Ticket` back at once, so code on an event loop is never held up by the
disk or by another process that holds the file locked.

- Writes run in the order they were submitted, batched into one transaction when several wait.
  A write refused because another process holds the file locked is retried until the lock
  frees: it is delayed, never dropped.
- Reads run after the writes submitted before them (so a caller reads what it wrote), but
  never wait for those writes longer than the read's own bound: a locked file delays its rows,
  not the reads.
- A file that is not a database (or is damaged) is moved aside, a new one is started, the
  failed work runs again on it, and :attr:`Store.problem` says what happened, once.
- No lock is shared between a caller's thread and the owning thread: the queue is
  ``queue.SimpleQueue``, answers are tickets (see ``ticket``), and which thread owns the
  connection is settled with a non-blocking acquire by the owning thread alone. An interrupt
  in the caller's thread can leave nothing locked, and the owning thread never waits for a
  caller.
- At interpreter exit, writes still waiting are given a few seconds to land.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import logging
import os
import queue
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._exceptions import EachLabsError
from .ticket import Ticket

__all__ = [
    "JournalBusyError",
    "JournalCorruptError",
    "JournalError",
    "Store",
    "store_for",
]

log = logging.getLogger("eachlabs_widgets")

#: How long SQLite itself waits for another process's lock before giving the thread back its
#: turn (seconds). Short, so reads can run while a write waits for the lock.
BUSY_TIMEOUT = 0.1
#: Backoff between attempts of a write that found the file locked (seconds, doubling).
RETRY_FIRST, RETRY_MAX = 0.05, 0.5
#: How long a read keeps trying while the file is locked (rollback mode) before giving up.
READ_BUSY_LIMIT = 10.0
#: Writes per transaction, at most.
BATCH = 500
#: A thread with nothing to do for this long closes the connection and ends (seconds).
IDLE = 60.0
#: How long the interpreter waits at exit for writes still queued (seconds).
EXIT_WAIT = 5.0

Work = Callable[[sqlite3.Connection], Any]
Prepare = Callable[[sqlite3.Connection], None]


class JournalError(EachLabsError):
    """The journal file could not be used. ``path`` names it."""

    def __init__(self, message: str, *, path: Path) -> None:
        self.path = path
        super().__init__(message)


class JournalCorruptError(JournalError):
    """The journal file was not a readable database. It was moved to ``moved_to`` (None when it
    could not be moved, and the journal stays off until it is) and a new journal was started."""

    def __init__(self, *, path: Path, moved_to: Path | None, reason: str) -> None:
        self.moved_to = moved_to
        self.reason = reason
        if moved_to is not None:
            text = (
                f"the journal {path} was damaged ({reason}); it was moved to {moved_to} and a "
                f"new journal was started, so history() lists only predictions made from now "
                f"on. To get back what can be read of the old one: "
                f"sqlite3 {moved_to} .recover | sqlite3 {path.with_name('recovered.sqlite3')}"
            )
        else:
            text = (
                f"the journal {path} is damaged ({reason}) and could not be moved aside: "
                f"predictions are not being recorded. Move or delete that file; a new journal "
                f"starts by itself."
            )
        super().__init__(text, path=path)


class JournalBusyError(JournalError):
    """Another process held the journal file locked for longer than a read may wait."""


@dataclass(eq=False)
class _Op:
    kind: str  # "write" | "read" | "barrier"
    work: Work | None
    ticket: Ticket[Any]
    #: For reads: when to run even though earlier writes are still waiting for a lock.
    due: float = 0.0
    label: str = ""
    seq: int = 0
    #: For reads: when to stop trying while the file is locked.
    gave_up: float = 0.0


def _code(exc: BaseException) -> int:
    code = getattr(exc, "sqlite_errorcode", None)
    return int(code) & 0xFF if isinstance(code, int) else -1


def _is_busy(exc: BaseException) -> bool:
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = _code(exc)
    if code != -1:
        return code in (5, 6)  # SQLITE_BUSY, SQLITE_LOCKED
    return "locked" in str(exc) or "busy" in str(exc)


def _is_corrupt(exc: BaseException) -> bool:
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = _code(exc)
    if code != -1:
        return code in (11, 26)  # SQLITE_CORRUPT, SQLITE_NOTADB
    text = str(exc)
    return "not a database" in text or "malformed" in text


class _Busy(Exception):
    """The file is locked by another process; try again later."""


class Store:
    """The single owner of one journal file's connection. Use :func:`store_for`."""

    def __init__(self, path: Path, prepare: Prepare) -> None:
        self.path = path
        self._prepare = prepare
        self._queue: queue.SimpleQueue[_Op] = queue.SimpleQueue()
        #: Work taken from the queue and not yet done when a serving thread ended abnormally.
        self._carry: deque[_Op] = deque()
        # Held by the thread that serves the queue, for as long as it does. Only that thread
        # ever acquires it (without blocking), so no caller can be left holding it.
        self._owner = threading.Lock()
        self._seq = itertools.count(1)
        #: Writes submitted and not yet on disk: sequence number -> label.
        self._unwritten: dict[int, str] = {}
        self._problem: JournalError | None = None
        self._broken: JournalCorruptError | None = None
        self._worker: threading.Thread | None = None
        #: What the journal keeps in memory about this file (recent durations), shared by
        #: every ``Journal`` of it.
        self.state: dict[str, Any] = {}

    # -- what callers use ---------------------------------------------------------------

    def write(self, work: Work, label: str = "") -> Ticket[Any]:
        """Run ``work(connection)`` in a transaction, after every earlier write; never dropped.

        The ticket is done when the row is on disk (``None`` or what ``work`` returned), or
        with the exception that made the write impossible (a full disk, a damaged file that
        could not be moved aside).
        """
        op = _Op("write", work, Ticket(), label=label, seq=next(self._seq))
        # No call between these two lines: an interrupt is raised only at a call, so the
        # label is never left behind without its write queued.
        self._unwritten[op.seq] = label
        self._queue.put(op)
        self._wake()
        return op.ticket

    def read(self, work: Work, flush_wait: float) -> Ticket[Any]:
        """Run ``work(connection)`` once earlier writes are written, or after ``flush_wait``
        seconds even if some are still waiting for a lock."""
        now = time.monotonic()
        op = _Op("read", work, Ticket(), due=now + flush_wait, gave_up=now + READ_BUSY_LIMIT)
        self._queue.put(op)
        self._wake()
        return op.ticket

    def barrier(self) -> Ticket[Any]:
        """A ticket done (``True``) once every write submitted before it is on disk."""
        op = _Op("barrier", None, Ticket())
        self._queue.put(op)
        self._wake()
        return op.ticket

    @property
    def pending(self) -> list[str]:
        """Labels of the writes submitted and not yet on disk, oldest first."""
        return [label for _, label in sorted(self._unwritten.copy().items())]

    def take_problem(self) -> JournalError | None:
        """What went wrong with the file since the last call (each problem is given once)."""
        problem, self._problem = self._problem, None
        return problem

    def on_worker_thread(self) -> bool:
        return threading.current_thread() is self._worker

    def _wake(self) -> None:
        if not self._owner.locked():
            self._start_worker()

    def _start_worker(self) -> None:
        # A second thread started by a race finds the owner lock taken and ends at once.
        worker = threading.Thread(target=self._serve, name="eachlabs-journal", daemon=True)
        try:
            worker.start()
        except RuntimeError:  # interpreter shutdown: nothing can run the queue any more
            log.warning("the journal could not start its writer thread (interpreter exiting)")

    def reset_after_fork(self) -> None:
        """In a forked child: the parent's thread and queue are not ours."""
        self._queue = queue.SimpleQueue()
        self._owner = threading.Lock()
        self._unwritten = {}
        self._worker = None
        self._carry = deque()
        self.state = {}

    # -- the owning thread -------------------------------------------------------------

    def _serve(self) -> None:
        if not self._owner.acquire(blocking=False):
            return
        while True:
            try:
                self._worker = threading.current_thread()
                _live.add(self)
                self._serve_until_idle()
            finally:
                self._worker = None
                self._owner.release()
            # Anything put after the last look at the queue is served by us or a new thread.
            if (self._queue.empty() and not self._carry) or not self._owner.acquire(blocking=False):
                return

    def _serve_until_idle(self) -> None:
        conn: sqlite3.Connection | None = None
        pending, self._carry = self._carry, deque()
        retry_at = 0.0  # when to try the waiting write again (0: not waiting)
        backoff = RETRY_FIRST
        try:
            while True:
                self._drain(pending)
                if not pending:
                    try:
                        pending.append(self._queue.get(timeout=IDLE))
                    except queue.Empty:
                        return
                    continue
                now = time.monotonic()
                if retry_at and now < retry_at:
                    # The head write waits for another process: serve the reads that may not
                    # wait any longer, then sleep until the next attempt or the next due read.
                    conn = self._serve_due_reads(conn, pending, now)
                    due = [op.due for op in pending if op.kind == "read"]
                    wake = min([retry_at, *due])
                    with contextlib.suppress(queue.Empty):
                        pending.append(self._queue.get(timeout=max(0.0, wake - time.monotonic())))
                    continue
                head = pending[0]
                if head.kind == "barrier":
                    pending.popleft()
                    head.ticket.finish(True)
                    continue
                if head.kind == "read":
                    pending.popleft()
                    conn = self._run_read(conn, head, pending)
                    continue
                batch: list[_Op] = []
                while pending and pending[0].kind == "write" and len(batch) < BATCH:
                    batch.append(pending.popleft())
                try:
                    conn = self._run_writes(conn, batch)
                except _Busy:
                    pending.extendleft(reversed(batch))
                    retry_at = time.monotonic() + backoff
                    backoff = min(backoff * 2, RETRY_MAX)
                    continue
                retry_at, backoff = 0.0, RETRY_FIRST
        finally:
            if conn is not None:
                conn.close()
            # Empty unless this loop crashed: the next thread starts with this work, in order.
            self._carry = pending

    def _drain(self, pending: deque[_Op]) -> None:
        while True:
            try:
                pending.append(self._queue.get_nowait())
            except queue.Empty:
                return

    def _serve_due_reads(
        self, conn: sqlite3.Connection | None, pending: deque[_Op], now: float
    ) -> sqlite3.Connection | None:
        for op in [op for op in pending if op.kind == "read" and op.due <= now]:
            pending.remove(op)
            conn = self._run_read(conn, op, pending)
        return conn

    def _run_read(
        self, conn: sqlite3.Connection | None, op: _Op, pending: deque[_Op]
    ) -> sqlite3.Connection | None:
        try:
            conn, result = self._attempt(conn, op.work)
        except _Busy:
            if time.monotonic() < op.gave_up:
                op.due = time.monotonic() + RETRY_MAX
                pending.append(op)  # tried again after the writes and the next backoff
                return conn
            op.ticket.finish(
                error=JournalBusyError(
                    f"the journal {self.path} is locked by another process (a sqlite3 shell, "
                    f"a backup, another kernel?); try again once it lets go",
                    path=self.path,
                )
            )
            return conn
        except BaseException as exc:
            op.ticket.finish(error=exc)
            return conn
        op.ticket.finish(result)
        return conn

    def _run_writes(
        self, conn: sqlite3.Connection | None, batch: list[_Op]
    ) -> sqlite3.Connection | None:
        works = [op.work for op in batch]

        def transaction(c: sqlite3.Connection) -> list[tuple[Any, BaseException | None]]:
            outcomes: list[tuple[Any, BaseException | None]] = []
            c.execute("BEGIN IMMEDIATE")
            try:
                for work in works:
                    # A savepoint per write: one bad write fails alone, the batch goes on.
                    c.execute("SAVEPOINT one")
                    try:
                        assert work is not None
                        outcomes.append((work(c), None))
                    except sqlite3.DatabaseError as exc:
                        if _is_busy(exc) or _is_corrupt(exc):
                            raise
                        c.execute("ROLLBACK TO one")
                        outcomes.append((None, exc))
                    except Exception as exc:
                        c.execute("ROLLBACK TO one")
                        outcomes.append((None, exc))
                    c.execute("RELEASE one")
                c.execute("COMMIT")
            except BaseException:
                if c.in_transaction:
                    # The error that brought us here is the one to report.
                    with contextlib.suppress(sqlite3.Error):
                        c.execute("ROLLBACK")
                raise
            return outcomes

        try:
            conn, outcomes = self._attempt(conn, transaction)
        except _Busy:
            raise
        except BaseException as exc:
            for op in batch:
                self._unwritten.pop(op.seq, None)
                op.ticket.finish(error=exc)
            log.warning("could not write the journal %s: %s", self.path, exc)
            return conn
        for op, (result, error) in zip(batch, outcomes, strict=True):
            self._unwritten.pop(op.seq, None)
            op.ticket.finish(result, error)
            if error is not None:
                log.warning("could not write the journal (%s): %s", op.label, error)
        return conn

    def _attempt(self, conn: sqlite3.Connection | None, work: Work | None) -> tuple[Any, Any]:
        """``work`` on a ready connection: (connection, result). A damaged file is moved aside
        once and the work runs again on a new one; a locked file raises :class:`_Busy`."""
        assert work is not None
        if self._broken is not None:
            raise self._broken
        for attempt in (1, 2):
            try:
                if conn is None:
                    conn = self._open()
                return conn, work(conn)
            except sqlite3.DatabaseError as exc:
                if _is_busy(exc):
                    raise _Busy() from exc
                if not _is_corrupt(exc) or attempt == 2:
                    raise
                if conn is not None:
                    conn.close()
                    conn = None
                self._move_aside(str(exc))
                if self._broken is not None:
                    raise self._broken from exc
        raise AssertionError("unreachable")

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            # With WAL, NORMAL keeps every committed row through a crash of this process (what
            # the journal is for); only a power loss may take the last few commits.
            conn.execute("PRAGMA synchronous=NORMAL")
            self._prepare(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _move_aside(self, reason: str) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        try:
            os.replace(self.path, target)
        except OSError as exc:
            self._broken = JournalCorruptError(path=self.path, moved_to=None, reason=reason)
            self._problem = self._broken
            log.warning("%s (%s)", self._broken, exc)
            return
        for suffix in ("-wal", "-shm"):
            side = Path(f"{self.path}{suffix}")
            if side.exists():
                with contextlib.suppress(OSError):
                    os.replace(side, Path(f"{target}{suffix}"))
        self._problem = JournalCorruptError(path=self.path, moved_to=target, reason=reason)


_stores: dict[Path, Store] = {}
_stores_guard = threading.Lock()
#: Stores whose thread ran at least once (flushed at exit).
_live: set[Store] = set()


def store_for(path: Path, prepare: Prepare) -> Store:
    """The one :class:`Store` of ``path`` in this process."""
    key = Path(os.path.abspath(path))
    store = _stores.get(key)
    if store is None:
        with _stores_guard:  # held only for a dict lookup and insert
            store = _stores.setdefault(key, Store(key, prepare))
    return store


def _flush_at_exit() -> None:
    deadline = time.monotonic() + EXIT_WAIT
    for store in list(_live):
        if not store.pending:
            continue
        store.barrier().wait(max(0.0, deadline - time.monotonic()))
        left = store.pending
        if left:
            log.warning(
                "%d journal row(s) could not be written to %s before exit (the file stayed "
                "locked by another process): %s",
                len(left),
                store.path,
                ", ".join(left),
            )


def _after_fork_in_child() -> None:
    global _stores_guard
    _stores_guard = threading.Lock()
    _live.clear()
    for store in _stores.values():
        store.reset_after_fork()


atexit.register(_flush_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def add_columns(conn: sqlite3.Connection, marker: str, statements: Sequence[str]) -> None:
    """Run ``statements`` (``ALTER TABLE predictions ADD COLUMN …`` and their indexes) once,
    in one transaction, unless the table has the column ``marker`` already: how an older
    journal gains what a newer version records. Another process may add them meanwhile: the
    check is made again inside the transaction."""
    if _has_column(conn, marker):
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        if not _has_column(conn, marker):
            for statement in statements:
                conn.execute(statement)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _has_column(conn: sqlite3.Connection, name: str) -> bool:
    return name in {row[1] for row in conn.execute("PRAGMA table_info(predictions)")}
