"""The grid as one picture: ``Results.sheet`` / ``save_sheet`` of a grid run by ``%%eachgen`` on
the emulator, its labels, its place in the output folder and its ``parameters`` text."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from eachlabs_widgets._display.render import Results
from eachlabs_widgets._display.sheet import SHEET_CELL_HEIGHT
from eachlabs_widgets._journal.metadata import parse_a1111

from .conftest import FLUX, NANO

PROMPT = "a lighthouse at dusk, oil painting"


def _dark_rows(image: Image.Image, x: int) -> int:
    """How many pixels of column ``x`` are not the sheet's white background."""
    column = image.convert("L").crop((x, 0, x + 1, image.height)).tobytes()
    return sum(1 for v in column if v < 250)


def test_a_3x3_grid_is_one_labelled_png_in_the_output_folder(shell, tmp_path):
    out = tmp_path / "grids"
    shell.run_cell_magic(
        "eachgen",
        f"{FLUX} --guidance_scale 2,4,8 --image_size square,landscape_4_3,portrait_4_3 "
        f"--output-dir {out} -o t_g",
        PROMPT,
    )
    results = shell.user_ns["t_g"]
    assert isinstance(results, Results) and len(results) == 9
    path = results.sheet
    assert isinstance(path, Path) and path.parent == out and path.suffix == ".png"
    if os.environ.get("EACHLABS_KEEP_SHEET"):  # to look at it
        Path(os.environ["EACHLABS_KEEP_SHEET"]).write_bytes(path.read_bytes())
    assert results.sheet == path  # made once
    made = path.stat().st_mtime_ns
    assert results.sheet.stat().st_mtime_ns == made
    with Image.open(path) as image:
        text = image.text["parameters"]  # type: ignore[attr-defined]
        width, height = image.size
        image.load()
        # three rows of pictures, each SHEET_CELL_HEIGHT high, under a title and the labels
        assert 3 * SHEET_CELL_HEIGHT < height < 3 * SHEET_CELL_HEIGHT + 200
        # three columns, each as wide as its widest picture (landscape 4:3 in the middle)
        assert width > SHEET_CELL_HEIGHT * (1 + 4 / 3 + 3 / 4)
        assert _dark_rows(image, width // 2) > 3 * SHEET_CELL_HEIGHT * 0.8
    seed = results[0].seed
    read = parse_a1111(text)
    assert read["prompt"] == PROMPT
    assert read["settings"]["Seed"] == str(seed)  # the one seed the grid shared
    assert read["settings"]["Model"] == FLUX
    assert read["settings"]["Script"] == "X/Y/Z plot"
    assert read["settings"]["X Type"] == "image_size"
    assert read["settings"]["X Values"] == "square, landscape_4_3, portrait_4_3"
    assert read["settings"]["Y Type"] == "guidance_scale"
    assert read["settings"]["Y Values"] == "2, 4, 8"
    assert "CFG scale" not in read["settings"]  # it varies: an axis, not a shared setting


def test_a_sweep_of_one_input_is_one_labelled_row_and_save_sheet_writes_where_asked(
    shell, tmp_path
):
    shell.run_cell_magic("eachgen", f"{FLUX} --seed 1,2,3,4 -o t_g", "a red fox")
    results = shell.user_ns["t_g"]
    [layout], parameters = results._sheet_layout()
    assert layout.columns == ["seed=1", "seed=2", "seed=3", "seed=4"] and layout.rows == []
    assert len(layout.cells) == 1 and all(len(c) == 1 for c in layout.cells[0])
    assert layout.title[0].startswith(FLUX) and layout.title[1] == "a red fox"
    assert parse_a1111(parameters)["prompt"] == "a red fox"
    target = results.save_sheet(tmp_path / "mine" / "fox.png")
    assert target == tmp_path / "mine" / "fox.png"
    with Image.open(target) as image:
        assert SHEET_CELL_HEIGHT < image.height < SHEET_CELL_HEIGHT + 150
        settings = parse_a1111(image.text["parameters"])["settings"]  # type: ignore[attr-defined]
    assert settings["X Type"] == "seed" and settings["X Values"] == "1, 2, 3, 4"
    assert "Seed" not in settings
    folder = results.save_sheet(tmp_path)  # a folder: the sheet's own name inside it
    assert folder.parent == tmp_path and folder.name.startswith("grid_4cells_")


def test_models_and_prompts_label_the_sheet_and_a_failure_keeps_its_cell(shell):
    shell.run_cell_magic("eachgen", f"{FLUX},{NANO} -o t_g", "a cat\n---\n[moderate] a dog")
    results = shell.user_ns["t_g"]
    [layout], parameters = results._sheet_layout()
    assert layout.rows == [FLUX, NANO] and layout.columns == ["a cat", "[moderate] a dog"]
    flux_fail = layout.cells[0][1]
    assert isinstance(flux_fail, str) and "content moderation" in flux_fail
    assert layout.title[0] == f"{FLUX} · {NANO} · emulator"
    settings = parse_a1111(parameters)["settings"]
    assert (settings["X Type"], settings["Y Type"]) == ("prompt", "model")
    assert settings["Y Values"] == f"{FLUX}, {NANO}"
    assert Image.open(results.sheet).size[1] > 2 * SHEET_CELL_HEIGHT


def test_without_saved_files_the_sheet_says_to_save_it_where_you_say(shell, tmp_path):
    shell.run_cell_magic("eachgen", f"{FLUX} --seed 1,2 --output-dir '' -o t_g", "a cat")
    results = shell.user_ns["t_g"]
    with pytest.raises(ValueError, match=r"save_sheet\(path\)"):
        results.sheet  # noqa: B018
    assert results.save_sheet(tmp_path / "s.png").is_file()


def test_three_varying_inputs_are_one_titled_grid_per_value_of_the_first(shell, displays):
    shell.run_cell_magic(
        "eachgen",
        f"{FLUX} --guidance_scale 2,6 --seed 1,2 --image_size square,landscape_4_3 -o t_g --yes",
        "a heron",
    )
    results = shell.user_ns["t_g"]
    html = displays.final["text/html"]
    # the page titles, in order, each followed by its own 2 x 2 matrix
    first, second = html.index(">guidance_scale=2<"), html.index(">guidance_scale=6<")
    assert first < second and html.count("class='eachlabs-page-title'") == 2
    assert html.count("<table class='eachlabs-matrix'") == 2
    assert html.count("seed=1</th>") == 2 and html.count("image_size=square</th>") == 2
    sheets, parameters = results._sheet_layout()
    head, *pages = sheets
    assert head.cells == [] and head.title[0].startswith(FLUX) and head.title[1] == "a heron"
    assert [p.title for p in pages] == [["guidance_scale=2"], ["guidance_scale=6"]]
    assert all(p.rows == ["seed=1", "seed=2"] for p in pages)
    assert all(p.columns == ["image_size=square", "image_size=landscape_4_3"] for p in pages)
    settings = parse_a1111(parameters)["settings"]
    assert (settings["X Type"], settings["Y Type"], settings["Z Type"]) == (
        "image_size",
        "seed",
        "guidance_scale",
    )
    if os.environ.get("EACHLABS_KEEP_SHEET"):
        Path(os.environ["EACHLABS_KEEP_SHEET"] + ".pages.png").write_bytes(
            results.sheet.read_bytes()
        )
    with Image.open(results.sheet) as image:
        assert image.height > 4 * SHEET_CELL_HEIGHT
