"""The scale part of the batch benchmark: ``eachlabs-batch`` at 100 in flight.

    python -m benchmarks.batch --only scale

1,000 predictions of 3-5 s each (uniform) at ``--concurrency 100`` against the emulator
served on loopback in a process of its own, on an uncapped account (``account_cap=None``: an
account with a balance over $10 has no cap; API.md, "Limits"). Every row asks for the same
small JPEG (one prompt, one seed, ``square``), which the server renders once and then serves
from its cache, so the server is not the bottleneck. ``eachlabs-batch`` is timed as a user
runs it: a subprocess, from its start to its exit. Three figures, each from that one run:

- wall time against a zero-overhead schedule of the same predictions (their durations, in
  creation order) on 100 slots, from the command's start;
- the client's CPU time (user + system, from the kernel's accounting of the finished process)
  per prediction;
- the client's peak RSS (the kernel's high-water mark of the finished process).
"""

from __future__ import annotations

import csv
import hashlib
import heapq
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

PY = sys.executable
ROOT = Path(__file__).resolve().parent.parent
MODEL = "flux-2-turbo-text-to-image"
DURATIONS = (3.0, 5.0)
SLOTS = 100
N = 1000
#: The targets the table checks.
WALL_TARGET = 1.15
CPU_TARGET_MS = 15.0
RSS_TARGET_MB = 150.0


def serve(port: int) -> None:
    """The emulator server, uncapped, with the scale part's durations (this process)."""
    from eachlabs_widgets.emulator import Emulator
    from eachlabs_widgets.emulator import serve as start

    emulator = Emulator(account_cap=None, durations={MODEL: list(DURATIONS)})
    server = start(emulator, port=port)
    print(server.url, flush=True)
    server.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _records(url: str, key: str) -> list[dict[str, Any]]:
    account = hashlib.sha256(key.encode()).hexdigest()[:12]
    with urllib.request.urlopen(f"{url}/_emulator/predictions?account={account}") as answer:
        return list(json.load(answer)["predictions"])


def ideal(records: list[dict[str, Any]], slots: int = SLOTS) -> float:
    """The zero-overhead schedule: the same predictions, in creation order, on ``slots``."""
    free = [0.0] * slots
    for record in sorted(records, key=lambda r: r["created_at"]):
        heapq.heappush(free, heapq.heappop(free) + record["duration"])
    return max(free)


def scale(n: int = N, slots: int = SLOTS) -> dict[str, float]:
    """Run the scale part once; returns its figures (see the module's docstring)."""
    port = _free_port()
    server = subprocess.Popen(
        [PY, "-m", "benchmarks._scale", "serve", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError("the emulator server did not start")
        work = Path(tempfile.mkdtemp(prefix="eachlabs-bench-scale-"))
        inputs = work / "prompts.csv"
        with inputs.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["prompt", "seed", "image_size", "output_format"])
            writer.writerows(["a red fox in the snow", 7, "square", "jpeg"] for _ in range(n))
        key = f"bench-{uuid.uuid4().hex[:12]}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("EACHLABS_")}
        env.update(
            EACHLABS_BASE_URL=url,
            EACHLABS_API_KEY=key,
            EACHLABS_HOME=str(work / "home"),
            EACHLABS_OUTPUT_DIR=str(work / "out"),
        )
        command = [
            PY, "-m", "eachlabs_widgets", "batch", MODEL, str(inputs),
            "--yes", "--no-progress", "--concurrency", str(slots),
        ]  # fmt: skip
        start = time.monotonic()
        proc = subprocess.Popen(
            command, env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        errors = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.returncode != 0:
            raise RuntimeError(f"eachlabs-batch exited with {proc.returncode}: {errors[-500:]}")
        server_cpu = _cpu_seconds(server.pid)
        records = _records(url, key)
        if len(records) != n:
            raise RuntimeError(f"{len(records)} predictions were created, not {n}")
        return {
            "wall": wall,
            "ideal": ideal(records, slots),
            "ratio": wall / ideal(records, slots),
            "cpu_ms": (usage.ru_utime + usage.ru_stime) * 1000 / n,
            "rss_mb": usage.ru_maxrss / 1024,  # KiB on Linux
            "polls": sum(r["polls"] for r in records) / n,
            "peak_in_flight": _peak(records),
            "server_cpu": server_cpu,
        }
    finally:
        server.kill()
        server.wait()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak(records: list[dict[str, Any]]) -> int:
    events = sorted(
        [(r["created_at"], 1) for r in records] + [(r["ended_at"], -1) for r in records]
    )
    peak = running = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(int(sys.argv[2]))
    else:
        print(json.dumps(scale(int(sys.argv[1]) if sys.argv[1:] else N)))
