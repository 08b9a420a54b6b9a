"""The panel's history as a person finds things again in JupyterLab (headless Chromium): the
search box, a star on a tile, the starred filter, the lightbox's star and Download all."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from .test_panel_browser import PANEL, assert_legible, open_lab, seed_journal, shot

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser


def test_search_star_and_download_all(servers: Any, browser: Any, artifacts: Any, tmp_path) -> None:
    fox = seed_journal(tmp_path, "a red fox in fresh snow")
    owl = seed_journal(tmp_path, "a barn owl at night")
    lab = servers["launch"]("lab", theme="JupyterLab Light")
    page = browser.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    open_lab(page, lab)
    tiles = page.locator(f"{PANEL} .eachlabs-tile")
    expect(page.locator(f"{PANEL} .eachlabs-tile[data-key^='{fox}']")).to_have_count(1)
    expect(page.locator(f"{PANEL} .eachlabs-tile[data-key^='{owl}']")).to_have_count(1)

    # words and prefixes: "red fo" leaves the fox alone
    search = page.locator(f"{PANEL} .eachlabs-strip-search")
    search.fill("red fo")
    expect(tiles).to_have_count(1)
    expect(tiles.first).to_have_attribute("data-key", f"{fox}:0")
    expect(page.locator(f"{PANEL} .eachlabs-strip-note")).to_contain_text("found")
    page.locator(f"{PANEL} .eachlabs-strip-row").scroll_into_view_if_needed()
    shot(page, artifacts / "find-search.png")

    # a star on the tile: kept in the journal
    star = page.locator(f"{PANEL} .eachlabs-tile-box .eachlabs-star").first
    expect(star).to_have_attribute("aria-label", "Star")
    star.click()
    expect(page.locator(f"{PANEL} .eachlabs-tile-box .eachlabs-star").first).to_have_attribute(
        "aria-pressed", "true"
    )
    search.fill("")
    expect(tiles).to_have_count(2)
    page.locator(f"{PANEL} .eachlabs-starred-only").click()
    expect(tiles).to_have_count(1)
    expect(tiles.first).to_have_attribute("data-key", f"{fox}:0")
    shot(page, artifacts / "find-starred.png")
    assert_legible(page)  # the search, the filter, the stars: every label readable
    page.locator(f"{PANEL} .eachlabs-starred-only").click()
    expect(tiles).to_have_count(2)

    # the lightbox's star, on the owl
    page.locator(f"{PANEL} .eachlabs-tile[data-key^='{owl}']").click()
    box = page.locator(".eachlabs-lightbox")
    expect(box).to_be_visible()
    lightbox_star = box.locator(".eachlabs-star")
    expect(lightbox_star).to_have_text("☆ Star")
    lightbox_star.click()
    expect(lightbox_star).to_have_text("★ Starred")
    page.keyboard.press("Escape")
    page.locator(f"{PANEL} .eachlabs-starred-only").click()
    expect(tiles).to_have_count(2)

    # Download all: the zip of what is shown, handed over by the browser
    with page.expect_download() as info:
        page.locator(f"{PANEL} .eachlabs-download-all").click()
    download = info.value
    assert download.suggested_filename.startswith("eachlabs-images-")
    data = Path(download.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        meta = [json.loads(x) for x in archive.read("metadata.jsonl").decode().splitlines()]
    assert "contact_sheet.png" in names
    assert sorted(m["prediction_id"] for m in meta) == sorted([fox, owl])
