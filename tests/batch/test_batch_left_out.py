"""Rows a budget left out of ``eachlabs-batch`` (``--max-cost``, the session's budget) are
counted as not run, never as failed: in the progress lines, the summary, RESULTS and the exit
status; nothing was sent for them, so they carry no seed, and a rerun runs them."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from eachlabs_widgets._batch._cli import NOT_RUN, SOME_FAILED, main
from eachlabs_widgets._service import budget as budget_module
from eachlabs_widgets.emulator import Emulator, serve

TURBO = "flux-2-turbo-text-to-image"  # $0.008 an image on the emulator
KEY = "batch-key"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    emu = Emulator(api_key=KEY)
    with serve(emu) as server:
        emu.url = server.url  # type: ignore[attr-defined]
        yield emu


@pytest.fixture
def env(emulator, tmp_path, monkeypatch) -> Iterator[None]:
    emulator.reset()
    emulator.configure(api_key=KEY, durations={TURBO: [0.05, 0.1]})
    monkeypatch.setenv("EACHLABS_BASE_URL", emulator.url)
    monkeypatch.setenv("EACHLABS_API_KEY", KEY)
    monkeypatch.setenv("EACHLABS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EACHLABS_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.delenv("EACHLABS_BUDGET", raising=False)
    monkeypatch.setenv("CI", "1")  # plain progress lines, even under a terminal
    budget_module.session.reset()
    yield
    budget_module.session.reset()


def five_rows(tmp_path: Path) -> Path:
    path = tmp_path / "p.csv"
    path.write_text("prompt\n" + "".join(f"a fox {i}\n" for i in range(5)))
    return path


def results(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_rows_past_max_cost_are_not_run_not_failed(emulator, env, tmp_path, capsys):
    inputs = five_rows(tmp_path)
    assert main([TURBO, str(inputs), "--yes", "--max-cost", "0.02"]) == SOME_FAILED
    err = capsys.readouterr().err
    assert emulator.stats.predictions_created == 2
    assert "2 of 5 succeeded, 0 failed, 3 not run (--max-cost 0.02 reached)" in err
    progress = [line for line in err.splitlines() if line.startswith("batch: ")]
    assert progress and all(", 0 failed, " in line for line in progress)
    assert progress[-1].startswith("batch: 5/5 rows (100%): 2 done, 0 failed, 3 not run, ")
    rows = results(tmp_path / "p.results.csv")
    # Which two rows run depends on how the rows in flight interleave: count, not positions.
    ran = [r for r in rows if r["status"] == "success"]
    left = [r for r in rows if r["status"] == "skipped"]
    assert (len(ran), len(left)) == (2, 3), rows
    assert all(r["seed"] for r in ran)
    assert [r["seed"] for r in left] == ["", "", ""]  # nothing was sent for them
    assert all(r["error"] == "not run: --max-cost 0.02 reached" for r in left)

    # A rerun with room for them runs the three left out, and only those.
    assert main([TURBO, str(inputs), "--yes", "--no-progress", "--max-cost", "1"]) == 0
    assert emulator.stats.predictions_created == 5
    again = results(tmp_path / "p.results.csv")
    assert [r["status"] for r in again] == ["success"] * 5
    seeds = {r["row"]: r["seed"] for r in again}
    assert all(seeds[r["row"]] == r["seed"] for r in ran)  # the rows that ran keep theirs
    assert "5 of 5 succeeded, 0 failed, 0 not run;" in capsys.readouterr().err


def test_every_row_left_out_is_nothing_run(emulator, env, tmp_path, capsys):
    inputs = five_rows(tmp_path)
    assert main([TURBO, str(inputs), "--yes", "--no-progress", "--max-cost", "0"]) == NOT_RUN
    assert emulator.stats.predictions_created == 0
    assert "0 of 5 succeeded, 0 failed, 5 not run (--max-cost 0.0 reached)" in (
        capsys.readouterr().err
    )
    assert [r["status"] for r in results(tmp_path / "p.results.csv")] == ["skipped"] * 5


def test_rows_the_sessions_budget_refused_are_run_by_a_rerun(
    emulator, env, tmp_path, capsys, monkeypatch
):
    inputs = five_rows(tmp_path)
    monkeypatch.setenv("EACHLABS_BUDGET", "0")
    assert main([TURBO, str(inputs), "--yes", "--no-progress"]) == NOT_RUN
    assert emulator.stats.predictions_created == 0
    err = capsys.readouterr().err
    assert "0 of 5 succeeded, 0 failed, 5 not run (budget $0.000 reached)" in err
    rows = results(tmp_path / "p.results.csv")
    assert all(r["status"] == "skipped" and r["seed"] == "" for r in rows)
    assert all(r["error"].startswith("not run: budget $0.000") for r in rows)

    monkeypatch.delenv("EACHLABS_BUDGET")
    assert main([TURBO, str(inputs), "--yes", "--no-progress"]) == 0
    assert emulator.stats.predictions_created == 5
    again = results(tmp_path / "p.results.csv")
    assert [r["status"] for r in again] == ["success"] * 5
    assert all(r["note"] == "" for r in again)  # new creates, not "created again"
