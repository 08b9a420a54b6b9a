"""``g.vary()`` and ``g.remix()`` in a script (no IPython): nothing is printed and nothing of
the notebook is loaded; the runs go on the embedded emulator as before."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import json, sys
import eachlabs_widgets as el
g = el.generate("flux-2-turbo-text-to-image", "a fox", seed=3)
v = g.vary(n=2)
r = g.remix("a fox at night")
w = el.find("a fox at night")[0].vary(2)  # rebuilt from the journal: the default runner
print(json.dumps({
    "kids": [k.parent == g.id for k in v] + [k.parent == r.id for k in w],
    "remix": [r.parent == g.id, r.seed],
    "loaded": [m for m in ("IPython", "ipywidgets") if m in sys.modules],
}))
"""


def test_vary_and_remix_in_a_script_print_nothing_and_load_no_notebook(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("EACHLABS_")}
    env.update(
        EACHLABS_BASE_URL="emulator",
        EACHLABS_EMULATOR_SPEED="0.02",
        EACHLABS_HOME=str(tmp_path / "home"),
        PYTHONPATH=str(ROOT),
    )
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    (line,) = done.stdout.splitlines()  # the script's own line, nothing else
    said = json.loads(line)
    assert said == {"kids": [True] * 4, "remix": [True, 3], "loaded": []}
    assert len(list((tmp_path / "eachgen_outputs").glob("*.png"))) == 6
