"""A grid of results as one picture: a PNG with a title, column and row labels, and A1111's
``parameters`` text describing the grid, to leave the notebook (a report, a chat, Civitai).

Pure drawing: it takes the pictures and the words already laid out (:class:`.render.Results`
decides what goes where) and imports no other module of this wing.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._journal.metadata import A1111_KEY, a1111_text, parse_a1111

if TYPE_CHECKING:
    from PIL import Image, ImageDraw, ImageFont

__all__ = ["SHEET_CELL_HEIGHT", "Sheet", "grid_parameters", "sheet_png"]

#: The height of each cell's picture in a sheet (px): large enough to judge detail.
SHEET_CELL_HEIGHT = 256
_PAD = 10
_GAP = 6
_LABEL_WIDTH = 200  # the widest a row label may be before it wraps
_BACKGROUND = (255, 255, 255)
_TEXT = (20, 20, 20)
_MUTED = (97, 97, 97)
_ERROR = (183, 28, 28)
_EMPTY = (238, 238, 238)
#: How the text of a cell that was never sent begins (see ``render``'s failure text).
NOT_RUN = "not run"


@dataclass
class Sheet:
    """What a sheet shows. ``cells[r][c]`` is a list of images (a run's pictures, side by side),
    a text (why there is no picture: a failure), or None (no run there). ``columns`` labels the
    columns, ``rows`` the rows (empty: no row labels); ``title`` is its lines, the first bold."""

    cells: Sequence[Sequence[Sequence[Image.Image] | str | None]]
    columns: Sequence[str]
    rows: Sequence[str]
    title: Sequence[str]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ValueError, OSError):  # a Pillow built without FreeType: a fixed size
        return ImageFont.load_default()


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Any, width: int, most: int = 4) -> list[str]:
    """``text`` in lines no wider than ``width`` pixels, at most ``most`` (the last cut with …)."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if draw.textlength(candidate, font=font) <= width or not line:
                line = candidate
            else:
                lines.append(line)
                line = word
            while draw.textlength(line, font=font) > width and len(line) > 1:
                cut = len(line) - 1
                while cut > 1 and draw.textlength(line[:cut], font=font) > width:
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line)
    if len(lines) > most:
        lines = lines[:most]
        lines[-1] = lines[-1][: max(1, len(lines[-1]) - 1)] + "…"
    return lines


def _side_by_side(images: Sequence[Image.Image], height: int) -> Image.Image:
    from PIL import Image as PILImage

    scaled = []
    for image in images:
        ratio = height / max(1, image.height)
        size = (max(1, round(image.width * ratio)), height)
        scaled.append(image.convert("RGB").resize(size, PILImage.Resampling.LANCZOS))
    width = sum(s.width for s in scaled) + _GAP * (len(scaled) - 1)
    joined = PILImage.new("RGB", (width, height), _BACKGROUND)
    x = 0
    for s in scaled:
        joined.paste(s, (x, 0))
        x += s.width + _GAP
    return joined


def draw_sheet(sheet: Sheet, height: int = SHEET_CELL_HEIGHT) -> Image.Image:
    """The sheet as one RGB image: each cell's pictures ``height`` pixels high, every column as
    wide as its widest cell."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    probe = ImageDraw.Draw(PILImage.new("RGB", (1, 1)))
    label_font, title_font, text_font = _font(15), _font(18), _font(14)
    line = 20
    pictures = [
        [
            _side_by_side(c, height) if isinstance(c, Sequence) and not isinstance(c, str) else c
            for c in row
        ]
        for row in sheet.cells
    ]
    n_cols = max((len(r) for r in pictures), default=0)
    widths = [height] * n_cols
    for row in pictures:
        for c, cell in enumerate(row):
            if isinstance(cell, PILImage.Image):
                widths[c] = max(widths[c], cell.width)
    row_label_width = 0
    if sheet.rows:
        longest = max(probe.textlength(r, font=label_font) for r in sheet.rows)
        row_label_width = min(_LABEL_WIDTH, int(longest) + 1) + _PAD
    column_lines = [
        _wrap(probe, label, label_font, widths[c]) if c < n_cols else []
        for c, label in enumerate(sheet.columns)
    ]
    head_height = max((len(lines) for lines in column_lines), default=0) * line
    grid_width = row_label_width + sum(widths) + _GAP * max(0, n_cols - 1)
    total_width = max(grid_width, 480) + 2 * _PAD
    title_lines: list[tuple[str, Any, tuple[int, int, int]]] = []
    for i, text in enumerate(sheet.title):
        font, colour = (title_font, _TEXT) if i == 0 else (label_font, _MUTED)
        for part in _wrap(probe, text, font, total_width - 2 * _PAD, most=3):
            title_lines.append((part, font, colour))
    title_height = len(title_lines) * (line + 2) + (_PAD if title_lines else 0)
    rows_height = len(pictures) * height + _GAP * max(0, len(pictures) - 1)
    total_height = _PAD + title_height + head_height + _GAP + rows_height + _PAD
    canvas = PILImage.new("RGB", (total_width, total_height), _BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    y = _PAD
    for text, font, colour in title_lines:
        draw.text((_PAD, y), text, font=font, fill=colour)
        y += line + 2
    y += _PAD if title_lines else 0
    x0 = _PAD + row_label_width
    xs = [x0 + sum(widths[:c]) + _GAP * c for c in range(n_cols)]
    for c, lines in enumerate(column_lines):
        for k, text in enumerate(lines):
            # centred over the column, as the pictures are
            left = xs[c] + max(0, (widths[c] - int(draw.textlength(text, font=label_font))) // 2)
            draw.text((left, y + k * line), text, font=label_font, fill=_TEXT)
    y += head_height + _GAP
    for r, row in enumerate(pictures):
        top = y + r * (height + _GAP)
        if sheet.rows and r < len(sheet.rows):
            label = _wrap(draw, sheet.rows[r], label_font, row_label_width - _PAD, most=8)
            for k, text in enumerate(label):
                draw.text((_PAD, top + k * line), text, font=label_font, fill=_TEXT)
        for c, cell in enumerate(row):
            if isinstance(cell, PILImage.Image):
                canvas.paste(cell, (xs[c] + (widths[c] - cell.width) // 2, top))
            else:
                draw.rectangle((xs[c], top, xs[c] + widths[c] - 1, top + height - 1), fill=_EMPTY)
                if isinstance(cell, str):
                    # a cell left out (a budget, a declined confirm) is no error: said muted
                    colour = _MUTED if cell.startswith(NOT_RUN) else _ERROR
                    lines = _wrap(draw, cell, text_font, widths[c] - 2 * _PAD, most=10)
                    for k, text in enumerate(lines):
                        draw.text(
                            (xs[c] + _PAD, top + _PAD + k * 18), text, font=text_font, fill=colour
                        )
    return canvas


def _quoted(value: Any) -> str:
    text = str(value).replace("\n", " ")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def grid_parameters(
    model: str, shared: Mapping[str, Any], axes: Sequence[tuple[str, Sequence[Any]]]
) -> str:
    """The A1111 ``parameters`` text of a grid: what every cell shares (prompt, seed, steps …,
    the model), then the axes as A1111's X/Y/Z plot writes them (``Script: X/Y/Z plot, X Type:
    seed, X Values: "1, 2, 3"``, then ``Y`` and ``Z``). ``axes`` lists (input, its values),
    columns first."""
    inputs = {"prompt": "", **shared}
    text = a1111_text({"model": model, "inputs": inputs}, None) or ""
    pairs = ["Script: X/Y/Z plot"]
    for letter, (name, values) in zip("XYZ", axes, strict=False):
        pairs.append(f"{letter} Type: {name}")
        pairs.append(f"{letter} Values: {_quoted(', '.join(str(v) for v in values))}")
    extra = ", ".join(pairs)
    if "\n" in text and parse_a1111(text)["settings"]:
        return f"{text}, {extra}"
    return f"{text}\n{extra}"


def _stacked(sheets: Sequence[Sheet], height: int) -> Image.Image:
    """Several sheets (a title, then one grid per page) one under the other."""
    from PIL import Image as PILImage

    drawn = [draw_sheet(sheet, height) for sheet in sheets]
    canvas = PILImage.new(
        "RGB", (max(d.width for d in drawn), sum(d.height for d in drawn)), _BACKGROUND
    )
    y = 0
    for d in drawn:
        canvas.paste(d, (0, y))
        y += d.height
    return canvas


def sheet_png(
    sheet: Sheet | Sequence[Sheet], parameters: str | None, height: int = SHEET_CELL_HEIGHT
) -> bytes:
    """The sheet (or sheets, one under the other: a title, then a grid per page) as PNG
    bytes, with ``parameters`` in A1111's ``parameters`` text chunk."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    if parameters:
        try:
            parameters.encode("latin-1")
            info.add_text(A1111_KEY, parameters)
        except UnicodeEncodeError:
            info.add_itxt(A1111_KEY, parameters)
    buffer = io.BytesIO()
    image = draw_sheet(sheet, height) if isinstance(sheet, Sheet) else _stacked(sheet, height)
    image.save(buffer, "PNG", pnginfo=info, optimize=True)
    return buffer.getvalue()
