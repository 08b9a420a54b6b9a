"""A script that generates does not import what only a notebook needs: IPython (about 0.2 s)
is looked for in ``sys.modules``, never imported, to decide whether to show a live card."""

from __future__ import annotations

import json
import os
import subprocess
import sys

SCRIPT = """
import json, sys
import eachlabs_widgets as el
result = el.generate("flux-2-turbo-text-to-image", "a red fox", save_to=None)
print(json.dumps({"ok": bool(result.images), "loaded": sorted(
    m for m in ("IPython", "ipywidgets", "ipykernel") if m in sys.modules)}))
"""


def test_generate_in_a_script_imports_no_ipython(tmp_path):
    env = {
        **os.environ,
        "EACHLABS_BASE_URL": "emulator",
        "EACHLABS_HOME": str(tmp_path),
        "EACHLABS_OUTPUT_DIR": str(tmp_path / "out"),
    }
    env.pop("EACHLABS_API_KEY", None)
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found == {"ok": True, "loaded": []}
