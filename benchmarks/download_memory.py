"""How much memory and time one large output costs: downloaded, saved with its parameters.

A loopback file host serves one PNG-headed file of SIZE MB; ``AsyncEachLabs.run`` downloads it
into the output folder and saves it. Each scenario runs in a fresh process so its peak RSS is
its own. Prints the peak RSS above the process's baseline, in units of the file's size (1.0
means one copy in memory), and the seconds the download and save took.

    python benchmarks/download_memory.py [--mb 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time


def child(mb: int, save: bool) -> dict[str, float]:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from eachlabs_widgets import AsyncEachLabs
    from eachlabs_widgets._journal.journal import Journal
    from eachlabs_widgets._service.limiter import PredictionLimiter
    from tests.output_stand import SLUG, Stand

    folder = tempfile.mkdtemp()
    source = os.path.join(folder, "source.png")
    with open(source, "wb") as handle:  # on disk, so the server holds no copy in memory
        handle.write(b"\x89PNG\r\n\x1a\n")
        for _ in range(mb):
            handle.write(os.urandom(1_000_000))
    size = os.path.getsize(source)

    def host(handler, stand):
        handler.send_response(200)
        handler.send_header("Content-Type", "image/png")
        handler.send_header("Content-Length", str(size))
        handler.end_headers()
        with open(source, "rb") as served:
            while block := served.read(1 << 20):
                handler.wfile.write(block)
        return None

    stand = Stand()
    stand.files = host
    client = AsyncEachLabs(
        api_key="k",
        base_url=stand.url,
        journal=Journal(os.path.join(folder, "journal.sqlite3")),
        limiter=PredictionLimiter(10),
    )
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    g = asyncio.run(
        client.run(SLUG, {"prompt": "x"}, save_to=os.path.join(folder, "out") if save else None)
    )
    took = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert len(g.outputs[0].data) == size
    stand.close()
    return {"seconds": took, "peak_mb": peak - baseline}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--child", choices=["save", "memory"])
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.mb, args.child == "save")))
        return
    print(f"one {args.mb} MB output, downloaded over loopback")
    for mode in ("memory", "save"):
        out = subprocess.run(
            [sys.executable, __file__, "--mb", str(args.mb), "--child", mode],
            capture_output=True,
            text=True,
            check=True,
        )
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        label = "saved to a folder" if mode == "save" else "not saved (memory only)"
        print(
            f"  {label:<24} {figures['seconds']:6.2f} s   peak RSS +{figures['peak_mb']:6.0f} MB"
            f" = {figures['peak_mb'] / args.mb:.2f}× the file"
        )


if __name__ == "__main__":
    main()
