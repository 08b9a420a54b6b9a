"""The Panel in a real ipykernel, driven like a frontend does: shell ``comm_msg`` in, raw iopub out.

Background updates (the card's status, the thumbnails) arrive after the cell that displayed
the panel went idle, so they are read from raw iopub rather than through nbclient.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from ..kernel_driver import Kernel

pytestmark = pytest.mark.kernel

SECRET = "sk-kernel-SECRET-must-not-leak-42"


def state_update(msg: dict[str, Any], comm_ids: set[str], text: str) -> bool:
    content = msg["content"]
    if msg["msg_type"] != "comm_msg" or content.get("comm_id") not in comm_ids:
        return False
    data = content.get("data", {})
    return data.get("method") == "update" and text in json.dumps(data.get("state", {}))


def image_sent(msg: dict[str, Any], comm_id: str) -> bool:
    """A picture of real size reached the stage's image widget (as a binary buffer)."""
    if msg["msg_type"] != "comm_msg" or msg["content"].get("comm_id") != comm_id:
        return False
    buffers = msg.get("buffers") or []
    return any(len(b) > 500 for b in buffers)


def snapshot_updated(msg: dict[str, Any], text: str) -> bool:
    """The panel's static copy (its output's text/html) was updated in place."""
    if msg["msg_type"] != "update_display_data":
        return False
    return text in msg["content"].get("data", {}).get("text/html", "")


@pytest.fixture
def kernel(tmp_path) -> Iterator[Kernel]:
    env = {
        "EACHLABS_BASE_URL": "emulator",
        "EACHLABS_EMULATOR_SPEED": "0.01",
        "EACHLABS_HOME": str(tmp_path / "home"),
        "EACHLABS_API_KEY": SECRET,
    }
    kernel = Kernel(env, str(tmp_path))
    try:
        yield kernel
    finally:
        kernel.stop()


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
            "            'keys': p.shortcuts.model_id,\n"
            "            'stage': p.viewer.image.model_id,\n"
            "            'cancel': p.cancel_button.model_id}\n"
            "print(json.dumps(ids()))"
        )
    )
    kernel.type(ids["prompt"], "a fox typed in the frontend")
    # Ctrl+Enter in the browser: the shortcut widget's message; the cell is idle, the kernel
    # handles it on its own
    kernel.comm(ids["keys"], {"method": "custom", "content": {"event": "generate"}})
    card = kernel.wait_for(
        lambda m: m["msg_type"] == "comm_msg" and "eachlabs-status" in json.dumps(m["content"])
    )
    header = {card["content"]["comm_id"]}
    kernel.wait_for(lambda m: state_update(m, header, ">success</span>"))
    kernel.wait_for(lambda m: image_sent(m, ids["stage"]))
    snapshot = kernel.wait_for(lambda m: snapshot_updated(m, "1 result"))
    assert "<img src='data:image/jpeg;base64," in snapshot["content"]["data"]["text/html"]
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
    seen = len(kernel.messages)
    kernel.click(ids["generate"])
    kernel.wait_for(lambda m: state_update(m, {ids["cancel"]}, '"disabled": false'))
    processing = kernel.wait_for(
        lambda m: (
            kernel.messages.index(m) >= seen
            and m["msg_type"] == "comm_msg"
            and ">processing</span>" in json.dumps(m["content"])
        )
    )
    kernel.click(ids["cancel"])
    kernel.wait_for(lambda m: state_update(m, {processing["content"]["comm_id"]}, ">cancelled<"))
    status = kernel.execute(
        "print((await p.client.get_prediction(p.runs[0].prediction_id)).status)"
    )
    assert status.strip() == "cancelled"  # cancelled on the service

    everything = json.dumps([m["content"] for m in kernel.messages])
    assert SECRET not in everything  # the key never travels as widget state


WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def test_a_displayed_panel_is_one_widget_and_one_html_copy(kernel):
    """The cell's outputs as a front end stores them: the widget alone, then the static copy
    with no widget type (so a notebook reopened without a kernel shows the copy, and at most
    one "model not found"), updated in place by its display id as results arrive."""
    reply, messages = kernel.run(
        "from eachlabs_widgets.panel import Panel\n"
        "p = Panel(model='flux-2-turbo-text-to-image', value={'prompt': 'a fox'})\n"
        "p"
    )
    assert reply["status"] == "ok"
    shown = [m for m in messages if m["msg_type"] in ("display_data", "execute_result")]
    assert len(shown) == 2, [m["content"]["data"].keys() for m in shown]
    widget, copy = (m["content"] for m in shown)
    assert WIDGET_MIME in widget["data"] and "text/html" not in widget["data"]
    assert set(copy["data"]) == {"text/plain", "text/html"}
    display_id = copy["transient"]["display_id"]
    hidden = kernel.execute("print(p.snapshot_class)").strip()
    assert hidden in copy["data"]["text/html"]  # the class the live panel hides

    kernel.execute("await p.ready()\np.generate()\nawait p.wait()")
    update = kernel.wait_for(lambda m: snapshot_updated(m, "1 result"))
    assert update["content"]["transient"]["display_id"] == display_id
    assert set(update["content"]["data"]) == {"text/plain", "text/html"}
    assert "<img src='data:image/jpeg;base64," in update["content"]["data"]["text/html"]
