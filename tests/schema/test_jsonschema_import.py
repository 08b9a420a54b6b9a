"""``jsonschema`` is imported without the optional modules of its format checkers, which the
package never uses; they stay importable for everyone else afterwards."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import importlib, importlib.util, json, sys
from eachlabs_widgets._schema.jsonschema import FORMAT_MODULES, Draft202012Validator
skipped = [m for m in FORMAT_MODULES if m in sys.modules]
installed = [m for m in FORMAT_MODULES if importlib.util.find_spec(m) is not None]
for name in installed:
    importlib.import_module(name)
Draft202012Validator({"type": "object", "properties": {"n": {"type": "integer"}}}).validate({"n": 1})
print(json.dumps({"came_along": skipped, "installed": installed}))
"""


def test_format_modules_are_not_imported_with_jsonschema_and_stay_importable():
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=120
    )
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["came_along"] == []
    assert found["installed"]  # the environment has some, and each imported fine afterwards
