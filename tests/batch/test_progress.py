"""The batch's progress where no terminal is: plain lines, every few seconds or a tenth of
the rows, never a carriage return; a bar only on a terminal."""

from __future__ import annotations

import io
import os
import subprocess
import sys

from eachlabs_widgets._batch._progress import PlainProgress, make_progress, wants_bar


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_line_every_tenth_of_the_rows_and_one_at_the_end():
    out, clock = io.StringIO(), Clock()
    progress = PlainProgress(40, out, clock=clock)
    counts = {"done": 0, "failed": 0, "running": 0}
    for _ in range(40):
        counts["done"] += 1
        progress.show(counts, advance=True)
    progress.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 10  # 4, 8, … 40 rows: the last line is the 100% line, not repeated
    assert lines[0].startswith("batch: 4/40 rows (10%): 4 done, 0 failed, 0 running")
    assert lines[-1].startswith("batch: 40/40 rows (100%)")
    assert "\r" not in out.getvalue()


def test_a_line_every_few_seconds_while_rows_are_slow():
    out, clock = io.StringIO(), Clock()
    progress = PlainProgress(1000, out, every=5.0, clock=clock)
    progress.show({"running": 3})
    clock.now = 4.9
    progress.show({"running": 3}, advance=True)
    assert out.getvalue() == ""
    clock.now = 5.0
    progress.show({"done": 1, "running": 3})
    assert out.getvalue() == "batch: 1/1000 rows (0%): 1 done, 0 failed, 3 running; 0:05 elapsed\n"


def test_no_terminal_no_bar(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    assert not wants_bar(io.StringIO())
    assert isinstance(make_progress(3, True, io.StringIO()), PlainProgress)
    assert make_progress(3, False, io.StringIO()) is None

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert wants_bar(Tty())
    monkeypatch.setenv("CI", "true")  # CI runners that allocate a terminal log it all the same
    assert not wants_bar(Tty())


def test_the_command_under_nohup_prints_plain_lines(tmp_path):
    inputs = tmp_path / "p.csv"
    inputs.write_text("prompt\n" + "".join(f"a fox {i}\n" for i in range(12)))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("EACHLABS_")},
        "EACHLABS_BASE_URL": "emulator",
        "EACHLABS_EMULATOR_SPEED": "0.02",
        "EACHLABS_HOME": str(tmp_path / "home"),
        "EACHLABS_OUTPUT_DIR": str(tmp_path / "out"),
    }
    tail = [str(inputs), "--yes"]
    done = subprocess.run(
        [sys.executable, "-m", "eachlabs_widgets", "batch", "flux-2-turbo-text-to-image", *tail],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.startswith("batch: ")]
    assert lines and lines[-1].startswith("batch: 12/12 rows (100%): 12 done, 0 failed")
