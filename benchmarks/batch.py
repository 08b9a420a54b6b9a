"""The batch benchmark: every performance goal of the project, measured side by side in one run.

    python -m benchmarks.batch [--reps 3] [--skip PARTS] [--only PARTS]

PARTS: a comma list of workload, notebook, coldstart, journal, thousand, scale (the notebook
sweep runs within the workload's repetitions). ``scale`` is ``eachlabs-batch`` at
``--concurrency 100`` over 1,000 predictions of 3-5 s on an uncapped account, measured once
(see ``benchmarks/_scale.py``): ``--only scale`` runs it alone.

The workload: 40 predictions over 8 models created at once (5 rounds of the 8), durations
drawn uniformly in per-model ranges from 0.6 to 6 s, an account cap of 10 in flight, against
the project's emulator served on loopback (``python -m eachlabs_widgets.emulator``), which
records when each prediction ended and when a poll first saw the end (on its own clock).
Each repetition runs, each in a fresh process:

- ours, first run (a fresh journal), then ours, learned (a second process on that journal);
- two reference pollers built like the clients users compare us with: a fixed 0.1 s poller
  (fal-client) and a fixed 0.5 s poller (replicate-python).

Lag is the time from a prediction's end to the poll that saw it; "ideal" is a zero-overhead
schedule of the same creates, in creation order, on 10 slots. Beside the workload: event-loop
lag while 20 images go through ``%%eachgen`` in a real kernel, the saved notebook's weight,
``%load_ext eachlabs_widgets`` against ``import ipywidgets`` (IPython already imported),
``history(limit=None)`` over 10,000 journal rows, and 1,000 predictions through
``eachlabs-batch`` (wall, predictions per second, peak RSS). The table shows the median of
the repetitions for each figure.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import heapq
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import _scale
from benchmarks._workload import CAP, RANGES

PY = sys.executable
PARTS = ("workload", "notebook", "coldstart", "journal", "thousand", "scale")
ROOT = Path(__file__).resolve().parent.parent


# -- the emulator --------------------------------------------------------------------------


class Server:
    """The emulator server in a process of its own (as a user would start it)."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        durations = json.dumps({m: list(r) for m, r in RANGES.items()})
        self.proc = subprocess.Popen(
            [
                PY,
                "-m",
                "eachlabs_widgets.emulator",
                "--port",
                str(self.port),
                "--account-cap",
                str(CAP),
                "--durations",
                durations,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(400):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the emulator server did not start")

    def records(self, key: str) -> list[dict[str, Any]]:
        account = hashlib.sha256(key.encode()).hexdigest()[:12]
        with urllib.request.urlopen(f"{self.url}/_emulator/predictions?account={account}") as r:
            return list(json.load(r)["predictions"])

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


# -- one run of the workload ---------------------------------------------------------------


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))]


def ideal(records: list[dict[str, Any]]) -> float:
    """The zero-overhead schedule: the same creates, in creation order, on CAP slots."""
    free = [0.0] * CAP
    for r in sorted(records, key=lambda r: r["created_at"]):
        heapq.heappush(free, heapq.heappop(free) + r["duration"])
    return max(free)


def workload(server: Server, kind: str, *extra: str, home: Path | None = None) -> dict[str, float]:
    key = f"bench-{uuid.uuid4().hex[:12]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("EACHLABS_")}
    work = Path(tempfile.mkdtemp(prefix="eachlabs-bench-"))
    env["EACHLABS_HOME"] = str(home or work / "home")
    env["EACHLABS_OUTPUT_DIR"] = str(work / "out")
    out = subprocess.run(
        [PY, "-m", "benchmarks._workload", kind, server.url, key, *extra],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    outcome = json.loads(out.stdout.strip().splitlines()[-1])
    if outcome["errors"]:
        raise RuntimeError(f"{kind}: {len(outcome['errors'])} failed: {outcome['errors'][:3]}")
    records = server.records(key)
    assert len(records) == 40, len(records)
    lags = [r["seen_end_at"] - r["ended_at"] for r in records]
    return {
        "lag_p50": p(lags, 0.5) * 1000,
        "lag_p90": p(lags, 0.9) * 1000,
        "polls": statistics.mean(r["polls"] for r in records),
        "wall": outcome["wall"] / ideal(records),
        # Where the wall's excess starts and ends: from the first call to the first create,
        # and from the last end to the last result (its lag, download and save).
        "start_ms": (min(r["created_at"] for r in records) - outcome["started"]) * 1000,
        "tail_ms": (outcome["ended"] - max(r["ended_at"] for r in records)) * 1000,
    }


def repetition(server: Server) -> dict[str, dict[str, float]]:
    home = Path(tempfile.mkdtemp(prefix="eachlabs-bench-home-"))
    return {
        "first": workload(server, "ours", home=home),
        "fixed 0.1 s": workload(server, "fixed", "0.1"),
        "learned": workload(server, "ours", home=home),  # the same journal: a second process
        "fixed 0.5 s": workload(server, "fixed", "0.5"),
    }


# -- the rest --------------------------------------------------------------------------------


def notebook(server: Server) -> dict[str, float]:
    out = subprocess.run(
        [PY, "-m", "benchmarks._notebook", server.url, f"bench-{uuid.uuid4().hex[:12]}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


COLD = """
import time, IPython
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
start = time.perf_counter()
{action}
print(time.perf_counter() - start)
"""
COLD_ACTIONS = (
    ("ours", "shell.run_line_magic('load_ext', 'eachlabs_widgets')"),
    ("ipywidgets", "import ipywidgets"),
)


def _cold_env(bytecode: Path | None) -> dict[str, str]:
    """With ``bytecode``, every module is read from a compiled cache, as from an installed
    wheel (pip compiles on install); without, this checkout's modules (an editable install
    under PYTHONDONTWRITEBYTECODE) are compiled from source in every process."""
    env = dict(os.environ)
    if bytecode is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(bytecode)
    return env


def cold_start(times: int = 7, *, compiled: bool = True) -> dict[str, float]:
    """``%load_ext eachlabs_widgets`` against ``import ipywidgets``, each in a fresh process
    where IPython is already imported and its shell exists (what a kernel has before the first
    cell). The two alternate, ``times`` pairs; the ratio is the median of the pairs' ratios.
    ``compiled``: both read bytecode (one untimed run of each fills the cache first), as
    installed; else ours is compiled from source each time (an editable checkout)."""
    cache = Path(tempfile.mkdtemp(prefix="eachlabs-bench-pyc-")) if compiled else None
    env = _cold_env(cache)

    def once(action: str) -> float:
        out = subprocess.run(
            [PY, "-c", COLD.format(action=action)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return float(out.stdout.strip().splitlines()[-1])

    spent: dict[str, list[float]] = {name: [] for name, _ in COLD_ACTIONS}
    ratios = []
    try:
        if compiled:
            for _, action in COLD_ACTIONS:
                once(action)
        for _ in range(times):
            for name, action in COLD_ACTIONS:
                spent[name].append(once(action))
            ratios.append(spent["ours"][-1] / spent["ipywidgets"][-1])
    finally:
        if cache is not None:
            shutil.rmtree(cache, ignore_errors=True)
    return {
        "ratio": statistics.median(ratios),
        "ours_ms": statistics.median(spent["ours"]) * 1000,
        "ipywidgets_ms": statistics.median(spent["ipywidgets"]) * 1000,
    }


def journal_history_ms(rows: int = 10_000) -> float:
    """``history(limit=None)`` over ``rows`` rows, in ms: benchmarks/journal.py's measure."""
    from benchmarks.journal import history_ms

    return history_ms(rows)


def thousand(n: int = 1000) -> dict[str, float]:
    """``eachlabs-batch`` over ``n`` prompts on the in-process emulator: wall, rate, peak RSS."""
    work = Path(tempfile.mkdtemp(prefix="eachlabs-bench-batch-"))
    inputs = work / "prompts.csv"
    with inputs.open("w", newline="") as handle:  # quoted as a spreadsheet would
        writer = csv.writer(handle)
        writer.writerow(["prompt"])
        writer.writerows([f'a red fox, "take {i}", in the snow'] for i in range(n))
    env = {k: v for k, v in os.environ.items() if not k.startswith("EACHLABS_")}
    env.update(
        EACHLABS_BASE_URL="emulator",
        EACHLABS_EMULATOR_SPEED="0.01",
        EACHLABS_HOME=str(work / "home"),
        EACHLABS_OUTPUT_DIR=str(work / "out"),
    )
    start = time.monotonic()
    proc = subprocess.Popen(
        [
            PY,
            "-m",
            "eachlabs_widgets",
            "batch",
            "flux-2-turbo-text-to-image",
            str(inputs),
            "--yes",
            "--no-progress",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    samples: list[tuple[float, float]] = []
    while proc.poll() is None:
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()
            kb = next(int(x.split()[1]) for x in status.splitlines() if x.startswith("VmRSS:"))
            samples.append((time.monotonic() - start, kb / 1024))
        except (OSError, StopIteration):
            pass
        time.sleep(0.2)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        raise RuntimeError(f"eachlabs-batch exited with {proc.returncode}")
    warm = [mb for t, mb in samples if t > wall * 0.2] or [mb for _, mb in samples]
    return {
        "wall": wall,
        "rate": n / wall,
        "rss_peak": max(warm),
        "rss_all": max(mb for _, mb in samples),
    }


# -- the table -------------------------------------------------------------------------------


def med(values: list[float]) -> float:
    return statistics.median(values)


def row(name: str, value: float | None, target: str, met: bool | None, fmt: str = "{:.2f}") -> str:
    shown = "n/a" if value is None else fmt.format(value)
    verdict = "-" if met is None else ("met" if met else "NOT met")
    return f"| {name:58} | {shown:>10} | {target:>12} | {verdict:7} |"


def safely(what: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as exc:
        print(f"  ({what} could not be measured: {exc})", flush=True)
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--skip", default="", help=f"comma-separated: {','.join(PARTS)}")
    parser.add_argument("--only", default="", help="comma-separated: run only these parts")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))
    skip = set(filter(None, args.skip.split(",")))
    if only:
        skip |= set(PARTS) - only
        if "notebook" in only:
            skip.discard("workload")  # the sweep runs against the workload's server
    unknown = (only | skip) - set(PARTS)
    if unknown:
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}; parts: {', '.join(PARTS)}")

    reps: list[dict[str, dict[str, float]]] = []
    notebooks: list[dict[str, float]] = []
    if "workload" not in skip:
        server = Server()
        try:
            for n in range(args.reps):
                rep = repetition(server)
                reps.append(rep)
                line = "; ".join(
                    f"{k}: p90 {v['lag_p90']:.0f} ms, {v['polls']:.1f} polls, wall {v['wall']:.3f}"
                    for k, v in rep.items()
                )
                print(f"rep {n + 1}: {line}", flush=True)
                if "notebook" not in skip:
                    got = safely("the notebook sweep", lambda: notebook(server))
                    if got:
                        notebooks.append(got)
                        print(
                            f"rep {n + 1}: %%eachgen 20 images: loop lag p99 {got['lag_p99_ms']:.1f} ms"
                            f" (max {got['lag_max_ms']:.0f}), notebook {got['notebook_kb']:.0f} KB",
                            flush=True,
                        )
        finally:
            server.close()
    cold = None if "coldstart" in skip else safely("cold start", cold_start)
    if cold is not None:
        print(
            f"cold start (bytecode cached, as installed): %load_ext eachlabs_widgets"
            f" {cold['ours_ms']:.0f} ms, import ipywidgets {cold['ipywidgets_ms']:.0f} ms"
            f" (medians of 7 fresh processes each; ratio = median of the pairs' ratios)",
            flush=True,
        )
        source = safely("cold start from source", lambda: cold_start(compiled=False))
        if source is not None:
            print(
                f"cold start (this checkout compiled from source in every process):"
                f" {source['ours_ms']:.0f} ms against {source['ipywidgets_ms']:.0f} ms,"
                f" ratio {source['ratio']:.2f}",
                flush=True,
            )
    history = None if "journal" in skip else safely("history", journal_history_ms)
    batch = None if "thousand" in skip else safely("1,000 predictions", thousand)
    scaled = None if "scale" in skip else safely("the scale part", _scale.scale)
    if scaled is not None:
        print(
            f"scale: {_scale.N} predictions at --concurrency {_scale.SLOTS}: wall"
            f" {scaled['wall']:.1f} s against {scaled['ideal']:.1f} s, peak"
            f" {scaled['peak_in_flight']} in flight, {scaled['polls']:.1f} polls per prediction"
            f" (server's count), server CPU {scaled['server_cpu']:.1f} s",
            flush=True,
        )

    def ratio(run: str, ref: str, key: str) -> float | None:
        return med([r[run][key] / r[ref][key] for r in reps]) if reps else None

    def at_most(value: float | None, limit: float) -> bool | None:
        return None if value is None else value <= limit

    first_lag = ratio("first", "fixed 0.1 s", "lag_p90")
    first_polls = ratio("first", "fixed 0.1 s", "polls")
    learned_lag = ratio("learned", "fixed 0.1 s", "lag_p90")
    learned_polls = ratio("learned", "fixed 0.1 s", "polls")
    wall = med([r["first"]["wall"] for r in reps]) if reps else None
    wall_learned = med([r["learned"]["wall"] for r in reps]) if reps else None
    lag_p99 = med([x["lag_p99_ms"] for x in notebooks]) if notebooks else None
    weight = med([x["notebook_kb"] for x in notebooks]) if notebooks else None

    print()
    if reps:
        print(
            f"Medians of {len(reps)} repetitions in one run (figures per poller below the table)."
        )
    print()
    print(f"| {'measure':58} | {'value':>10} | {'target':>12} | verdict |")
    print(f"|{'-' * 60}|{'-' * 12}|{'-' * 14}|{'-' * 9}|")
    print(
        row(
            "first run: lag p90 / the 0.1 s poller's",
            first_lag,
            "<= 1.10",
            at_most(first_lag, 1.10),
        )
    )
    print(
        row(
            "first run: polls / the 0.1 s poller's",
            first_polls,
            "<= 0.50",
            at_most(first_polls, 0.5),
        )
    )
    print(
        row(
            "learned run: lag p90 / the 0.1 s poller's",
            learned_lag,
            "<= 1.00",
            at_most(learned_lag, 1.0),
        )
    )
    print(
        row(
            "learned run: polls / the 0.1 s poller's",
            learned_polls,
            "<= 0.33",
            at_most(learned_polls, 1 / 3),
        )
    )
    print(
        row(
            "wall / zero-overhead schedule (first run)",
            wall,
            "<= 1.10",
            at_most(wall, 1.10),
            "{:.3f}",
        )
    )
    print(
        row(
            "wall / zero-overhead schedule (learned run)",
            wall_learned,
            "<= 1.10",
            at_most(wall_learned, 1.10),
            "{:.3f}",
        )
    )
    print(
        row(
            "event-loop lag p99, 20 images via %%eachgen (ms)",
            lag_p99,
            "< 50",
            None if lag_p99 is None else lag_p99 < 50,
            "{:.1f}",
        )
    )
    print(
        row(
            "%load_ext eachlabs_widgets / import ipywidgets",
            None if cold is None else cold["ratio"],
            "<= 1.30",
            None if cold is None else cold["ratio"] <= 1.3,
        )
    )
    print(
        row(
            "history(limit=None), 10,000 rows (ms)",
            history,
            "<= 50",
            None if history is None else history <= 50,
            "{:.1f}",
        )
    )
    print(
        row(
            "saved notebook, 20-image sweep (KB)",
            weight,
            "<= 320",
            None if weight is None else weight <= 320,
            "{:.0f}",
        )
    )
    if batch:
        print(
            row("1,000 predictions via eachlabs-batch: wall (s)", batch["wall"], "", None, "{:.1f}")
        )
        print(row("1,000 predictions: predictions per second", batch["rate"], "", None, "{:.1f}"))
        print(
            row(
                "1,000 predictions: peak RSS after warm-up (MB)",
                batch["rss_peak"],
                "< 200",
                batch["rss_peak"] < 200,
                "{:.0f}",
            )
        )
    else:
        print(row("1,000 predictions via eachlabs-batch", None, "< 200 MB", None))
    if scaled:
        print(
            row(
                "scale: wall / zero-overhead schedule on 100 slots",
                scaled["ratio"],
                f"<= {_scale.WALL_TARGET:.2f}",
                scaled["ratio"] <= _scale.WALL_TARGET,
                "{:.3f}",
            )
        )
        print(
            row(
                "scale: client CPU per prediction (ms)",
                scaled["cpu_ms"],
                f"<= {_scale.CPU_TARGET_MS:.0f}",
                scaled["cpu_ms"] <= _scale.CPU_TARGET_MS,
                "{:.1f}",
            )
        )
        print(
            row(
                "scale: client peak RSS (MB)",
                scaled["rss_mb"],
                f"< {_scale.RSS_TARGET_MB:.0f}",
                scaled["rss_mb"] < _scale.RSS_TARGET_MB,
                "{:.0f}",
            )
        )
    elif "scale" not in skip:
        print(row("scale: 1,000 predictions at 100 in flight", None, "", None))
    if not reps:
        return
    print()
    print(
        "| run (medians) | lag p50 ms | lag p90 ms | polls | wall/ideal"
        " | first call to first create ms | last end to last result ms |"
    )
    print("|---|---|---|---|---|---|---|")
    keys = ("lag_p50", "lag_p90", "polls", "wall", "start_ms", "tail_ms")
    for run in ("first", "learned", "fixed 0.1 s", "fixed 0.5 s"):
        v = {k: med([r[run][k] for r in reps]) for k in keys}
        print(
            f"| {run} | {v['lag_p50']:.0f} | {v['lag_p90']:.0f} | {v['polls']:.1f}"
            f" | {v['wall']:.3f} | {v['start_ms']:.0f} | {v['tail_ms']:.0f} |"
        )


if __name__ == "__main__":
    main()
