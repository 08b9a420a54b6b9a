"""The live tiles of a cell keep the geometry of the static result that replaces them: its
columns (or matrix), its titles, its picture, its caption's lines."""

from __future__ import annotations

import base64
import io
import re

import ipywidgets as widgets
import pytest
from PIL import Image

from eachlabs_widgets import AsyncEachLabs, Generation, Output, Results
from eachlabs_widgets._display.render import (
    GRID_COLUMNS,
    GRID_HEIGHT,
    THUMBNAIL_HEIGHT,
    picture_aspect,
    prepare,
    sheet_width,
    thumbnail_jpeg,
    thumbnail_of,
)
from eachlabs_widgets._display.tiles import Tile, TileParts, caption_lines
from eachlabs_widgets._notebook.runs import CellRun, Job

TURBO = "flux-2-turbo-text-to-image"


def png(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise(size, 60).convert("RGB").save(buffer, "PNG")
    return buffer.getvalue()


def generation(seed: int = 3, size: tuple[int, int] = (800, 600)) -> Generation:
    return Generation(
        id=f"p{seed}-0123456789", model=TURBO, status="success",
        inputs={"prompt": "a fox", "seed": seed}, urls=["https://cdn/0.png"],
        outputs=[Output("https://cdn/0.png", png(size))], metrics={"cost": 0.008},
        elapsed=1.25, emulated=True,
    )  # fmt: skip


@pytest.fixture
def client(monkeypatch, tmp_path) -> AsyncEachLabs:
    monkeypatch.setenv("EACHLABS_HOME", str(tmp_path))
    return AsyncEachLabs(base_url="emulator")


@pytest.mark.parametrize("size", [(800, 600), (600, 600), (600, 800)])
@pytest.mark.parametrize("pictures", [1, 2, 3])
def test_a_slot_is_as_wide_as_the_sheet_the_result_embeds(size, pictures):
    images = [Image.new("RGB", size) for _ in range(pictures)]
    sheet = Image.open(io.BytesIO(thumbnail_jpeg(images, GRID_HEIGHT) or b""))
    assert sheet.size == (sheet_width(GRID_HEIGHT, size[0] / size[1], pictures), GRID_HEIGHT)


@pytest.mark.parametrize(
    ("inputs", "aspect"),
    [
        ({"image_size": "landscape_16_9"}, 16 / 9),
        ({"image_size": "portrait_4_3"}, 3 / 4),
        ({"image_size": "square_hd"}, 1.0),
        ({"image_size": "1024x768"}, 4 / 3),
        ({"image_size": {"width": 512, "height": 1024}}, 0.5),
        ({"width": 1200, "height": 800, "image_size": "square"}, 1.5),
        ({"aspect_ratio": "21:9"}, 21 / 9),
        ({"aspect_ratio": "custom"}, None),
        ({"image_size": "huge"}, None),
        ({"width": 0, "height": 800}, None),
        ({"prompt": "a fox"}, None),
    ],
)
def test_the_aspect_of_a_picture_is_read_from_the_inputs_that_shape_it(inputs, aspect):
    assert picture_aspect(inputs) == (pytest.approx(aspect) if aspect else None)


def test_a_caption_keeps_the_lines_the_result_s_caption_takes():
    # one run: model and facts, prompt, the saved file
    assert caption_lines("figure", named=True, prompt=True, saving=True) == 3
    # a sweep says the model and prompt above: facts and id wrap once, a file name once
    assert caption_lines("grid", named=False, prompt=False, saving=True) == 4
    assert caption_lines("grid", named=False, prompt=False, saving=False) == 2
    # models side by side: the model ahead of the facts, the prompt under them
    assert caption_lines("grid", named=True, prompt=True, saving=True) == 6
    # a matrix's columns are wider: the facts hold on one line
    assert caption_lines("matrix", named=False, prompt=False, saving=True) == 3
    with pytest.raises(ValueError, match="figure, grid or matrix"):
        caption_lines("list", named=True, prompt=True, saving=True)


def _titles(html: str) -> list[str]:
    return re.findall(r"font-weight:600'>([^<]*)</div>", html)


def test_a_sweep_s_tiles_take_the_grid_s_columns_and_titles(client):
    axes = [{"seed": n} for n in (1, 2, 3)]
    jobs = [Job(f"seed={a['seed']}", TURBO, {"prompt": "a fox", **a}, axes=a) for a in axes]
    run = CellRun(client, jobs, save_to="out")
    header, grid = run.view.children
    assert header is run.header and isinstance(grid, widgets.GridBox)
    assert grid.layout.grid_template_columns == GRID_COLUMNS
    assert list(grid.children) == run.cards

    static = Results([(j.label, RuntimeError("x")) for j in jobs], axes)
    titles = _titles(static._repr_mimebundle_()["text/html"])
    assert [_titles(card.children[0].value) for card in run.cards] == [[t] for t in titles]
    # the model and the prompt are said once, above the tiles, as above the result
    assert TURBO in run.header.value and "a fox" in run.header.value
    assert not any("a fox" in card.header.value for card in run.cards)
    assert all(card.picture_height == GRID_HEIGHT for card in run.cards)
    assert all(card.lines == 4 for card in run.cards)  # the facts, a saved file's name
    run.close()


def test_a_matrix_s_tiles_stand_under_the_result_s_headers(client):
    axes = [{"seed": s, "image_size": z} for s in (1, 2) for z in ("square", "portrait_4_3")]
    jobs = [Job(str(a), TURBO, {"prompt": "a fox", **a}, axes=a) for a in axes]
    run = CellRun(client, jobs)
    grid = run.view.children[1]
    static = Results([(j.label, RuntimeError("x")) for j in jobs], axes)
    heads = re.findall(r"<th [^>]*>([^<]+)</th>", static._repr_mimebundle_()["text/html"])
    assert heads == ["image_size=square", "image_size=portrait_4_3", "seed=1", "seed=2"]

    def text(widget: widgets.Widget) -> str:
        return re.sub(r"<[^>]+>", "", widget.value) if isinstance(widget, widgets.HTML) else ""

    cells = list(grid.children)
    assert [text(c) for c in cells[:3]] == ["", *heads[:2]]
    assert [text(c) for c in (cells[3], cells[6])] == heads[2:]
    assert [cells[4], cells[5], cells[7], cells[8]] == run.cards
    assert grid.layout.grid_template_columns.startswith("max-content repeat(2,")
    # a tile takes its picture's shape: a portrait 4:3 picture 160 px high is 120 px wide
    assert [card.picture_width for card in run.cards] == [160, 120, 160, 120]
    assert all(card.children[0] is card.gallery for card in run.cards)  # no title: headers
    run.close()


def test_one_run_is_a_figure_whose_caption_says_the_estimate(client):
    run = CellRun(client, [Job(TURBO, TURBO, {"prompt": "a fox"}, aspect=4 / 3)])
    [tile] = run.view.children
    assert tile is run.cards[0] and tile.picture_height == THUMBNAIL_HEIGHT
    assert tile.picture_width == 341 and tile.children[0] is tile.gallery
    assert TURBO in tile.header.value and "a fox" in tile.header.value
    run.estimate = "est. $0.008"
    run._render_header()
    assert "est. $0.008" in tile.header.value
    run.close()
    assert run.header.comm is None  # not shown, closed all the same


def test_a_finished_tile_shows_the_picture_the_result_embeds():
    done = generation()
    prepare(done, (GRID_HEIGHT,), each=False)
    tile = Tile("seed=3", height=GRID_HEIGHT, title="seed=3", lines=4, named=False)
    assert "eachlabs-slot" in tile.gallery.children[0].value
    tile.finish(done)
    [picture] = tile.gallery.children
    assert isinstance(picture, widgets.Image) and picture.value == thumbnail_of(done, GRID_HEIGHT)
    embedded = Results([("seed=3", done)], [{"seed": 3}])._repr_mimebundle_()["text/html"]
    encoded = re.search(r"data:image/jpeg;base64,([^']+)", embedded).group(1)
    assert base64.b64decode(encoded) == picture.value
    # both keep the picture's box while it is decoded (no shrinking and growing again)
    size = Image.open(io.BytesIO(picture.value)).size
    assert (picture.width, picture.height) == tuple(str(n) for n in size) == ("213", "160")
    assert f"width='{size[0]}' height='{size[1]}' style='max-width:100%;height:auto'" in embedded
    # the caption says what the result's caption will
    assert "seed 3 · 1.2 s · $0.008" in tile.header.value and "p3-01234" in tile.header.value
    tile.close()


def test_a_cancel_button_takes_its_height_from_the_caption_while_it_shows():
    tile = Tile("x", height=GRID_HEIGHT, lines=4, on_cancel=lambda: None, parts=TileParts())
    assert "calc(6.4em - 32px)" in tile.header.value
    tile.set_status("cancelled", "not billed")
    assert "calc(" not in tile.header.value and "min-height:6.4em" in tile.header.value
    assert tile.cancel_button is not None and tile.cancel_button.layout.display == "none"
    assert "eachlabs-status-cancelled" in tile.slot.value
    tile.close()


def test_closing_a_run_empties_its_pictures_first(client):
    # A notebook run headless keeps the last state of every widget it saw: the result holds
    # each picture already.
    jobs = [
        Job(f"seed={n}", TURBO, {"prompt": "a fox", "seed": n}, axes={"seed": n}) for n in (1, 2)
    ]
    run = CellRun(client, jobs)
    for n, card in enumerate(run.cards, start=1):
        done = generation(n)
        prepare(done, (GRID_HEIGHT,), each=False)
        card.finish(done)
    pictures = [card.gallery.children[0] for card in run.cards]
    assert all(isinstance(p, widgets.Image) and p.value for p in pictures)
    run.close()
    assert all(p.value == b"" and p.comm is None for p in pictures)


@pytest.mark.parametrize(
    "axes",
    [[{}], [{"seed": 1}, {"seed": 2}], [{"seed": s, "size": z} for s in (1, 2) for z in "ab"]],
)
def test_a_closed_run_leaves_no_widget_open(client, axes):
    # a notebook run headless keeps the state of every widget it saw: none may be left
    from ipywidgets.widgets.widget import _instances

    before = set(_instances)
    jobs = [Job(str(a), TURBO, {"prompt": "a fox", **a}, axes=a) for a in axes]
    run = CellRun(client, jobs, background=True)
    done = generation()
    prepare(done, (GRID_HEIGHT, THUMBNAIL_HEIGHT), each=False)
    run.cards[0].finish(done)
    run.close()
    left = [type(_instances[k]).__name__ for k in set(_instances) - before]
    assert left == []
