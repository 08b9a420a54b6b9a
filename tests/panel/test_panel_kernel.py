"""The Panel in a real ipykernel, driven like a frontend does: shell ``comm_msg`` in, raw iopub out.

Background updates (the card's status, the thumbnails) arrive after the cell that displayed
the panel went idle, so they are read from raw iopub rather than through nbclient.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.kernel

SECRET = "sk-kernel-SECRET-must-not-leak-42"


class Kernel:
    def __init__(self, km: Any, kc: Any) -> None:
        self.km, self.kc = km, kc
        self.iopub: list[dict[str, Any]] = []

    def _read(self, timeout: float) -> dict[str, Any] | None:
        try:
            msg = self.kc.get_iopub_msg(timeout=timeout)
        except Exception:  # queue.Empty
            return None
        self.iopub.append(msg)
        return msg

    def execute(self, code: str, timeout: float = 30) -> str:
        """Run a cell; its stdout. Raises on an error reply."""
        msg_id = self.kc.execute(code)
        out, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self._read(0.2)
            if msg is None or msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                out.append(content["text"])
            elif kind == "error":
                raise AssertionError("\n".join(content["traceback"]))
            elif kind == "status" and content["execution_state"] == "idle":
                return "".join(out)
        raise AssertionError(f"cell did not finish: {code}")

    def comm(self, comm_id: str, data: dict[str, Any]) -> None:
        msg = self.kc.session.msg("comm_msg", {"comm_id": comm_id, "data": data})
        self.kc.shell_channel.send(msg)

    def click(self, comm_id: str) -> None:
        self.comm(comm_id, {"method": "custom", "content": {"event": "click"}})

    def type(self, comm_id: str, value: str) -> None:
        self.comm(comm_id, {"method": "update", "state": {"value": value}, "buffer_paths": []})

    def wait_for(self, found: Callable[[dict[str, Any]], bool], timeout: float = 20) -> dict:
        """The first iopub message (read so far or from now on) for which ``found`` holds."""
        for msg in self.iopub:
            if found(msg):
                return msg
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self._read(0.2)
            if msg is not None and found(msg):
                return msg
        raise AssertionError("no such iopub message")


def state_update(msg: dict[str, Any], comm_ids: set[str], text: str) -> bool:
    content = msg["content"]
    if msg["msg_type"] != "comm_msg" or content.get("comm_id") not in comm_ids:
        return False
    data = content.get("data", {})
    return data.get("method") == "update" and text in json.dumps(data.get("state", {}))


def image_opened(msg: dict[str, Any]) -> bool:
    if msg["msg_type"] != "comm_open":
        return False
    state = msg["content"].get("data", {}).get("state", {})
    buffers = msg.get("buffers") or []
    return state.get("_model_name") == "ImageModel" and any(len(b) > 500 for b in buffers)


@pytest.fixture
def kernel(tmp_path) -> Iterator[Kernel]:
    from jupyter_client.manager import start_new_kernel

    env = dict(os.environ)
    env.update(
        EACHLABS_BASE_URL="emulator",
        EACHLABS_EMULATOR_SPEED="0.01",
        EACHLABS_HOME=str(tmp_path / "home"),
        EACHLABS_API_KEY=SECRET,
    )
    km, kc = start_new_kernel(startup_timeout=60, env=env, cwd=str(tmp_path))
    try:
        yield Kernel(km, kc)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_generate_and_cancel_through_comm_messages(kernel):
    kernel.execute(
        "from eachlabs_widgets.panel import Panel\n"
        "p = Panel(model='flux-2-turbo-text-to-image')\n"
        "display(p)"
    )
    ids = json.loads(
        kernel.execute(
            "import json\n"
            "await p.ready()\n"
            "def ids():\n"
            "    return {'prompt': p.form.fields['prompt'].text.model_id,\n"
            "            'generate': p.generate_button.model_id,\n"
            "            'cancel': p.cancel_button.model_id}\n"
            "print(json.dumps(ids()))"
        )
    )
    kernel.type(ids["prompt"], "a fox typed in the frontend")
    kernel.click(ids["generate"])  # the cell is idle: the kernel handles the click on its own
    card = kernel.wait_for(
        lambda m: m["msg_type"] == "comm_msg" and "eachlabs-status" in json.dumps(m["content"])
    )
    header = {card["content"]["comm_id"]}
    kernel.wait_for(lambda m: state_update(m, header, ">success</span>"))
    kernel.wait_for(image_opened)
    assert kernel.execute("print(p.generations[0].inputs['prompt'])").strip() == (
        "a fox typed in the frontend"
    )

    # a slow run, cancelled with the Cancel button
    ids = json.loads(
        kernel.execute(
            "from eachlabs_widgets._embedded import shared_emulator\n"
            "shared_emulator().speed = 0.5\n"
            "p.select('gpt-image-v1-5-text-to-image', value={'prompt': 'slow'})\n"
            "await p.ready()\n"
            "print(json.dumps(ids()))"
        )
    )
    seen = len(kernel.iopub)
    kernel.click(ids["generate"])
    kernel.wait_for(lambda m: state_update(m, {ids["cancel"]}, '"disabled": false'))
    processing = kernel.wait_for(
        lambda m: (
            kernel.iopub.index(m) >= seen
            and m["msg_type"] == "comm_msg"
            and ">processing</span>" in json.dumps(m["content"])
        )
    )
    kernel.click(ids["cancel"])
    kernel.wait_for(lambda m: state_update(m, {processing["content"]["comm_id"]}, ">cancelled<"))
    status = kernel.execute(
        "print((await p.client.get_prediction(p.runs[0].card.prediction_id)).status)"
    )
    assert status.strip() == "cancelled"  # cancelled on the service

    everything = json.dumps([m["content"] for m in kernel.iopub])
    assert SECRET not in everything  # the key never travels as widget state
