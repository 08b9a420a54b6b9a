"""Fair grids and the grid's sheet in a real ipykernel, against the emulator served on
loopback: the header names the shared seed, ``NAME.sheet`` is a PNG in the output folder, also
for a ``--background`` handle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from eachlabs_widgets._journal.metadata import parse_a1111

from ..kernel_driver import Kernel, shown_text, widget_states
from .conftest import FLUX, kernel_on_emulator

pytestmark = pytest.mark.kernel


served = kernel_on_emulator("kernel-grids", speed=0.05)


def test_a_sweep_shares_one_seed_said_in_the_header_and_its_sheet_is_saved(served):
    emulator, kernel = served
    workdir = kernel.workdir
    before = emulator.stats.predictions_created
    reply, messages = kernel.run(
        f"%%eachgen {FLUX} --image_size square,landscape_16_9,portrait_4_3 -o g\na red fox",
        timeout=60,
    )
    assert reply["status"] == "ok", reply
    assert emulator.stats.predictions_created == before + 3
    facts = json.loads(
        kernel.execute("import json; print(json.dumps([x.seed for x in g] + [str(g.sheet)]))")
    )
    seeds, sheet = facts[:3], Path(facts[3])
    assert len(set(seeds)) == 1 and seeds[0] is not None
    assert f"seed {seeds[0]} for every cell" in shown_text(messages)
    # in the output folder, relative to the notebook as the pictures' paths are
    assert sheet.parent == Path("eachgen_outputs") and (workdir / sheet).is_file()
    with Image.open(workdir / sheet) as image:
        settings = parse_a1111(image.text["parameters"])["settings"]  # type: ignore[attr-defined]
    assert settings["Seed"] == str(seeds[0]) and settings["X Type"] == "image_size"


def test_seed_random_and_a_background_grids_sheet(served):
    _, kernel = served
    workdir = kernel.workdir
    reply, _ = kernel.run(
        f"%%eachgen {FLUX} --seed random --image_size square,square_hd -o bg\na cat"
    )
    assert reply["status"] == "ok", reply
    out = kernel.execute("r = bg\nprint(json.dumps([len({x.seed for x in r}), str(r.sheet)]))")
    distinct, sheet = json.loads(out)
    assert distinct == 2 and (workdir / sheet).is_file()
    reply, _ = kernel.run(
        f"%%eachgen {FLUX} --background --image_size square,square_hd -o bg2\na dog"
    )
    assert reply["status"] == "ok", reply
    out = kernel.execute("bg2.result(timeout=60)\nprint(bg2.sheet)")
    assert (workdir / out.strip()).is_file()


# -- cost first ----------------------------------------------------------------------------------


def _learn_a_price(kernel: Kernel) -> float:
    out = kernel.execute(f"%%eachgen {FLUX} --seed 9999 -o first\na price to learn\n")
    out = kernel.execute("print(first.cost)")
    return float(out.strip())


def _answer(kernel: Kernel, code: str, reply: str) -> tuple[str, dict, list]:
    """Run ``code`` as a frontend that shows ``input()`` boxes; answer the first with
    ``reply``. Returns the question, the execute reply and the cell's messages."""
    msg_id = kernel.kc.execute(code, store_history=False, allow_stdin=True)
    request = kernel.kc.get_stdin_msg(timeout=30)
    assert request["msg_type"] == "input_request"
    kernel.kc.input(reply)
    result = kernel.wait_idle(msg_id, 60)
    return request["content"]["prompt"], result, kernel.of(msg_id)


def test_a_grid_above_the_limit_asks_in_the_notebook_and_headless_says_add_yes(served):
    emulator, kernel = served
    price = _learn_a_price(kernel)
    kernel.execute(f"%config EachGen.confirm_above = {price * 2}")
    cell = f"%%eachgen {FLUX} --image_size square,square_hd,portrait_4_3 -o c\na heron\n"
    before = emulator.stats.predictions_created
    question, reply, _ = _answer(kernel, cell, "n")
    assert f"3 predictions of {FLUX}: est. ${price * 3:.3f}" in question and "[y/N]" in question
    assert reply["status"] == "ok" and emulator.stats.predictions_created == before
    question, reply, messages = _answer(kernel, cell, "y")
    assert reply["status"] == "ok" and emulator.stats.predictions_created == before + 3
    # the estimate is in the grid's header from its first paint, before any create
    headers = [
        state["value"]
        for _, state in widget_states(messages)
        if "eachlabs-summary" in str(state.get("value", ""))
    ]
    assert headers and f"est. ${price * 3:.3f}" in headers[0]
    # where no one can answer (nbconvert, papermill): it stops and says to add --yes
    msg_id = kernel.kc.execute(cell.replace("a heron", "an egret"), allow_stdin=False)
    reply = kernel.wait_idle(msg_id, 60)
    assert reply["status"] == "error" and emulator.stats.predictions_created == before + 3
    assert "add --yes" in shown_text(kernel.of(msg_id))
    reply, _ = kernel.run(cell.replace("-o c", "--yes -o c").replace("a heron", "an egret"), 60)
    assert reply["status"] == "ok" and emulator.stats.predictions_created == before + 6
    kernel.execute("%config EachGen.confirm_above = 0.5")


def test_three_varying_inputs_are_titled_grids_in_the_saved_output(served):
    _, kernel = served
    reply, messages = kernel.run(
        f"%%eachgen {FLUX} --seed 1,2 --image_size square,square_hd -o p\na wren\n---\na crow\n",
        timeout=60,
    )
    assert reply["status"] == "ok", reply
    finals = [
        m["content"]["data"].get("text/html", "")
        for m in messages
        if m["msg_type"] == "update_display_data"
    ]
    assert finals, "the cards were not replaced by the result"
    final = finals[-1]
    assert final.count("eachlabs-page-title") == 2 and final.count("eachlabs-matrix") == 2
    assert final.index(">a wren</div>") < final.index(">a crow</div>")
