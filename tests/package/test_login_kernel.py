"""``el.login()`` and ``%eachgen login`` in a real kernel: the key is asked for as a password
(an ``input_request`` answered on the stdin channel), is used, and is nowhere in the notebook
saved from the cells' outputs."""

from __future__ import annotations

import queue
import time
from typing import Any

import nbformat
import pytest

from eachlabs_widgets.emulator import Emulator, serve

from ..kernel_driver import Kernel

pytestmark = pytest.mark.kernel

KEY = "sk-login-7f3a9c0d2e1b4a5fSECRET"


def run_answering(kernel: Kernel, code: str, answer: str) -> tuple[str, str, list[Any]]:
    """Run ``code`` allowing input, answering each input request with ``answer``: its
    execute_reply status, msg_id and the input requests seen."""
    msg_id = str(kernel.kc.execute(code, allow_stdin=True))
    requests = []
    reply = None
    deadline = time.monotonic() + 60
    while reply is None and time.monotonic() < deadline:
        try:
            request = kernel.kc.get_stdin_msg(timeout=0.2)
        except queue.Empty:
            try:
                answer_msg = kernel.kc.get_shell_msg(timeout=0.05)
            except queue.Empty:
                continue
            if answer_msg["parent_header"].get("msg_id") == msg_id:
                reply = answer_msg["content"]
            continue
        requests.append(request["content"])
        kernel.kc.input(answer)
    assert reply is not None, "the cell did not finish"
    kernel.wait_for(
        lambda m: (
            m["parent_header"].get("msg_id") == msg_id
            and m["msg_type"] == "status"
            and m["content"]["execution_state"] == "idle"
        )
    )
    return str(reply["status"]), msg_id, requests


def notebook_of(kernel: Kernel, cells: list[tuple[str, str]]) -> str:
    """The .ipynb text a frontend would save for ``(source, msg_id)`` cells."""
    nb = nbformat.v4.new_notebook()
    for source, msg_id in cells:
        cell = nbformat.v4.new_code_cell(source)
        for message in kernel.of(msg_id):
            if message["msg_type"] in ("stream", "display_data", "execute_result", "error"):
                cell.outputs.append(nbformat.v4.output_from_msg(message))
        nb.cells.append(cell)
    return str(nbformat.writes(nb))


def test_login_asks_for_a_password_uses_it_and_leaves_no_trace(tmp_path):
    emulator = Emulator(speed=0.05, api_key=KEY)  # answers 401 to any other key
    server = serve(emulator)
    kernel = Kernel(
        {
            "EACHLABS_BASE_URL": server.url,
            "EACHLABS_HOME": str(tmp_path / "home"),
            "EACHLABS_OUTPUT_DIR": str(tmp_path / "out"),
        },
        cwd=str(tmp_path),
    )
    try:
        kernel.execute("import eachlabs_widgets as el\n%load_ext eachlabs_widgets", timeout=60)
        cells = []
        for source in ("el.login()", "%eachgen login"):
            status, msg_id, requests = run_answering(kernel, source, f"  {KEY} \n")
            assert status == "ok"
            assert [r["password"] for r in requests] == [True]
            assert KEY not in requests[0]["prompt"]
            cells.append((source, msg_id))
        source = "%%eachgen flux-2-turbo-text-to-image --seed 3 -o g\na fox"
        msg_id = kernel.submit(source)
        reply = kernel.wait_idle(msg_id, 60)
        assert reply["status"] == "ok", reply
        cells.append((source, msg_id))
        assert emulator.stats.requests.get("create") == 1  # accepted: the key typed was sent
        saved = notebook_of(kernel, cells)
        assert "set for this process" in saved
        assert KEY not in saved and KEY[-6:] not in saved
        assert all(KEY not in str(m["content"]) for m in kernel.messages)
    finally:
        kernel.stop()
        server.close()


def test_without_stdin_login_says_to_use_the_environment(tmp_path):
    kernel = Kernel({"EACHLABS_HOME": str(tmp_path / "home")}, cwd=str(tmp_path))
    try:
        # a frontend without a person at it (nbconvert, papermill) runs cells without stdin
        msg_id = kernel.kc.execute("import eachlabs_widgets as el\nel.login()", allow_stdin=False)
        reply = kernel.wait_idle(msg_id, 60)
        assert reply["status"] == "error"
        assert reply["ename"] == "ConfigurationError"
        assert "EACHLABS_API_KEY in the environment" in reply["evalue"]
    finally:
        kernel.stop()
