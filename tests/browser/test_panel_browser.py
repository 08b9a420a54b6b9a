"""The Panel as a person sees it: JupyterLab 4 (Light and Dark), Voila and Notebook 7, in
Debian's headless Chromium.

Screenshots are written to ``test-artifacts/`` at the repository root.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

expect = pytest.importorskip("playwright.sync_api").expect

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

PANEL = ".eachlabs-panel"
SLOW = "gpt-image-v1-5-text-to-image"  # 22 s of model time, 4.4 s at the notebook's speed 0.2
FLASH = "flux-2-flash-text-to-image"

#: Every visible text of the panel (and its overlays): its colour blended over its effective
#: background (the backgrounds of it and its ancestors, composited), and their contrast ratio
#: as WCAG 2 defines it. Inactive controls (disabled) are exempt, as WCAG exempts them.
CONTRAST_JS = """
(selector) => {
  const parse = (c) => {
    const m = c && c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat([1]);
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const background = (el) => {
    const chain = [];
    for (let n = el; n; n = n.parentElement) chain.push(n);
    let bg = [255, 255, 255, 1];
    for (const n of chain.reverse()) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c && c[3] > 0) bg = over(c, bg);
    }
    return bg;
  };
  const out = [];
  for (const root of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const seen = new Set();
    while (walker.nextNode()) {
      const node = walker.currentNode;
      const text = node.textContent.trim();
      const el = node.parentElement;
      if (!text || !el || seen.has(el)) continue;
      seen.add(el);
      if (el.closest("textarea, select, option, input, [aria-hidden='true']")) continue;
      if (el.closest("[disabled], .mod-disabled, [aria-disabled='true']")) continue;
      const box = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if (!box.width || !box.height || style.visibility === "hidden") continue;
      let opacity = 1;
      for (let n = el; n; n = n.parentElement) opacity *= parseFloat(getComputedStyle(n).opacity);
      const bg = background(el);
      const c = parse(style.color);
      const fg = over([c[0], c[1], c[2], c[3] * opacity], bg);
      const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
      out.push({
        text: text.slice(0, 50),
        ratio: Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100,
        color: style.color,
        background: bg.slice(0, 3).map(Math.round).join(","),
        where: (el.className || el.tagName).toString().slice(0, 60),
      });
    }
  }
  return out;
}
"""


def assert_legible(page: Any, selector: str = PANEL) -> int:
    """Every label of ``selector`` has a contrast of at least 4.5:1; returns how many."""
    texts = page.evaluate(CONTRAST_JS, selector)
    assert texts, f"no text found in {selector}"
    poor = [t for t in texts if t["ratio"] < 4.5]
    assert not poor, json.dumps(poor, indent=1)
    return len(texts)


#: Every text of ``selector`` a person cannot read whole: the value or placeholder of an input
#: (or a select's choice) wider than its box, and any text cut by an ancestor that hides what
#: overflows (an ellipsis, a line clamp); scrolling boxes (the history strip) do not cut.
CLIPPED_JS = """
(selector) => {
  const out = [];
  const ctx = document.createElement("canvas").getContext("2d");
  const textWidth = (text, el, pseudo) => {
    const s = getComputedStyle(el, pseudo);
    ctx.font = `${s.fontStyle} ${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
    return ctx.measureText(text).width;
  };
  const room = (el) => {
    const s = getComputedStyle(el);
    return el.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
  };
  const where = (el) => (el.closest("[class*='eachlabs-field-']") || el).className.toString()
    .split(" ").filter((c) => c.startsWith("eachlabs")).join(" ").slice(0, 80);
  for (const root of document.querySelectorAll(selector)) {
    for (const el of root.querySelectorAll("input[type=text], input[type=number], input:not([type]), select")) {
      if (!el.getBoundingClientRect().width) continue;
      let text = el.value, pseudo = null;
      if (el.tagName === "SELECT") text = el.selectedOptions[0] ? el.selectedOptions[0].text : "";
      else if (!text) { text = el.placeholder; pseudo = "::placeholder"; }
      if (!text) continue;
      const need = textWidth(text, el, pseudo);
      if (need > room(el) + 1)
        out.push({text, kind: pseudo ? "placeholder" : "value", need: Math.round(need),
                  room: Math.round(room(el)), where: where(el)});
    }
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode, parent = node.parentElement;
      if (!node.textContent.trim() || !parent || parent.closest("textarea, select, [hidden]")) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      const r = range.getBoundingClientRect();
      if (!r.width) continue;
      for (let a = parent; a && a !== root.parentElement; a = a.parentElement) {
        const s = getComputedStyle(a);
        if (s.overflowX === "visible" && s.overflowY === "visible") continue;
        const b = a.getBoundingClientRect();
        const scrolls = ["auto", "scroll"].includes(s.overflowX) || ["auto", "scroll"].includes(s.overflowY);
        const cut = r.right > b.right + 1 || r.left < b.left - 1 ||
          (s.overflowY === "hidden" && r.bottom > b.bottom + 1) ||
          (s.textOverflow === "ellipsis" && a.scrollWidth > a.clientWidth + 1);
        if (cut && !scrolls)
          out.push({text: node.textContent.trim().slice(0, 80), kind: "text", where: where(a)});
        if (cut) break;
      }
    }
  }
  return out;
}
"""


#: How far a box's content is wider than the box, and what sticks out (the deepest first).
WIDER = """(box) => {
  const right = box.getBoundingClientRect().right;
  const out = [...box.querySelectorAll('*')]
    .filter(e => e.getBoundingClientRect().right > right + 0.5)
    .map(e => `${e.tagName}.${[...e.classList].join('.')} +${
      (e.getBoundingClientRect().right - right).toFixed(1)}`);
  return {by: box.scrollWidth - box.clientWidth, sticking_out: out.reverse().slice(0, 6)};
}"""


def assert_whole(page: Any, selector: str = PANEL) -> None:
    """No label, placeholder, value or caption of ``selector`` is cut off."""
    clipped = page.evaluate(CLIPPED_JS, selector)
    assert clipped == [], json.dumps(clipped, indent=1)


def check_slugs_fit(page: Any) -> None:
    """Every model of the catalogue, once chosen, fits the picker's box whole."""
    combo = page.locator(f"{PANEL} .eachlabs-combo-input")
    combo.click()
    combo.fill("")
    expect(page.locator(f"{PANEL} .eachlabs-combo-option").first).to_be_visible()
    wide = combo.evaluate(
        """(input) => {
          const s = getComputedStyle(input);
          const ctx = document.createElement("canvas").getContext("2d");
          ctx.font = `${s.fontStyle} ${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
          const room = input.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
          const slugs = [...document.querySelectorAll('.eachlabs-panel .eachlabs-combo-option')]
            .map((o) => o.dataset.slug);
          return {count: slugs.length,
                  wide: slugs.filter((slug) => ctx.measureText(slug).width > room)};
        }"""
    )
    assert wide["count"] >= 20 and wide["wide"] == [], wide
    combo.press("Escape")
    page.locator(f"{PANEL} .eachlabs-title").click()  # leave the box: it shows the choice again
    expect(combo).to_have_value("flux-2-turbo-text-to-image")
    assert "Flux 2" in (combo.get_attribute("title") or "")  # the title, on hover


def wait_for_panel(page: Any) -> None:
    page.wait_for_selector(f"{PANEL} .eachlabs-combo-input", timeout=30_000)
    page.wait_for_function(
        "() => document.querySelectorAll('.eachlabs-panel .eachlabs-field').length > 0",
        timeout=30_000,
    )


def dismiss_dialogs(page: Any) -> None:
    """A slow start can raise JupyterLab's kernel dialog: accept what it proposes."""
    dialog = page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept")
    if dialog.count():
        dialog.first.click()
        page.wait_for_timeout(300)


def run_first_cell(page: Any) -> None:
    """Run the notebook's cell until the panel shows. Right after the page loads, the kernel
    can look idle before its connection is up, and a cell run then is dropped: run again."""
    for _ in range(6):
        dismiss_dialogs(page)
        page.click(".jp-Notebook .jp-Cell .cm-content >> nth=0")
        page.keyboard.press("Shift+Enter")
        try:
            page.wait_for_selector(f"{PANEL} .eachlabs-combo-input", timeout=6_000)
            wait_for_panel(page)
            return
        except Exception:  # playwright's TimeoutError
            continue
    raise AssertionError("the panel never showed")


def open_lab(page: Any, server: Any, app: str = "lab") -> None:
    where = "lab/tree" if app == "lab" else "notebooks"
    page.goto(f"{server.url}/{where}/panel.ipynb?token={server.token}&reset")
    page.wait_for_selector(".jp-Notebook .jp-Cell .cm-content", timeout=30_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=30_000)
    run_first_cell(page)


def pick(page: Any, search: str, slug: str) -> None:
    """Pick ``slug`` with the keyboard: type, arrows, Enter."""
    combo = page.locator(f"{PANEL} .eachlabs-combo-input")
    combo.click()
    combo.fill(search)
    options = page.locator(f"{PANEL} .eachlabs-combo-option")
    expect(options.first).to_be_visible()
    slugs = options.evaluate_all("(os) => os.map((o) => o.dataset.slug)")
    assert slug in slugs, slugs
    active = page.locator(f"{PANEL} .eachlabs-combo-option.eachlabs-active")
    while active.get_attribute("data-slug") != slug:
        combo.press("ArrowDown")
    combo.press("Enter")
    page.wait_for_selector(f"{PANEL} .eachlabs-model-{slug}", timeout=15_000)


def prompt_box(page: Any, slug: str) -> Any:
    return page.locator(f"{PANEL} .eachlabs-model-{slug} .eachlabs-field-prompt textarea")


def generate_with_keys(page: Any, slug: str, prompt: str, search: str) -> None:
    """Pick, type the prompt, press Ctrl+Enter in it; wait for the result on the stage."""
    pick(page, search, slug)
    box = prompt_box(page, slug)
    box.fill(prompt)
    box.press("Control+Enter")
    # the new run's card is scrolled into sight, even below a tall form
    page.wait_for_function(
        "() => { const c = document.querySelector('.eachlabs-panel .eachlabs-runs .eachlabs-run');"
        " if (!c) return false; const r = c.getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= window.innerHeight; }",
        timeout=15_000,
    )
    try:
        page.wait_for_selector(f"{PANEL} .eachlabs-status-success", timeout=30_000)
    except Exception:
        page.screenshot(path=ARTIFACTS / "panel-failed-generate.png")
        raise
    page.wait_for_selector(f"{PANEL} img.eachlabs-stage-image", state="visible")
    all_thumbs(page)


def all_thumbs(page: Any) -> None:
    """Every tile's thumbnail arrived. They are asked for as tiles come into view, so the
    strip is scrolled into view first, as a person looking at the history would."""
    page.locator(f"{PANEL} .eachlabs-strip-row").scroll_into_view_if_needed()
    try:
        page.wait_for_function(
            "() => { const i = [...document.querySelectorAll('.eachlabs-panel .eachlabs-tile img')];"
            " return i.length > 0 && i.every((e) => e.src.startsWith('blob:')); }",
            timeout=15_000,
        )
    except Exception:
        page.screenshot(path=ARTIFACTS / "panel-failed-thumbs.png")
        tiles = page.evaluate(
            "() => [...document.querySelectorAll('.eachlabs-panel .eachlabs-tile')].map((t) =>"
            " { const r = t.getBoundingClientRect(), i = t.querySelector('img');"
            " return [t.dataset.key, Math.round(r.top), i ? i.src.slice(0, 12) : null]; })"
        )
        raise AssertionError(f"thumbnails missing: {tiles}") from None


def shot(page: Any, path: Any) -> None:
    """What a person sees: the page, scrolled so that the panel starts at the top."""
    page.evaluate(
        "() => { const p = document.querySelector('.eachlabs-panel');"
        " p.scrollIntoView({block: 'start'}); }"
    )
    page.wait_for_timeout(150)
    page.screenshot(path=path)


def check_layout(page: Any, artifacts: Any, name: str) -> None:
    """At 1280×900: two columns, the newest result within the first 900 px of the panel,
    the panel at most 1,400 px tall."""
    page.set_viewport_size({"width": 1280, "height": 900})
    all_thumbs(page)
    shot(page, artifacts / f"{name}-1280.png")
    box = page.evaluate(
        """() => {
          const r = (s) => document.querySelector(s).getBoundingClientRect();
          const p = r('.eachlabs-panel'), img = r('.eachlabs-panel img.eachlabs-stage-image');
          const l = r('.eachlabs-panel .eachlabs-left'), g = r('.eachlabs-panel .eachlabs-right');
          return {top: p.top, height: p.height, imgBottom: img.bottom, imgHeight: img.height,
                  left: [l.left, l.right], right: [g.left, g.right], rightTop: g.top, leftTop: l.top};
        }"""
    )
    assert box["imgHeight"] > 200, box  # large, not a thumbnail
    assert box["imgBottom"] - box["top"] <= 900, box
    assert box["height"] <= 1400, box
    assert box["right"][0] >= box["left"][1], box  # side by side


def check_stacked(page: Any, artifacts: Any, name: str) -> None:
    """Below about 700 px the columns stack, and no label overlaps its control."""
    page.set_viewport_size({"width": 620, "height": 1000})
    page.wait_for_timeout(300)
    info = page.evaluate(
        """() => {
          const r = (e) => e.getBoundingClientRect();
          const l = r(document.querySelector('.eachlabs-panel .eachlabs-left'));
          const g = r(document.querySelector('.eachlabs-panel .eachlabs-right'));
          const overlaps = [];
          for (const f of document.querySelectorAll('.eachlabs-panel .eachlabs-field')) {
            const label = f.querySelector('.eachlabs-field-label');
            const control = f.querySelector('.eachlabs-field-control');
            if (!label || !control || !r(label).height) continue;
            const a = r(label), b = r(control);
            if (a.bottom > b.top + 1 && a.top < b.bottom) overlaps.push(label.textContent);
          }
          return {leftBottom: l.bottom, rightTop: g.top, leftX: l.left, rightX: g.left,
                  overlaps};
        }"""
    )
    assert info["rightTop"] >= info["leftBottom"] - 1, info  # stacked
    assert abs(info["leftX"] - info["rightX"]) < 2, info  # aligned
    assert info["overlaps"] == [], info
    check_header(page)
    assert_whole(page)
    shot(page, artifacts / f"{name}-narrow.png")
    page.set_viewport_size({"width": 1280, "height": 900})


def check_header(page: Any) -> None:
    """The header's texts are whole: wrapped, never cut ("session: $0.015 · 3 ru")."""
    clipped = page.evaluate(
        """() => {
          const panel = document.querySelector('.eachlabs-panel').getBoundingClientRect();
          const header = document.querySelector('.eachlabs-panel .eachlabs-header');
          const box = header.getBoundingClientRect();
          const out = [];
          if (header.scrollHeight > header.clientHeight + 1)  // squashed: a line hidden
            out.push({header: header.scrollHeight, shown: header.clientHeight});
          for (const e of document.querySelectorAll(
              '.eachlabs-panel .eachlabs-header .widget-html, ' +
              '.eachlabs-panel .eachlabs-header .widget-html-content')) {
            const r = e.getBoundingClientRect();
            if (!r.width) continue;
            if (e.scrollWidth > e.clientWidth + 1 || r.right > panel.right + 1 ||
                r.bottom > box.bottom + 1)
              out.push({text: e.textContent, scroll: e.scrollWidth, client: e.clientWidth,
                        right: r.right, panelRight: panel.right});
          }
          return out;
        }"""
    )
    assert clipped == [], clipped
    expect(page.locator(f"{PANEL} .eachlabs-spend")).to_contain_text("runs")


def visible_outputs(page: Any) -> list[str]:
    """The texts of the first cell's outputs a person sees (hidden ones left out)."""
    return (
        page.locator(".jp-Notebook .jp-Cell >> nth=0")
        .locator(".jp-OutputArea-child")
        .evaluate_all(
            "(os) => os.filter((o) => o.getBoundingClientRect().height > 0)"
            ".map((o) => o.innerText.slice(0, 80))"
        )
    )


def seed_journal(root: Path, prompt: str) -> str:
    """An earlier session's run in the journal the servers' kernels use; its prediction id."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EACHLABS_")}
    env.update(
        EACHLABS_BASE_URL="emulator",
        EACHLABS_EMULATOR_SPEED="0.05",
        EACHLABS_HOME=str(root / "home"),
        EACHLABS_OUTPUT_DIR=str(root / "outputs"),
    )
    code = f"import eachlabs_widgets as el\nprint(el.generate('{FLASH}', {prompt!r}).id)"
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def check_lightbox(page: Any, artifacts: Any, name: str) -> None:
    tiles = page.locator(f"{PANEL} .eachlabs-tile")
    total = tiles.count()
    assert total >= 2
    expect(tiles.nth(1)).to_have_attribute("aria-label", f"View image 2 of {total}")
    tiles.nth(1).click()
    box = page.locator(".eachlabs-lightbox")
    expect(box).to_be_visible()
    counter = box.locator(".eachlabs-lightbox-counter")
    expect(counter).to_have_text(f"Image 2 of {total}")
    download = box.locator("a.eachlabs-download")
    expect(download).to_have_attribute("href", re.compile(r"^blob:"))
    assert re.search(r"\.(png|jpg|webp)$", download.get_attribute("download") or "")
    # the full-size picture, not the thumbnail
    page.wait_for_function(
        "() => document.querySelector('.eachlabs-lightbox-image').naturalWidth > 500"
    )
    assert "seed" in box.locator(".eachlabs-params").inner_text()
    page.screenshot(path=artifacts / f"{name}-lightbox.png")
    assert_legible(page, ".eachlabs-lightbox")
    check_lightbox_narrow(page, artifacts, name)
    page.keyboard.press("ArrowRight")
    expect(counter).to_have_text(f"Image {3 if total > 2 else 1} of {total}")
    page.keyboard.press("ArrowLeft")
    expect(counter).to_have_text(f"Image 2 of {total}")
    with page.expect_download() as info:
        download.click()
    assert info.value.suggested_filename == download.get_attribute("download")
    page.keyboard.press("Escape")
    expect(box).to_have_count(0)


def check_lightbox_narrow(page: Any, artifacts: Any, name: str) -> None:
    """In a 600 px window the picture, its two arrows and the facts do not overlap, and all
    of them are inside the window."""
    wide = page.viewport_size
    page.set_viewport_size({"width": 600, "height": 800})
    try:
        page.wait_for_timeout(300)
        page.screenshot(path=artifacts / f"{name}-lightbox-narrow.png")
        boxes = page.evaluate(
            """() => {
                const q = (s) => document.querySelector('.eachlabs-lightbox ' + s);
                const r = (e) => { const b = e.getBoundingClientRect();
                    return [b.left, b.top, b.right, b.bottom]; };
                const stage = q('.eachlabs-lightbox-stage');
                const [prev, next] = stage.querySelectorAll('button');
                return {image: r(q('.eachlabs-lightbox-image')), side: r(q('.eachlabs-lightbox-side')),
                        prev: r(prev), next: r(next), width: window.innerWidth};
            }"""
        )
        image, side = boxes["image"], boxes["side"]
        overlap = not (
            image[2] <= side[0] or side[2] <= image[0] or image[3] <= side[1] or side[3] <= image[1]
        )
        assert not overlap, boxes
        for arrow in (boxes["prev"], boxes["next"]):
            assert arrow[0] >= 0 and arrow[2] <= boxes["width"], boxes
        assert boxes["prev"][2] <= image[0] and image[2] <= boxes["next"][0], boxes
    finally:
        page.set_viewport_size(wide)


def check_compare(page: Any, artifacts: Any, name: str) -> None:
    page.locator(f"{PANEL} .eachlabs-compare-toggle").click()
    tiles = page.locator(f"{PANEL} .eachlabs-tile")
    tiles.nth(0).click()
    tiles.nth(1).click()
    box = page.locator(".eachlabs-compare")
    expect(box).to_be_visible()
    rows = box.locator(".eachlabs-diff tr")
    expect(rows.first).to_be_visible()
    text = box.locator(".eachlabs-diff").inner_text()
    assert "seed" in text or "prompt" in text or "model" in text, text
    box.locator("button:has-text('Slider')").click()
    expect(box.locator(".eachlabs-compare-slider")).to_be_visible()
    box.locator("input[type=range]").fill("30")
    page.screenshot(path=artifacts / f"{name}-compare.png")
    assert_legible(page, ".eachlabs-compare")
    page.keyboard.press("Escape")  # however it closes, compare mode ends with it
    expect(box).to_have_count(0)
    toggle = page.locator(f"{PANEL} .eachlabs-compare-toggle")
    expect(toggle).to_have_text("Compare")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(page.locator(f"{PANEL} .eachlabs-tile[aria-pressed='true']")).to_have_count(0)
    tiles.nth(0).click()  # a tile opens the lightbox again
    expect(page.locator(".eachlabs-lightbox")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator(".eachlabs-lightbox")).to_have_count(0)


def check_pristine_form(page: Any) -> None:
    """No "required" error before Generate; after an empty Generate, one on the prompt."""
    expect(page.locator(f"{PANEL} .eachlabs-field-error .eachlabs-line")).to_have_count(0)
    label = page.locator(f"{PANEL} .eachlabs-field-num_images .eachlabs-field-label")
    expect(label).to_contain_text("Number of images")
    help_line = page.locator(f"{PANEL} .eachlabs-field-prompt .eachlabs-help")
    expect(help_line).to_be_visible()
    font = prompt_box(page, "flux-2-turbo-text-to-image").evaluate(
        "(e) => getComputedStyle(e).fontFamily"
    )
    assert "mono" not in font.lower(), font  # the prompt is prose: the interface font
    arrows = page.locator(f"{PANEL} .widget-dropdown select").evaluate_all(
        "(ss) => ss.map((s) => getComputedStyle(s).backgroundImage)"
    )
    assert arrows and all(a.startswith("url(") for a in arrows), arrows  # the arrow is drawn
    page.locator(f"{PANEL} .eachlabs-generate").click()
    expect(page.locator(f"{PANEL} .eachlabs-field-prompt .eachlabs-field-error")).to_contain_text(
        "required"
    )
    message = page.locator(f"{PANEL} .eachlabs-message")
    expect(message).to_contain_text("Prompt: required")
    # fixing the prompt and typing a bad seed: the line follows the form
    prompt_box(page, "flux-2-turbo-text-to-image").fill("a cat")
    seed = page.locator(f"{PANEL} .eachlabs-field-seed input")
    seed.fill("abc")
    seed.press("Tab")
    expect(message).to_contain_text("Seed")
    expect(message).not_to_contain_text("Prompt")
    page.screenshot(path=ARTIFACTS / "panel-error-follows-form.png")
    seed.fill("")
    seed.press("Tab")
    expect(message).to_have_text("")
    prompt_box(page, "flux-2-turbo-text-to-image").fill("")


def expand_advanced(page: Any) -> None:
    header = page.locator(f"{PANEL} .eachlabs-form .jupyter-widget-Collapse-header").first
    if header.count():
        header.click()


@pytest.mark.parametrize("theme", ["JupyterLab Light", "JupyterLab Dark"])
def test_jupyterlab(servers, browser, artifacts, theme):
    name = "panel-lab-" + theme.split()[-1].lower()
    lab = servers["launch"]("lab", theme=theme)
    page = browser.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    open_lab(page, lab)
    dark = page.evaluate("() => document.body.dataset.jpThemeLight") == "false"
    assert dark is (theme == "JupyterLab Dark")

    check_pristine_form(page)
    expand_advanced(page)
    assert_legible(page)  # the form, pristine and with a "required" error
    assert_whole(page)  # the model's name, the seed's placeholder: whole, not cut
    shot(page, artifacts / f"{name}-form.png")
    check_slugs_fit(page)
    pick(page, "wan", "wan-v2-6-text-to-image")  # a seed with bounds, an image input
    expand_advanced(page)
    assert_whole(page)
    pick(page, "turbo trainer", "flux-turbo-trainer")  # the training images' area
    assert_whole(page)

    generate_with_keys(page, FLASH, "a lighthouse at dusk, oil painting", search="flash")
    # a second run with two images: the history has three
    box = prompt_box(page, FLASH)
    box.fill("a lighthouse at dawn, watercolour")
    page.locator(f"{PANEL} .eachlabs-generate").click()
    page.wait_for_function(
        "() => document.querySelectorAll('.eachlabs-panel .eachlabs-tile').length >= 2",
        timeout=30_000,
    )
    expect(page.locator(f"{PANEL} .eachlabs-generate")).to_contain_text("$")  # a price seen
    expect(page.locator(f"{PANEL} .eachlabs-spend")).to_contain_text("2 runs")
    assert_legible(page)  # results, captions, statuses
    # the static copy is in the page (for the saved notebook) but not shown twice
    page.wait_for_function(
        "() => [...document.querySelectorAll('.eachlabs-snapshot')]"
        ".some((e) => e.textContent.includes('2 results'))"
    )
    assert len(visible_outputs(page)) == 1, visible_outputs(page)
    check_layout(page, artifacts, name)
    assert_whole(page)  # the cards, the stage's caption, the names under the tiles

    # Save saves the image shown, once
    page.locator(f"{PANEL} .eachlabs-stage-actions .widget-button:has-text('Save')").click()
    expect(page.locator(f"{PANEL} .eachlabs-stage .eachlabs-line")).to_contain_text(
        re.compile("saved", re.I)
    )

    check_lightbox(page, artifacts, name)
    check_compare(page, artifacts, name)

    # copy as Python shows the text of the run
    page.locator(f"{PANEL} .widget-button:has-text('Copy as Python')").click()
    expect(page.locator(f"{PANEL} .eachlabs-copy textarea")).to_have_value(
        re.compile(r"eachlabs_widgets\.generate\(\s*'flux-2-flash-text-to-image',\s*'a lighthouse")
    )
    check_stacked(page, artifacts, name)

    # the saved notebook keeps a static copy of the results, not the widget's class name
    page.locator(".jp-Notebook").click()
    page.keyboard.press("Control+s")
    notebook = lab.root / "panel.ipynb"
    deadline = time.monotonic() + 15
    outputs: list[Any] = []
    while time.monotonic() < deadline:
        cells = json.loads(notebook.read_text())["cells"]
        outputs = cells[0].get("outputs", [])
        if any("2 results" in "".join(o.get("data", {}).get("text/html", "")) for o in outputs):
            break
        time.sleep(0.3)
    html = "".join("".join(o.get("data", {}).get("text/html", "")) for o in outputs)
    assert "2 results" in html and "<img src='data:image/jpeg;base64," in html, outputs
    plain = "".join("".join(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "Panel(children" not in plain

    # cancel a slow run from the panel
    pick(page, "gpt", SLOW)
    prompt_box(page, SLOW).fill("a slow cathedral")
    page.locator(f"{PANEL} .eachlabs-generate").click()
    page.wait_for_selector(f"{PANEL} .eachlabs-run .eachlabs-status:has-text('processing')")
    expect(page.locator(f"{PANEL} .eachlabs-generate")).to_contain_text("1 running")
    # the run's live card, the one the magic shows: status, bar, time left, emulator, Cancel
    card = page.locator(f"{PANEL} .eachlabs-run").first
    expect(card.locator(".eachlabs-progress")).to_be_visible()
    expect(card).to_contain_text("left")  # the time left, or that it is not known yet
    expect(card.locator(".eachlabs-emulator")).to_be_visible()
    expect(card.locator(".widget-button:has-text('Cancel')")).to_be_visible()
    card.scroll_into_view_if_needed()
    page.screenshot(path=artifacts / f"{name}-running.png")
    assert_legible(page)  # the card while it runs
    assert_whole(page)
    page.locator(f"{PANEL} .eachlabs-cancel").click()
    page.wait_for_selector(
        f"{PANEL} .eachlabs-run .eachlabs-status:has-text('cancelled')", timeout=10_000
    )
    cancelled = f"{PANEL} .eachlabs-run:has(.eachlabs-status:has-text('cancelled'))"
    expect(page.locator(cancelled).first).to_contain_text("not billed")
    left = page.locator(f"{PANEL} .eachlabs-left")  # no horizontal scrollbar under the runs
    overflow = left.evaluate(WIDER)
    assert overflow["by"] <= 1, overflow
    expect(page.locator(f"{PANEL} .eachlabs-message")).to_have_text("")  # nothing to go stale
    # three finished runs: the newest two as cards, the first folded into one line
    expect(page.locator(f"{PANEL} .eachlabs-run")).to_have_count(2)
    expect(page.locator(f"{PANEL} .eachlabs-earlier-runs")).to_contain_text("1 earlier run")
    assert_legible(page)
    shot(page, artifacts / f"{name}-cancelled.png")


def test_saved_notebook_shows_its_snapshot(servers, browser, artifacts, tmp_path):
    """Live: the panel once, its history from the journal. Saved, the kernel gone, reopened:
    the static copy (thumbnails, captions) and at most one "model not found". Exported with
    nbconvert: the same copy."""
    earlier = seed_journal(tmp_path, "an earlier session's harbour")
    lab = servers["launch"]("lab", theme="JupyterLab Light")
    page = browser.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    open_lab(page, lab)
    # JupyterLab is the user's own: the journal's earlier session is in the strip
    expect(page.locator(f"{PANEL} .eachlabs-tile[data-key^='{earlier}']")).to_have_count(1)
    generate_with_keys(page, FLASH, "a lighthouse at dusk, oil painting", search="flash")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.eachlabs-snapshot')]"
        ".some((e) => e.textContent.includes('1 result'))"
    )
    assert len(visible_outputs(page)) == 1, visible_outputs(page)  # no duplicate
    shot(page, artifacts / "panel-live-once.png")

    page.locator(".jp-Notebook").click()
    page.keyboard.press("Control+s")
    notebook = lab.root / "panel.ipynb"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and "1 result" not in notebook.read_text():
        time.sleep(0.3)
    outputs = json.loads(notebook.read_text())["cells"][0]["outputs"]
    kinds = [sorted(o.get("data", {})) for o in outputs]
    assert kinds == [
        ["application/vnd.jupyter.widget-view+json", "text/plain"],
        ["text/html", "text/plain"],
    ], kinds

    # the kernel goes away; the notebook is opened again
    for session in json.load(
        urllib.request.urlopen(f"{lab.url}/api/sessions?token={lab.token}", timeout=10)
    ):
        request = urllib.request.Request(
            f"{lab.url}/api/sessions/{session['id']}?token={lab.token}", method="DELETE"
        )
        urllib.request.urlopen(request, timeout=10)
    page.goto(f"{lab.url}/lab/tree/panel.ipynb?token={lab.token}&reset")
    page.wait_for_selector(".jp-Notebook .jp-Cell .cm-content", timeout=30_000)
    dismiss_dialogs(page)
    snapshot = page.locator(".jp-Notebook .eachlabs-snapshot")
    expect(snapshot).to_be_visible(timeout=15_000)
    expect(snapshot).to_contain_text("1 result")
    expect(snapshot).to_contain_text(FLASH)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-Notebook .eachlabs-snapshot img')]"
        ".some((i) => i.complete && i.naturalWidth > 50)"
    )
    page.wait_for_timeout(500)
    errors = page.locator(".jp-Notebook").inner_text().count("model not found")
    assert errors <= 1, errors
    page.locator(".jp-Notebook .eachlabs-snapshot").scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "panel-reopened.png")

    # exported
    done = subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", "html", str(notebook)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    exported = notebook.with_suffix(".html")
    page.goto(exported.as_uri())
    figure = page.locator(".eachlabs-snapshot")
    expect(figure).to_be_visible()
    expect(figure).to_contain_text("1 result")
    assert figure.locator("img").evaluate("(i) => i.naturalWidth") > 50
    page.screenshot(path=artifacts / "panel-nbconvert.png")


def test_voila(servers, browser, artifacts, tmp_path):
    # the server's user has a journal; a Voila visitor must not see it
    earlier = seed_journal(tmp_path, "someone else's secret garden")
    voila = servers["launch"]("voila")
    page = browser.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{voila.url}/?token={voila.token}")
    wait_for_panel(page)
    assert_legible(page)
    expect(page.locator(f"{PANEL} .eachlabs-strip-note")).to_have_text("Results appear here.")
    expect(page.locator(f"{PANEL} .eachlabs-tile")).to_have_count(0)
    generate_with_keys(page, FLASH, "a lighthouse at dusk, oil painting", search="flash")
    prompt_box(page, FLASH).fill("a lighthouse at dawn")
    page.locator(f"{PANEL} .eachlabs-generate").click()
    page.wait_for_function(
        "() => document.querySelectorAll('.eachlabs-panel .eachlabs-tile').length >= 2",
        timeout=30_000,
    )
    all_thumbs(page)
    shot(page, artifacts / "panel-voila-after-run.png")
    expect(page.locator(f"{PANEL} .eachlabs-tile[data-key^='{earlier}']")).to_have_count(0)
    assert "secret garden" not in page.locator(PANEL).inner_text()
    expect(page.locator(".eachlabs-snapshot")).to_be_hidden()  # the static copy: not twice
    check_lightbox(page, artifacts, "panel-voila")
    assert_legible(page)
    check_training_upload(page, artifacts, tmp_path)


def check_training_upload(page: Any, artifacts: Any, tmp_path: Path) -> None:
    """Twelve large pictures chosen for a trainer: the bar follows what the kernel received,
    then the count, thumbnails and the size in MB."""
    import random

    from PIL import Image

    rng = random.Random(7)
    files = []
    for index in range(12):
        path = tmp_path / f"face-{index:02}.png"
        noise = bytes(rng.getrandbits(8) for _ in range(560 * 560 * 3))  # ~0.9 MB as PNG
        Image.frombytes("RGB", (560, 560), noise).save(path)
        files.append(path)
    total = sum(p.stat().st_size for p in files)
    pick(page, "portrait trainer", "flux-lora-portrait-trainer")
    # the trainer's drop (the panel also has one for recalling an image's settings)
    drop = page.locator(f"{PANEL} .eachlabs-drop").filter(has_text="Choose images…")
    expect(drop.locator(".eachlabs-drop-choose")).to_have_text("Choose images…")
    drop.locator("input[type=file]").set_input_files([str(p) for p in files])
    status = drop.locator(".eachlabs-drop-status")
    expect(status).to_contain_text("Received 12 files", timeout=60_000)
    expect(status).to_contain_text(f"{total / 1e6:.1f} MB")
    # the bar moved piece by piece (one step per MB answered), not in one jump at the end
    assert int(drop.get_attribute("data-updates") or 0) > total // (1 << 20), total
    assert drop.locator("progress").evaluate("(p) => p.value") == 1
    training = page.locator(f"{PANEL} .eachlabs-training")
    expect(training).to_contain_text("12 images")
    expect(training.locator(".eachlabs-thumbs img")).to_have_count(12)
    expect(page.locator(f"{PANEL} .eachlabs-generate")).to_contain_text("Train")
    training.scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "panel-voila-training-upload.png")
    assert_legible(page, ".eachlabs-training")


def test_notebook7(servers, browser, artifacts):
    notebook = servers["launch"]("notebook")
    page = browser.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    open_lab(page, notebook, app="notebook")
    generate_with_keys(page, FLASH, "a lighthouse at dusk", search="flash")
    assert_legible(page)
    shot(page, artifacts / "panel-notebook7.png")


#: The lines a box's text takes (its height over its line height).
LINES_JS = """(e) => {
  const s = getComputedStyle(e);
  const line = parseFloat(s.lineHeight) || parseFloat(s.fontSize) * 1.2;
  return Math.round(e.getBoundingClientRect().height / line);
}"""


@pytest.mark.parametrize("theme", ["JupyterLab Light", "JupyterLab Dark"])
def test_vary_and_remix_with_lineage(servers, browser, artifacts, theme):
    """Vary on the stage makes four runs, each saying "from <short id>" (which shows the
    parent); the lightbox says it too, goes to the parent, and its Remix marks the form; the
    run generated from it says where it came from. Legible and whole in Light and Dark."""
    name = "lineage-" + theme.split()[-1].lower()
    lab = servers["launch"]("lab", theme=theme)
    page = browser.new_page()
    page.set_viewport_size({"width": 1280, "height": 900})
    open_lab(page, lab)
    generate_with_keys(page, FLASH, "a lighthouse at dusk, oil painting", search="flash")
    stage_from = page.locator(f"{PANEL} .eachlabs-stage-from")
    expect(stage_from).to_be_hidden()  # the first run was made from nothing

    tiles = page.locator(f"{PANEL} .eachlabs-tile")
    page.locator(f"{PANEL} .eachlabs-stage-actions .widget-button:has-text('Vary')").click()
    expect(page.locator(f"{PANEL} .eachlabs-generate")).to_contain_text("running")
    page.wait_for_function(
        "() => document.querySelectorAll('.eachlabs-panel .eachlabs-tile').length >= 5",
        timeout=60_000,
    )
    expect(page.locator(f"{PANEL} .eachlabs-generate")).not_to_contain_text("running")
    all_thumbs(page)
    expect(tiles).to_have_count(5)
    root_key = tiles.nth(4).get_attribute("data-key") or ""
    root_short = root_key.split(":")[0][:8]
    # the newest variation is on the stage, saying where it came from, on one line
    expect(stage_from).to_be_visible()
    expect(stage_from).to_have_text(f"from {root_short}")
    assert stage_from.evaluate(LINES_JS) == 1
    assert_legible(page)
    assert_whole(page)
    shot(page, artifacts / f"{name}-varied.png")
    # its click shows the parent on the stage
    stage_from.click()
    expect(stage_from).to_be_hidden()
    expect(page.locator(f"{PANEL} .eachlabs-caption")).to_contain_text(root_short)

    # the lightbox of a variation: "from <short id>" goes to the parent, Remix marks the form
    tiles.nth(0).click()
    box = page.locator(".eachlabs-lightbox")
    expect(box).to_be_visible()
    from_button = box.locator("button.eachlabs-from")
    expect(from_button).to_have_text(f"from {root_short}")
    expect(box.locator(".eachlabs-params")).to_contain_text("made from")
    page.screenshot(path=artifacts / f"{name}-lightbox.png")
    assert_legible(page, ".eachlabs-lightbox")
    from_button.click()
    expect(box.locator(".eachlabs-lightbox-counter")).to_have_text("Image 5 of 5")
    expect(from_button).to_be_hidden()  # the root was made from nothing
    tiles_before = tiles.count()
    box.locator("button.eachlabs-remix").click()
    expect(box).to_have_count(0)
    chip = page.locator(f"{PANEL} .eachlabs-from-chip")
    expect(chip).to_be_visible()
    expect(chip).to_contain_text(f"remix of {root_short}")
    expect(page.locator(f"{PANEL} .eachlabs-message")).to_contain_text("Remix of")
    prompt_box(page, FLASH).fill("a lighthouse at night, oil painting")
    page.locator(f"{PANEL} .eachlabs-generate").click()
    page.wait_for_function(
        f"() => document.querySelectorAll('.eachlabs-panel .eachlabs-tile').length > {tiles_before}",
        timeout=60_000,
    )
    expect(stage_from).to_have_text(f"from {root_short}")
    expect(page.locator(f"{PANEL} .eachlabs-caption")).to_contain_text("at night")
    assert_legible(page)
    assert_whole(page)
    shot(page, artifacts / f"{name}-remixed.png")
    # the narrow panel: the stage's buttons wrap, "from …" stays on one line
    page.set_viewport_size({"width": 620, "height": 1000})
    page.wait_for_timeout(300)
    assert stage_from.evaluate(LINES_JS) == 1
    assert chip.evaluate(LINES_JS) <= 2
    assert_whole(page)
    right = page.locator(f"{PANEL} .eachlabs-right")
    overflow = right.evaluate(WIDER)
    assert overflow["by"] <= 1, overflow
    page.locator(f"{PANEL} .eachlabs-stage").scroll_into_view_if_needed()
    page.screenshot(path=artifacts / f"{name}-narrow.png")
