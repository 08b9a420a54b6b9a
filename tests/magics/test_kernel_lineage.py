"""Variations in a real ipykernel, on an emulator served on loopback by this process:
``g.vary()`` and ``g.remix()`` from a cell show live cards, leave the result and at most one
line (as ``generate()`` does), and record their parent; ``--parent`` in ``%%eachgen`` does
too."""

from __future__ import annotations

import json

import pytest

from ..kernel_driver import Message, final_outputs, poll_status, shown_text, statuses, wait_until
from .conftest import FLUX, SLOW, kernel_on_emulator

pytestmark = pytest.mark.kernel
WIDGET = "application/vnd.jupyter.widget-view+json"


served = kernel_on_emulator("kernel-lineage", speed=0.2)


def test_vary_and_remix_in_a_cell_show_cards_and_record_the_parent(served):
    emulator, kernel = served
    reply, _ = kernel.run(f"%%eachgen {FLUX} --seed 4 -o g\na fox on a hill", timeout=60)
    assert reply["status"] == "ok", reply
    before = emulator.stats.predictions_created
    reply, messages = kernel.run("v = g.vary(n=2)\nv", timeout=60)
    assert reply["status"] == "ok", reply
    assert emulator.stats.predictions_created == before + 2
    assert statuses(messages).count("success") >= 2  # a live card per variation
    shown = [m for m in messages if m["msg_type"] == "execute_result"]
    assert shown and "<img" in shown[-1]["content"]["data"]["text/html"]  # the row of them
    out = kernel.stdout(
        "import json\n"
        "r = g.remix('a fox on a hill at night')\n"
        "print(json.dumps({'kids': [k.parent for k in v], 'seeds': [k.seed for k in v],"
        " 'remix': [r.parent, r.seed], 'chain': [e.id for e in el.lineage(r)], 'root': g.id}))"
    )
    said = json.loads(out)
    assert said["kids"] == [said["root"]] * 2 and 4 not in said["seeds"]
    assert said["remix"] == [said["root"], 4]
    assert said["chain"][1:] == [said["root"]]


def test_parent_option_of_the_magic_in_a_kernel(served):
    _, kernel = served
    reply, _ = kernel.run(f"%%eachgen {FLUX} --seed 8 -o p\na heron", timeout=60)
    assert reply["status"] == "ok", reply
    reply, _ = kernel.run(
        f"%%eachgen {FLUX} --seed 9 --parent {{p.id}} -o c\na heron at dawn", timeout=60
    )
    assert reply["status"] == "ok", reply
    out = kernel.stdout("print(c.parent == p.id, [e.id for e in el.lineage(c)] == [c.id, p.id])")
    assert out.split() == ["True", "True"]


def _all_closed(messages: list[Message]) -> bool:
    opened = {m["content"]["comm_id"] for m in messages if m["msg_type"] == "comm_open"}
    closed = {m["content"]["comm_id"] for m in messages if m["msg_type"] == "comm_close"}
    return bool(opened) and opened <= closed


def test_vary_leaves_the_result_and_one_line_not_a_line_per_run(served):
    emulator, kernel = served
    kernel.execute(f"%%eachgen {FLUX} --seed 5 -o base\na wren on a wire")
    parent = kernel.execute("print(base.id[:8])").strip()
    before = emulator.stats.predictions_created
    reply, messages = kernel.run("v = base.vary(n=3)\nv", timeout=60)
    assert reply["status"] == "ok", reply
    assert emulator.stats.predictions_created == before + 3
    # live while they ran: one display of cards, each of which saw its run end
    live = [m for m in messages if m["msg_type"] == "display_data"]
    assert len(live) == 1 and WIDGET in live[0]["content"]["data"]
    assert statuses(messages).count("success") >= 3
    # what the cell keeps: one line where the cards were, then the row of three pictures
    outputs = final_outputs(messages)
    assert [o["output_type"] for o in outputs] == ["display_data", "execute_result"]
    line, result = (o["data"] for o in outputs)
    assert WIDGET not in line and _all_closed(messages)
    text = line["text/plain"]
    assert text.startswith(f"✓ 3 variations of {parent} · {FLUX}") and "\n" not in text
    assert "saved in eachgen_outputs" in text
    assert result["text/html"].count("data:image/jpeg;base64,") == 3
    # no run's own "✓ … saved FILE" line is left: its files are named by the result only
    names = kernel.execute("print(*[k.paths[0].name[-20:] for k in v])").split()
    assert len(names) == 3 and not any(name in json.dumps(line) for name in names)
    assert not any(str(o["data"].get("text/plain", "")).startswith(f"✓ {FLUX}") for o in outputs)


def test_remix_leaves_the_result_and_its_line_as_generate_does(served):
    _, kernel = served
    kernel.execute(f"%%eachgen {FLUX} --seed 6 -o base\na wren in the rain")
    parent = kernel.execute("print(base.id[:8])").strip()
    reply, messages = kernel.run("base.remix('a wren in the snow')", timeout=60)
    assert reply["status"] == "ok", reply
    outputs = final_outputs(messages)
    assert [o["output_type"] for o in outputs] == ["display_data", "execute_result"]
    line, result = (o["data"] for o in outputs)
    assert line["text/plain"].startswith(f"✓ {FLUX}") and f"from {parent}" in line["text/plain"]
    assert WIDGET not in line and _all_closed(messages)
    assert result["text/html"].count("data:image/jpeg;base64,") == 1
    # a failed remix ends the cell with one line, the service's message, said once
    reply, messages = kernel.run("base.remix('[moderate] a wren')", timeout=60)
    assert reply["status"] == "error" and reply["ename"] == "PredictionFailedError"
    (error,) = [o for o in final_outputs(messages) if o["output_type"] == "error"]
    (said,) = error["traceback"]
    assert "content moderation" in said and "Traceback" not in said
    assert shown_text(messages).count("content moderation") == 1


def test_a_journal_generation_varies_with_one_line_too(served):
    emulator, kernel = served
    kernel.execute(f"%%eachgen {FLUX} --seed 7 -o base\na wren at dusk")
    parent = kernel.execute("print(base.id[:8])").strip()
    before = emulator.stats.predictions_created
    # rebuilt from the journal: no client made it, it runs as generate() does
    reply, messages = kernel.run("found = el.find('wren at dusk')[0]\nw = found.vary(2)")
    assert reply["status"] == "ok", reply
    assert emulator.stats.predictions_created == before + 2
    assert statuses(messages).count("success") >= 2
    (line,) = final_outputs(messages)  # the result not shown: the line says it ended
    assert line["data"]["text/plain"].startswith(f"✓ 2 variations of {parent}")


def test_an_interrupted_vary_cancels_its_predictions_and_says_so_in_one_line(served):
    emulator, kernel = served
    emulator.speed = 0.01  # the parent quickly; its variations take 4 s at the module's speed
    try:
        kernel.execute(f"%%eachgen {SLOW} --seed 1 -o storm\na storm")
    finally:
        emulator.speed = 0.2
    before = emulator.stats.predictions_created
    msg_id = kernel.submit("v2 = storm.vary(n=2)")
    wait_until(lambda: emulator.stats.predictions_created == before + 2)
    made = emulator.stats.prediction_ids[-2:]
    kernel.km.interrupt_kernel()
    reply = kernel.wait_idle(msg_id)
    assert reply["status"] == "error" and reply["ename"] == "GenerationInterrupted"
    assert all(pid in reply["evalue"] for pid in made) and "not billed" in reply["evalue"]
    (error,) = [o for o in final_outputs(kernel.of(msg_id)) if o["output_type"] == "error"]
    assert len(error["traceback"]) == 1  # one line, no traceback
    assert [poll_status(emulator, pid) for pid in made] == ["cancelled"] * 2
    assert kernel.execute("print('v2' in globals())").strip() == "False"
