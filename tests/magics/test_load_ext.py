"""``%load_ext eachlabs_widgets`` stays cheap: it defines and registers the magics and imports
nothing heavy (the HTTP client, jsonschema, the widgets, imaging, the journal, asyncio). Those
load on first use, on the shell's thread, and the magics still work from a fresh process:
completion of a model's inputs, the help, ``%eachgen models`` and a ``%%eachgen`` cell.

What the deferral buys is measured by ``python -m benchmarks.batch`` (the cold-start row);
here only which modules are imported is checked, never a time.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ..kernel_driver import Kernel
from .conftest import FLUX

#: Modules %load_ext must not import: each is tens of milliseconds or more, and none is needed
#: before a cell generates, completes a model's input or lists the catalogue.
DEFERRED = (
    "asyncio",
    "httpx",
    "jsonschema",
    "ipywidgets",
    "PIL",
    "eachlabs_widgets._service.client",
    "eachlabs_widgets._schema.inputs",
    "eachlabs_widgets._notebook.runs",
    "eachlabs_widgets._journal.journal",
    "eachlabs_widgets._display.tables",
    "eachlabs_widgets._service.limiter",
    "eachlabs_widgets._service.sync",
)

SCRIPT = """
import json, sys
from IPython.core.completer import provisionalcompleter
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

config = Config()
config.HistoryManager.enabled = False
shell = InteractiveShell.instance(config=config)
before = set(sys.modules)
shell.run_line_magic("load_ext", "eachlabs_widgets")
loaded = sorted(set(sys.modules) - before)

def complete(text):
    with provisionalcompleter():
        return [text[: c.start] + c.text for c in shell.Completer.completions(text, len(text))]

typed = "%%eachgen {flux} --image_size landscape_1"
completions = complete(typed)
after_completion = sorted(set(sys.modules) - before)
help_text = repr(shell.run_line_magic("eachgen", ""))
models = repr(shell.run_line_magic("eachgen", "models"))
shell.run_cell_magic("eachgen", "{flux} --seed 3 -o t_result --output-dir ''", "a fox in snow")
result = shell.user_ns["t_result"]
print(json.dumps({{
    "before": sorted(before),
    "loaded": loaded,
    "completions": completions,
    "after_completion": after_completion,
    "help": help_text,
    "models": models,
    "status": result.status,
    "images": len(result.images),
    "after_use": sorted(sys.modules),
}}))
"""


def _environment(tmp_path: Path) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("EACHLABS_")}
    env.update(
        EACHLABS_BASE_URL="emulator",
        EACHLABS_EMULATOR_SPEED="0.01",
        EACHLABS_HOME=str(tmp_path / "home"),
        IPYTHONDIR=str(tmp_path / "ipython"),
    )
    return env


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What a fresh process with IPython imported saw at %load_ext and after using the magics."""
    work = tmp_path_factory.mktemp("load_ext")
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(flux=FLUX)],
        cwd=work,
        env=_environment(work),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_load_ext_imports_none_of_the_heavy_modules(fresh):
    loaded = set(fresh["loaded"])
    assert "eachlabs_widgets.magics._magic" in loaded  # the magics were registered
    pulled_in = sorted(
        name
        for name in loaded
        if any(name == heavy or name.startswith(heavy + ".") for heavy in DEFERRED)
    )
    assert pulled_in == []


def test_the_deferred_modules_load_when_the_magics_use_them(fresh):
    # The list above names modules the magics really need (else the first test proves nothing),
    # and a fresh process imports them on first use without an error.
    assert not set(DEFERRED) & set(fresh["before"])
    assert set(DEFERRED) - {"PIL"} <= set(fresh["after_use"])
    # completing a model's input needed its schema: the schema helpers came in then
    assert "eachlabs_widgets._schema.inputs" in fresh["after_completion"]


def test_the_magics_work_from_a_fresh_process(fresh):
    assert fresh["completions"][:1] == [f"%%eachgen {FLUX} --image_size landscape_16_9"]
    assert "%eachgen models [FILTER]" in fresh["help"]
    assert FLUX in fresh["models"]
    assert (fresh["status"], fresh["images"]) == ("success", 1)


def test_a_process_that_ends_right_after_load_ext_exits_cleanly(tmp_path):
    # The warm-up thread is still loading the CA bundle when the process ends (a bundle this
    # large takes a while): OpenSSL's clean-up at exit must not pull its tables from under it.
    # That crash (SIGSEGV) hits most such runs, not all: several runs are made.
    import certifi

    bundle = tmp_path / "many-roots.pem"
    bundle.write_text(Path(certifi.where()).read_text() * 20)
    env = _environment(tmp_path)
    env["SSL_CERT_FILE"] = str(bundle)
    code = (
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "InteractiveShell.instance().run_line_magic('load_ext', 'eachlabs_widgets')\n"
        "import threading\n"
        "print([t.name for t in threading.enumerate() if t.name == 'eachlabs-warm-up'])\n"
    )
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    ended = [(run.communicate(timeout=120), run.returncode) for run in runs]
    assert [code for _, code in ended] == [0] * len(runs), [err[-500:] for (_, err), _ in ended]
    # the warm-up was still running when the script ended (else this proves nothing)
    assert "['eachlabs-warm-up']" in [out.strip() for (out, _), _ in ended]


@pytest.mark.kernel
def test_in_a_kernel_load_ext_defers_and_completion_still_answers(tmp_path):
    """In ipykernel, completion requests run on the shell's thread: the first one imports the
    schema helpers there and answers with the model's allowed values."""
    kernel = Kernel(_environment(tmp_path), cwd=str(tmp_path))
    try:
        kernel.execute("import sys\nt_before = set(sys.modules)")
        # In the same cell: what loads once the kernel is idle must not be counted here.
        pulled_in = kernel.execute(
            "%load_ext eachlabs_widgets\n"
            "print(sorted(m for m in set(sys.modules) - t_before"
            f" if m.split('.')[0] in {['httpx', 'jsonschema', 'ipywidgets', 'PIL']!r}"
            " or m.startswith(('eachlabs_widgets._service.client', 'eachlabs_widgets._schema.inputs',"
            " 'eachlabs_widgets._notebook.runs', 'eachlabs_widgets._journal.journal'))))"
        )
        assert pulled_in.strip() == "[]"
        typed = f"%%eachgen {FLUX} --image_size landscape_1"
        msg_id = kernel.kc.complete(typed, len(typed))
        while True:
            reply = kernel.kc.get_shell_msg(timeout=60)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        content = reply["content"]
        assert content["status"] == "ok", content
        start = content["cursor_start"]
        assert (
            typed[:start] + content["matches"][0] == f"%%eachgen {FLUX} --image_size landscape_16_9"
        )
    finally:
        kernel.stop()


@pytest.mark.kernel
def test_in_a_kernel_the_first_cell_s_modules_load_while_it_is_idle(tmp_path):
    """After %load_ext, the kernel imports what a first %%eachgen cell needs on its own loop
    once idle, so that cell (or the first TAB) does not wait for them."""
    from eachlabs_widgets.magics._preload import GROUPS

    kernel = Kernel(_environment(tmp_path), cwd=str(tmp_path))
    wanted = [name for group in GROUPS for name in group]
    try:
        kernel.execute("%load_ext eachlabs_widgets")
        missing = wanted
        for _ in range(100):
            time.sleep(0.2)
            out = kernel.execute(
                f"import sys; print([m for m in {wanted!r} if m not in sys.modules])"
            )
            missing = ast.literal_eval(out.strip())
            if not missing:
                break
        assert missing == []
    finally:
        kernel.stop()
