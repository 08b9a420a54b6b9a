"""The batch's progress: a redrawn bar on a terminal, plain lines everywhere else.

A bar redraws itself with carriage returns, which only a terminal understands: in CI logs,
cron mail, ``nohup.out`` or a notebook's stderr each redraw becomes a line of its own (or one
endless line). There the batch prints one plain line every few seconds or every tenth of the
rows, whichever comes first, and a last line at the end.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from typing import IO, Any, Protocol

__all__ = ["PlainProgress", "Progress", "make_progress", "wants_bar"]


class Progress(Protocol):
    """What the batch tells its progress: the counts, a row finished, the end."""

    def show(self, counts: Mapping[str, int], advance: bool = False) -> None: ...

    def close(self) -> None: ...


def wants_bar(stream: IO[str]) -> bool:
    """A redrawn bar only on a terminal that can redraw: not under CI, not ``TERM=dumb``."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):  # a closed or stand-in stream
        return False
    return tty and not os.environ.get("CI") and os.environ.get("TERM") != "dumb"


class PlainProgress:
    """One line per ``every`` seconds or ``step`` of ``total`` rows, e.g.
    ``batch: 12/40 rows (30%): 11 done, 1 failed, 4 running; 0:12 elapsed`` (``…, 2 not
    run, …`` once a budget left rows out: never sent, so never "failed")."""

    def __init__(
        self,
        total: int,
        stream: IO[str],
        *,
        every: float = 5.0,
        step: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = max(total, 1)
        self.stream = stream
        self.every = every
        self.step = max(1, round(self.total * step))
        self.clock = clock
        self.started = self.last = clock()
        self.finished = 0
        self.said_at = 0  # rows finished at the last line
        self.counts: dict[str, int] = {}

    def show(self, counts: Mapping[str, int], advance: bool = False) -> None:
        self.counts = dict(counts)
        if advance:
            self.finished += 1
        now = self.clock()
        if self.finished - self.said_at >= self.step or (
            now - self.last >= self.every and self.finished < self.total
        ):
            self._say(now)

    def close(self) -> None:
        if self.said_at != self.finished or self.finished == 0:
            self._say(self.clock())

    def _say(self, now: float) -> None:
        self.last, self.said_at = now, self.finished
        counts = self.counts
        elapsed = int(now - self.started)
        # Rows a budget left out were never sent: said apart from failed, when there are any.
        left_out = counts.get("not run", 0)
        not_run = f"{left_out} not run, " if left_out else ""
        self.stream.write(
            f"batch: {self.finished}/{self.total} rows ({100 * self.finished // self.total}%): "
            f"{counts.get('done', 0)} done, {counts.get('failed', 0)} failed, {not_run}"
            f"{counts.get('running', 0)} running; {elapsed // 60}:{elapsed % 60:02d} elapsed\n"
        )
        self.stream.flush()


class _Bar:
    def __init__(self, total: int, stream: IO[str]) -> None:
        from tqdm import tqdm

        self.bar: Any = tqdm(total=total, unit="pred", file=stream, dynamic_ncols=True)

    def show(self, counts: Mapping[str, int], advance: bool = False) -> None:
        self.bar.set_postfix(dict(counts), refresh=not advance)
        if advance:
            self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def make_progress(total: int, enabled: bool, stream: IO[str] | None = None) -> Progress | None:
    """A bar on a terminal, plain lines elsewhere, nothing when not ``enabled``."""
    if not enabled:
        return None
    stream = stream or sys.stderr
    return _Bar(total, stream) if wants_bar(stream) else PlainProgress(total, stream)
