"""The sheet's drawing and its ``parameters`` text, without a run."""

from __future__ import annotations

import io
import itertools

from PIL import Image

from eachlabs_widgets._display.sheet import Sheet, draw_sheet, grid_parameters, sheet_png
from eachlabs_widgets._journal.metadata import parse_a1111


def _picture(colour: tuple[int, int, int], size: tuple[int, int]) -> Image.Image:
    return Image.new("RGB", size, colour)


def test_cells_keep_their_place_and_a_failure_is_written_in_its_cell():
    red, blue = _picture((200, 0, 0), (64, 64)), _picture((0, 0, 200), (128, 64))
    sheet = Sheet(
        cells=[[[red], [blue]], ["prediction p1 failed: flagged", None]],
        columns=["a", "b"],
        rows=["r1", "r2"],
        title=["model", "prompt"],
    )
    image = draw_sheet(sheet, height=64)
    pixels = image.load()
    # (pad 10, rows 64 high, gap 6: the first row is 112 px above the bottom)
    # the second column is as wide as its widest picture (128 px at 64 high)
    reds = [x for x in range(image.width) if pixels[x, image.height - 112] == (200, 0, 0)]
    blues = [x for x in range(image.width) if pixels[x, image.height - 112] == (0, 0, 200)]
    assert len(reds) == 64 and len(blues) == 128 and max(reds) < min(blues)
    bottom = image.height - 20  # the failed cell: grey, with red text; the empty one grey
    row = [pixels[x, bottom] for x in range(image.width)]
    assert (238, 238, 238) in row and (200, 0, 0) not in row and (0, 0, 200) not in row


def test_the_parameters_describe_what_is_shared_and_each_axis():
    text = grid_parameters(
        "flux", {"prompt": "a cat, at night", "seed": 5}, [("seed", [1, 2]), ("model", ["a"])]
    )
    read = parse_a1111(text)
    assert read["prompt"] == "a cat, at night"
    assert read["settings"] == {
        "Seed": "5",
        "Model": "flux",
        "Script": "X/Y/Z plot",
        "X Type": "seed",
        "X Values": "1, 2",
        "Y Type": "model",
        "Y Values": "a",
    }
    bare = parse_a1111(grid_parameters("", {}, [("prompt", ["a, b", "c"])]))
    assert bare["prompt"] == "" and bare["settings"]["X Values"] == "a, b, c"


def test_the_png_carries_the_text_even_beyond_latin_1():
    sheet = Sheet([[[_picture((0, 0, 0), (8, 8))]]], ["ünïcödé 猫"], [], ["猫"])
    data = sheet_png(sheet, "猫 in the rain\nSeed: 1, Model: m, Size: 8x8", height=32)
    with Image.open(io.BytesIO(data)) as image:
        assert image.text["parameters"].startswith("猫 in the rain")  # type: ignore[attr-defined]


def test_a_cell_left_out_is_said_muted_and_a_failure_in_red():
    sheet = Sheet(
        cells=[["not run: budget $0.020: nothing was sent", "prediction p1 failed: flagged"]],
        columns=["left out", "failed"],
        rows=[],
        title=["model"],
    )
    image = draw_sheet(sheet, height=96).convert("RGB")
    width, height = image.size
    # the two cells: the runs of grey along a line through their lower part
    y = height - 20
    grey = [x for x in range(width) if image.getpixel((x, y)) == (238, 238, 238)]
    split = next(b for a, b in itertools.pairwise(grey) if b - a > 1)

    def colours(x0: int, x1: int) -> set[tuple[int, int, int]]:
        return {image.getpixel((x, y)) for x in range(x0, x1) for y in range(height)}

    left, right = colours(grey[0], split), colours(split, grey[-1] + 1)
    assert (97, 97, 97) in left and (183, 28, 28) not in left
    assert (183, 28, 28) in right
