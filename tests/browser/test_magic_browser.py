"""``%%eachgen`` in JupyterLab as a person sees it: a live card while it runs, then the static
result in its place, which the saved notebook keeps without any widget state."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser

SETUP = """\
import os
os.environ.update(EACHLABS_BASE_URL="emulator", EACHLABS_EMULATOR_SPEED="0.15")
%load_ext eachlabs_widgets
%eachgen config"""
MAGIC = """\
%%eachgen flux-2-max-text-to-image,flux-2-flash-text-to-image --seed 7 -o pair
a lighthouse at dusk, oil painting"""
CELL = ".jp-Notebook .jp-Cell"


def run_cell(page: Any, index: int) -> None:
    page.click(f"{CELL} .cm-content >> nth={index}")
    page.keyboard.press("Control+Enter")


def test_live_card_then_static_result(servers, browser, artifacts):
    lab = servers["launch"]("lab", "magic.ipynb", (SETUP, MAGIC))
    page = browser.new_page()
    page.goto(f"{lab.url}/lab/tree/magic.ipynb?token={lab.token}&reset")
    page.wait_for_selector(f"{CELL} .cm-content", timeout=30_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=30_000)
    for _ in range(6):  # right after load the kernel may look idle before it is connected
        run_cell(page, 0)
        try:
            page.wait_for_selector(f"{CELL} >> nth=0 >> text=eachgen settings", timeout=5_000)
            break
        except Exception:  # playwright's TimeoutError
            continue

    run_cell(page, 1)
    card = page.locator(f"{CELL} >> nth=1 >> .eachlabs-card").first
    card.wait_for(timeout=15_000)
    page.wait_for_selector(f"{CELL} >> nth=1 >> .eachlabs-status:has-text('processing')")
    page.locator(f"{CELL} >> nth=1").screenshot(path=artifacts / "magic-lab-running.png")

    # When both end, the cards give way to the static grid: two labelled images. (A finished
    # card shows its thumbnails too, as widget images: wait for the static ones, data: URIs.)
    static = f"{CELL} >> nth=1 >> .jp-OutputArea-output img[src^='data:image/jpeg']"
    page.wait_for_selector(static, timeout=30_000)
    expect(page.locator(f"{CELL} >> nth=1 >> .eachlabs-card")).to_have_count(0)
    output = page.locator(f"{CELL} >> nth=1 >> .jp-OutputArea-output").first
    text = output.inner_text()
    assert "flux-2-max-text-to-image" in text and "flux-2-flash-text-to-image" in text
    assert "emulator" in text and "seed 7" in text
    expect(page.locator(static)).to_have_count(2)
    page.locator(f"{CELL} >> nth=1").screenshot(path=artifacts / "magic-lab-done.png")

    # Saved, the notebook holds the images themselves and no widget views.
    page.keyboard.press("Control+s")
    saved = lab.root / "magic.ipynb"
    deadline = time.monotonic() + 10
    while (
        time.monotonic() < deadline
        and "image/jpeg" not in saved.read_text()
        and ("data:image" not in saved.read_text())
    ):
        time.sleep(0.2)
    notebook = json.loads(saved.read_text())
    outputs = notebook["cells"][1]["outputs"]
    kinds = [kind for o in outputs for kind in o.get("data", {})]
    assert "application/vnd.jupyter.widget-view+json" not in kinds
    assert "text/html" in kinds and "data:image/jpeg;base64," in json.dumps(outputs)
