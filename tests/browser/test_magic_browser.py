"""``%%eachgen`` in JupyterLab as a person sees it: a live card while it runs, then the static
result in its place, which the saved notebook keeps without any widget state."""

from __future__ import annotations

import json
import time
import urllib.request
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
    open_lab(page, lab, "magic.ipynb")

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


BACKGROUND = """\
%%eachgen flux-2-turbo-text-to-image --seed 21 --background -o bg
a red fox in fresh snow"""
FAILING = """\
%%eachgen flux-2-turbo-text-to-image
[moderate] a bird"""
STATIC = ".jp-OutputArea-output img[src^='data:image/jpeg']"


def open_lab(page: Any, lab: Any, name: str) -> None:
    """Open notebook ``name`` in JupyterLab and run its first cell (the setup)."""
    page.goto(f"{lab.url}/lab/tree/{name}?token={lab.token}&reset")
    page.wait_for_selector(f"{CELL} .cm-content", timeout=30_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=30_000)
    for _ in range(6):  # right after load the kernel may look idle before it is connected
        run_cell(page, 0)
        try:
            page.wait_for_selector(f"{CELL} >> nth=0 >> text=eachgen settings", timeout=5_000)
            break
        except Exception:  # playwright's TimeoutError
            continue


def test_background_card_error_once_saved_and_reopened(servers, browser, artifacts):
    lab = servers["launch"]("lab", "background.ipynb", (SETUP, BACKGROUND, FAILING))
    page = browser.new_page()
    open_lab(page, lab, "background.ipynb")

    # --background: the cell returns at once; its card (with a Cancel button) keeps updating
    run_cell(page, 1)
    cell = page.locator(f"{CELL} >> nth=1")
    cell.locator(".eachlabs-card").first.wait_for(timeout=15_000)
    expect(cell.locator(".widget-button:has-text('Cancel')")).to_have_count(1)
    cell.screenshot(path=artifacts / "magic-lab-background-running.png")
    # when it ends, the card is replaced by the static result (update_display_data)
    cell.locator(STATIC).first.wait_for(timeout=40_000)
    expect(cell.locator(".eachlabs-card")).to_have_count(0)
    expect(cell.locator(STATIC)).to_have_count(1)
    assert cell.locator(STATIC).first.get_attribute("alt") == "a red fox in fresh snow"
    cell.screenshot(path=artifacts / "magic-lab-background-done.png")

    # a failed prediction is said once, in one line
    run_cell(page, 2)
    failing = page.locator(f"{CELL} >> nth=2")
    failing.locator(
        ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
    ).wait_for(timeout=30_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=30_000)
    text = failing.locator(".jp-Cell-outputArea").inner_text()
    assert text.count("content moderation") == 1, text
    assert "Traceback" not in text and "content_moderation" not in text
    failing.screenshot(path=artifacts / "magic-lab-error-once.png")

    # saved, then reopened without a kernel: the image is in the notebook itself
    page.keyboard.press("Control+s")
    saved = lab.root / "background.ipynb"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "data:image/jpeg" not in saved.read_text():
        time.sleep(0.2)
    notebook = json.loads(saved.read_text())
    outputs = json.dumps(notebook["cells"][1]["outputs"])
    assert outputs.count("data:image/jpeg;base64,") == 1 and '"image/jpeg"' not in outputs
    for kernel in json.load(urllib.request.urlopen(f"{lab.url}/api/kernels?token={lab.token}")):
        request = urllib.request.Request(
            f"{lab.url}/api/kernels/{kernel['id']}?token={lab.token}", method="DELETE"
        )
        urllib.request.urlopen(request)
    reopened = browser.new_page()
    reopened.goto(f"{lab.url}/lab/tree/background.ipynb?token={lab.token}&reset")
    again = reopened.locator(f"{CELL} >> nth=1")
    again.locator(STATIC).first.wait_for(timeout=30_000)
    expect(again.locator(STATIC)).to_have_count(1)
    expect(reopened.locator(f"{CELL} >> nth=2 >> text=content moderation")).to_have_count(1)
    reopened.locator(".jp-Notebook").screenshot(path=artifacts / "magic-lab-reopened.png")


FOREGROUND = """\
%%eachgen flux-2-turbo-text-to-image --seed 22
a red fox in fresh snow"""


def test_result_and_error_once_in_voila(servers, browser, artifacts):
    # Voila runs the notebook before the page connects: a cell's result must be final when the
    # cell ends (a background card's later updates do not reach a Voila page; its note says
    # how to get the result).
    voila = servers["launch"]("voila", "voila-magic.ipynb", (SETUP, FOREGROUND, FAILING))
    page = browser.new_page()
    page.goto(f"{voila.url}/?token={voila.token}")
    page.wait_for_selector(STATIC, timeout=90_000)
    expect(page.locator(".eachlabs-card")).to_have_count(0)
    expect(page.locator(STATIC)).to_have_count(1)
    assert page.locator(STATIC).first.get_attribute("alt") == "a red fox in fresh snow"
    page.wait_for_selector("text=content moderation", timeout=30_000)
    body = page.locator("body").inner_text()
    assert body.count("content moderation") == 1 and "content_moderation" not in body
    page.screenshot(path=artifacts / "magic-voila-result-and-error.png")


def test_background_card_gives_way_to_its_result_in_voila(servers, browser, artifacts):
    # Voila shows no display update sent after the notebook ran: the card's own widget view
    # receives the result there, and the page says nothing about a kernel restart.
    voila = servers["launch"]("voila", "voila-background.ipynb", (SETUP, BACKGROUND))
    page = browser.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.goto(f"{voila.url}/?token={voila.token}")
    result = ".eachlabs-run img[src^='data:image/jpeg']"
    try:
        page.wait_for_selector(result, timeout=90_000)
    except Exception:
        page.screenshot(path=artifacts / "magic-voila-background-failed.png")
        for shown in page.get_by_text("Click to show javascript error").all():
            shown.click()  # the widget manager's own account of the failure
        said = "\n".join(console[-40:])
        raise AssertionError(f"{page.locator('body').inner_text()[-3000:]}\n{said}") from None
    expect(page.locator(".eachlabs-card")).to_have_count(0)
    expect(page.locator(".eachlabs-orphan")).to_have_count(0)
    expect(page.locator(result)).to_have_count(1)
    assert page.locator(result).first.get_attribute("alt") == "a red fox in fresh snow"
    page.screenshot(path=artifacts / "magic-voila-background.png")


REAL_TIME = SETUP.replace('EACHLABS_EMULATOR_SPEED="0.15"', 'EACHLABS_EMULATOR_SPEED="1"')
SWEEP = """\
%%eachgen flux-2-turbo-text-to-image --seed 31,32,33,34
a red fox in fresh snow"""
SINGLE = """\
%%eachgen flux-2-turbo-text-to-image --seed 35
a red fox in fresh snow"""
#: How far a cell's height may move from its live tiles to its result (px): the line saying
#: how to cancel a waiting cell goes with the run. Cards stacked one under another, replaced
#: by a grid, moved a 4-run sweep's cell by 150 px.
STEADY = 32
DRAWN = """([cell, runs]) => {
  const tiles = [...cell.querySelectorAll('.eachlabs-tile')];
  const parts = runs > 1 ? 3 : 2;  // (a title,) the picture's box, the caption
  return tiles.length === runs && (runs === 1 || !!cell.querySelector('.eachlabs-summary'))
    && tiles.every(t => t.children.length >= parts && t.querySelector('.eachlabs-status, img')
                        && t.querySelector('.eachlabs-card-head .widget-html-content > div'));
}"""
FOLLOW = """(cell) => {
  const area = cell.querySelector('.jp-Cell-outputArea');
  window.eachlabsHeights = [];
  new ResizeObserver(() => window.eachlabsHeights.push(area.getBoundingClientRect().height))
    .observe(area);
}"""


def output_height(cell: Any) -> float:
    return float(
        cell.locator(".jp-Cell-outputArea").evaluate("e => e.getBoundingClientRect().height")
    )


def heights_from_live_to_result(page: Any, index: int, runs: int, artifacts: Any, name: str):
    """The output's height once the live tiles are drawn, then every height it takes until
    the static result stands in their place."""
    run_cell(page, index)
    cell = page.locator(f"{CELL} >> nth={index}")
    page.wait_for_function(DRAWN, arg=[cell.element_handle(), runs])
    live = output_height(cell)
    cell.element_handle().evaluate(FOLLOW)
    cell.screenshot(path=artifacts / f"magic-lab-{name}-live.png")
    cell.locator(STATIC).nth(runs - 1).wait_for(timeout=60_000)
    expect(cell.locator(".eachlabs-card")).to_have_count(0)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
    cell.screenshot(path=artifacts / f"magic-lab-{name}-result.png")
    return live, [*page.evaluate("window.eachlabsHeights"), output_height(cell)]


def test_a_cell_keeps_its_height_when_its_live_tiles_give_way_to_the_result(
    servers, browser, artifacts
):
    lab = servers["launch"]("lab", "steady.ipynb", (REAL_TIME, SWEEP, SINGLE))
    page = browser.new_page()
    open_lab(page, lab, "steady.ipynb")

    live, after = heights_from_live_to_result(page, 1, 4, artifacts, "sweep")
    print(f"4-run sweep: live {live:.1f} px, then {[round(h, 1) for h in after]}")
    assert live > 2 * 160  # two rows of tiles, each with a picture's box
    assert max(abs(h - live) for h in after) <= STEADY, (live, after)
    cell = page.locator(f"{CELL} >> nth=1")
    expect(cell.locator(".eachlabs-grid")).to_have_count(1)  # the static grid

    live, after = heights_from_live_to_result(page, 2, 1, artifacts, "single")
    print(f"one run: live {live:.1f} px, then {[round(h, 1) for h in after]}")
    assert live > 256  # the picture's box
    assert max(abs(h - live) for h in after) <= STEADY, (live, after)


BUDGET_SETUP = """\
import os
os.environ.update(EACHLABS_BASE_URL="emulator", EACHLABS_EMULATOR_SPEED="0.15")
%load_ext eachlabs_widgets
%config EachGen.budget = 0.02
%eachgen config"""
TWO_DOLLARS = """\
from IPython.display import display
from eachlabs_widgets._display.tables import TextView
display(TextView("spent $0.016 of $0.020 budget"))"""


def test_dollar_amounts_show_as_written_not_as_math(servers, browser, artifacts):
    # JupyterLab typesets text between two "$" of an HTML output as LaTeX: the budget's
    # "$0.000 of $0.020 budget" became italic math with its spaces gone.
    lab = servers["launch"]("lab", "dollars.ipynb", (BUDGET_SETUP, TWO_DOLLARS))
    page = browser.new_page()
    open_lab(page, lab, "dollars.ipynb")
    run_cell(page, 1)
    page.wait_for_selector(f"{CELL} >> nth=1 >> text=budget", timeout=15_000)
    time.sleep(1.0)  # MathJax typesets after the output is attached
    for index in (0, 1):
        output = page.locator(f"{CELL} >> nth={index} >> .jp-OutputArea-output").first
        text = output.inner_text()
        assert "of $0.020 budget" in text, text
        assert output.locator("mjx-container, .MathJax").count() == 0
    page.locator(f"{CELL} >> nth=0").screenshot(path=artifacts / "dollars-config.png")
