"""The Panel as a person sees it: JupyterLab 4 and Voila in Debian's headless Chromium.

Screenshots are written to ``test-artifacts/`` at the repository root.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser

PANEL = ".eachlabs-panel"
SLOW = "gpt-image-v1-5-text-to-image"  # 22 s of model time, 4.4 s at the notebook's speed 0.2


def pick_and_generate(page: Any, slug: str, prompt: str, search: str) -> None:
    """Search, pick ``slug``, type the prompt, click Generate."""
    page.fill(f"{PANEL} .eachlabs-picker input", search)
    select = page.locator(f"{PANEL} .eachlabs-picker select")
    label = select.locator(f"option[value^='{slug} ']").get_attribute("value")
    select.select_option(label)
    # the form is rebuilt for the new model: type into the new one's prompt
    prompt_box = page.locator(f"{PANEL} .eachlabs-model-{slug} .widget-textarea textarea").first
    prompt_box.fill(prompt)
    generate = page.locator(f"{PANEL} .eachlabs-generate")
    page.wait_for_function(
        "() => !document.querySelector('.eachlabs-panel .eachlabs-generate').disabled"
    )
    generate.click()


def generate_and_see_images(page: Any) -> None:
    pick_and_generate(
        page,
        "flux-2-flash-text-to-image",
        "a lighthouse at dusk, oil painting",
        search="flash",
    )
    page.wait_for_selector(f"{PANEL} .eachlabs-tile img", timeout=20_000)
    page.wait_for_selector(f"{PANEL} .eachlabs-viewer img", state="visible")
    page.wait_for_selector(f"{PANEL} .eachlabs-hist-item img")
    status = page.locator(f"{PANEL} .eachlabs-run .eachlabs-status").first
    assert status.inner_text() == "success"
    size = page.evaluate(
        "() => { const i = document.querySelector('.eachlabs-panel .eachlabs-tile img');"
        " return [i.naturalWidth, i.naturalHeight]; }"
    )
    assert size[0] > 50 and size[1] == 128  # a real, decoded thumbnail


def cancel_a_slow_run(page: Any) -> None:
    pick_and_generate(page, SLOW, "a slow cathedral", search="gpt")
    page.wait_for_selector(f"{PANEL} .eachlabs-run .eachlabs-status:has-text('processing')")
    page.locator(f"{PANEL} .eachlabs-cancel").click()
    page.wait_for_selector(
        f"{PANEL} .eachlabs-run .eachlabs-status:has-text('cancelled')", timeout=10_000
    )
    assert "cancelled" in page.locator(f"{PANEL} .eachlabs-message").inner_text()


def run_first_cell(page: Any) -> None:
    """Run the notebook's cell until the panel shows. Right after the page loads, the kernel
    can look idle before its connection is up, and a cell run then is dropped: run again."""
    for _ in range(6):
        page.click(".jp-Notebook .jp-Cell .cm-content >> nth=0")
        page.keyboard.press("Control+Enter")
        try:
            page.wait_for_selector(
                f"{PANEL} .eachlabs-picker select option", state="attached", timeout=5_000
            )
            return
        except Exception:  # playwright's TimeoutError
            continue
    raise AssertionError("the panel never showed in JupyterLab")


def test_jupyterlab(servers, browser, artifacts):
    lab = servers["launch"]("lab")
    page = browser.new_page()
    page.goto(f"{lab.url}/lab/tree/panel.ipynb?token={lab.token}&reset")
    page.wait_for_selector(".jp-Notebook .jp-Cell .cm-content", timeout=30_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=30_000)
    run_first_cell(page)

    generate_and_see_images(page)
    page.locator(PANEL).screenshot(path=artifacts / "panel-lab-after-run.png")

    # copy as Python shows the text of the run
    page.locator(f"{PANEL} .widget-button:has-text('Copy as Python')").click()
    expect(page.locator(f"{PANEL} .eachlabs-copy textarea")).to_have_value(
        re.compile(r"eachlabs_widgets\.generate\(\s*'flux-2-flash-text-to-image',\s*'a lighthouse")
    )

    cancel_a_slow_run(page)
    page.locator(PANEL).screenshot(path=artifacts / "panel-lab-cancelled.png")


def test_voila(servers, browser, artifacts):
    voila = servers["launch"]("voila")
    page = browser.new_page()
    page.goto(f"{voila.url}/?token={voila.token}")
    page.wait_for_selector(
        f"{PANEL} .eachlabs-picker select option", state="attached", timeout=30_000
    )
    generate_and_see_images(page)
    page.locator(PANEL).screenshot(path=artifacts / "panel-voila-after-run.png")
    cancel_a_slow_run(page)
