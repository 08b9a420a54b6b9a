"""The batch's own record of progress, so a killed batch resumes without paying twice.

An append-only JSON-lines file beside RESULTS. Per row, in the order they happen:

- ``{"row": n, "sent": true}`` just before its create goes out (``false`` when a budget
  refused it before it went out: a rerun runs the row as new);
- ``{"row": n, "id": "…"}`` as soon as the create answered (right after the journal has it);
- ``{"row": n, "result": {…}}`` when the row is finished, one way or another.

Each line is written through to the operating system (flushed) before the batch goes on:
after a SIGKILL the file says which rows were created (resume them), which were sent without
an answer (the journal may know; otherwise they are created again, and RESULTS says so), and
which are done. A killed process loses nothing the kernel has, so the lines are not fsync'd
one by one (that held the event loop ~5 ms a line, three lines a row: at 100 in flight the
batch waited on its own ledger); the file is fsync'd when the batch closes it. As for the
journal (``synchronous=NORMAL``), what is guarded against is a crash of the process, not of
the machine.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

__all__ = ["Ledger", "RowState"]


@dataclass
class RowState:
    sent: bool = False
    id: str | None = None
    result: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Ledger:
    def __init__(self, path: Path, batch: str) -> None:
        self.path = path
        self.rows: dict[int, RowState] = {}
        if path.exists():
            self._load(batch)
        self._file: IO[str] = path.open("a", encoding="utf-8")
        if path.stat().st_size == 0:
            self._write({"batch": batch})

    @classmethod
    def finished_rows(cls, path: Path, batch: str) -> set[int]:
        """The rows an earlier run of ``batch`` finished, read without writing anything
        (none when there is no ledger). Raises ``ValueError`` for another batch's ledger."""
        if not path.exists():
            return set()
        ledger = cls.__new__(cls)
        ledger.path, ledger.rows = path, {}
        ledger._load(batch)
        return {n for n, state in ledger.rows.items() if state.result is not None}

    def _load(self, batch: str) -> None:
        with self.path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines):
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a line cut short by the kill
                if number == 0:
                    if entry.get("batch") != batch:
                        raise ValueError(
                            f"{self.path} records another batch (other inputs or model); "
                            "remove it, or write the results elsewhere with --out"
                        )
                    continue
                state = self.rows.setdefault(int(entry["row"]), RowState())
                if "sent" in entry:
                    state.sent = bool(entry["sent"])
                if entry.get("id"):
                    state.id = str(entry["id"])
                if "result" in entry:
                    state.result = entry["result"]

    def _write(self, entry: dict[str, Any]) -> None:
        self._file.write(json.dumps(entry) + "\n")
        self._file.flush()

    def sent(self, row: int) -> None:
        self.rows.setdefault(row, RowState()).sent = True
        self._write({"row": row, "sent": True})

    def unsent(self, row: int) -> None:
        """The row's create was refused before it went out (a budget): not sent after all."""
        self.rows.setdefault(row, RowState()).sent = False
        self._write({"row": row, "sent": False})

    def created(self, row: int, prediction_id: str) -> None:
        self.rows.setdefault(row, RowState()).id = prediction_id
        self._write({"row": row, "id": prediction_id})

    def finished(self, row: int, result: dict[str, Any]) -> None:
        # Only the outcome is kept in memory once written: RESULTS has the rest.
        state = self.rows.setdefault(row, RowState())
        state.result = result
        self._write({"row": row, "result": result})

    def close(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
