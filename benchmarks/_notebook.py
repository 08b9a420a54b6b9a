"""A 20-image sweep through ``%%eachgen`` in a real kernel (nbclient): the event loop's lag
while the images download, decode, get their thumbnails and are saved, and the weight of the
saved notebook (default embed mode; the lag probe's cells are left out of the weight).

    python -m benchmarks._notebook URL KEY   ->  {"lag_p99_ms", "lag_max_ms", "notebook_kb"}
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

MODEL = "flux-2-turbo-text-to-image"
IMAGES = 20

PROBE = """\
import asyncio, time
_lags = []
async def _probe():
    loop = asyncio.get_running_loop()
    while True:
        before = loop.time()
        await asyncio.sleep(0.005)
        _lags.append(loop.time() - before - 0.005)
_probe_task = asyncio.get_running_loop().create_task(_probe())"""
SWEEP = f"""%%eachgen {MODEL} --seed {",".join(str(s) for s in range(1, IMAGES + 1))}
a red fox in fresh snow, golden hour"""
REPORT = """\
_probe_task.cancel()
_l = sorted(_lags)
print(json.dumps({"p99": _l[int(0.99 * (len(_l) - 1))], "max": _l[-1], "ticks": len(_l)}))"""


def run(url: str, key: str) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="eachlabs-bench-nb-"))
    env = {
        "EACHLABS_BASE_URL": url,
        "EACHLABS_API_KEY": key,
        "EACHLABS_HOME": str(work / "home"),
        "EACHLABS_OUTPUT_DIR": str(work / "out"),
    }
    os.environ.update(env)
    cells = [
        nbformat.v4.new_code_cell("%load_ext eachlabs_widgets\nimport json"),
        nbformat.v4.new_code_cell(PROBE),
        nbformat.v4.new_code_cell("_lags.clear()"),
        nbformat.v4.new_code_cell(SWEEP),
        nbformat.v4.new_code_cell(REPORT),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(work)}}
    ).execute()
    report = json.loads(nb.cells[-1].outputs[0]["text"])
    # The notebook a user would save: the load cell and the sweep.
    nb.cells = [nb.cells[0], nb.cells[3]]
    path = work / "sweep.ipynb"
    nbformat.write(nb, path)
    return {
        "lag_p99_ms": report["p99"] * 1000,
        "lag_max_ms": report["max"] * 1000,
        "notebook_kb": path.stat().st_size / 1024,
    }


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1], sys.argv[2])), flush=True)
