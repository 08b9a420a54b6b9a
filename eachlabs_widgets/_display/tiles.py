"""Live tiles: the cards of a cell, shaped and laid out like the static result that replaces them.

When a cell's runs end, its live cards give way to the static result (a figure, or a grid of
them). Cards stacked one under another, replaced by a grid of a fraction of their height, made
the page jump. A :class:`Tile` is a live card shaped like one cell of that result: the title the
grid gives it, a slot of the thumbnail's size where the picture appears as soon as the run ends,
and a caption that keeps the lines the result's caption will take. :func:`lay_out` puts the
tiles in the grid's own columns (or its matrix), so the swap keeps the cell's height and every
picture where it was.

Text in a widget inherits the widgets' metrics (13 px, 28 px lines); the tiles set the
notebook's content metrics (:data:`CONTENT_TEXT`, :data:`TABLE_TEXT`) so their lines wrap and
stack as the result's will.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from .card import _COLOURS, _PILL, CardParts, LiveCard
from .render import (
    ACCENT,
    BORDER,
    EMULATOR_TAG,
    GRID_COLUMNS,
    GRID_GAP,
    MUTED,
    SURFACE,
    axis_text,
    facts,
    matrix,
    picture_size,
    sheet_width,
    short_id,
    thumbnail_of,
)

if TYPE_CHECKING:
    from .._generation import Generation

__all__ = [
    "CONTENT_TEXT",
    "TABLE_TEXT",
    "Tile",
    "TileParts",
    "caption_lines",
    "lay_out",
    "lay_out_pages",
]

#: A notebook's rendered HTML text (where the static result is drawn): font size, line height.
CONTENT_TEXT = (
    "font-size:var(--jp-content-font-size1,14px);line-height:var(--jp-content-line-height,1.6)"
)
#: The text of a rendered HTML table's cells (a matrix of results is one).
TABLE_TEXT = "font-size:var(--jp-ui-font-size1,13px);line-height:normal"
#: A notebook's inline code (the short id), as the result's caption shows it.
_CODE = f"background:{SURFACE};padding:1px 5px"
#: The height of a widget button with its margins: a tile with a Cancel button reserves that
#: much less for its caption, so it keeps its height when the button goes.
_BUTTON = "32px"


def caption_lines(kind: str, *, named: bool, prompt: bool, saving: bool) -> int:
    """How many lines the static caption of a run usually takes, for its tile to keep them.

    ``kind``: ``figure`` (one run), ``grid`` (a row of ~200 px cells) or ``matrix`` (a
    table's columns, wider). The caption says the model and the emulator tag (``named``: when
    nothing above says them once), the seed, time, cost and short id, the prompt (when not said
    above), and links to the saved files (``saving``). In a grid's cell the facts wrap once,
    twice with the model ahead of them; in a cell of a grid or a matrix a file's name (up to 60
    characters) wraps once.
    """
    if kind not in ("figure", "grid", "matrix"):
        raise ValueError(f"kind must be figure, grid or matrix, not {kind!r}")
    facts = {"figure": 1, "grid": 2, "matrix": 1}[kind] + (1 if named and kind != "figure" else 0)
    links = (1 if kind == "figure" else 2) if saving else 0
    return facts + (1 if prompt else 0) + links


class TileParts(CardParts):
    """The layouts the tiles of one run share (see :class:`CardParts`): a tile is a cell of a
    CSS grid, its picture a block that scales down with the column, as the result's ``<img>``."""

    def __init__(self) -> None:
        super().__init__()
        # The cards' layouts, reshaped (new ones would leave these open, unused).
        self.plain.margin = "0"
        self.card.margin, self.card.min_width = "0", "0"
        self.gallery.display, self.gallery.margin = "block", "0.5em 0 0 0"
        self.image.margin, self.image.max_width, self.image.height = "0", "100%", "auto"


class Tile(LiveCard):
    """A live card shaped like its cell of the static result (see the module's docstring).

    ``title``: the cell's title above the picture (``seed=2``; None in a matrix, whose headers
    say it, and for a single run); ``height``: the result's thumbnail height; ``aspect``: the
    pictures' width / height when the inputs tell it (a square is assumed otherwise); ``lines``:
    the caption's lines to keep (:func:`caption_lines`); ``named``: the caption names the label
    (the model), as the result's caption does when nothing above says it; ``text``: the text
    metrics of the result around it (:data:`CONTENT_TEXT`, or :data:`TABLE_TEXT` in a matrix).
    Other arguments are :class:`LiveCard`'s; its CSS hooks hold, plus ``eachlabs-tile``.
    """

    def __init__(
        self,
        label: str,
        *,
        height: int,
        title: str | None = None,
        aspect: float | None = None,
        slots: int = 1,
        lines: int = 3,
        named: bool = True,
        text: str = CONTENT_TEXT,
        **card: Any,
    ) -> None:
        self.picture_height = height
        self.picture_width = sheet_width(height, aspect or 1.0, slots)
        self.lines = lines
        self.named = named
        self.text = text
        self.generation: Generation | None = None
        #: What the run is estimated to cost (``est. $0.008``), said until it ends.
        self.estimate: str | None = None
        self.slot: widgets.HTML | None = None
        super().__init__(label, slots=1, **card)
        self.add_class("eachlabs-tile")
        top: list[widgets.Widget] = []
        if title is not None:
            top.append(
                self.parts.html_widget(
                    f"<div style='{text};font-weight:600'>{html.escape(title)}</div>"
                )
            )
        rest = [c for c in self.children if c is not self.header and c is not self.gallery]
        self.children = (*top, self.gallery, self.header, *rest)

    def _placeholder(self) -> widgets.HTML:
        # The picture's box (its width and aspect, scaled down with the column as the <img>
        # is), where the run's progress shows until the picture takes its place.
        self.slot = self.parts.html_widget()
        return self.slot

    def _pictures(self, generation: Generation) -> list[Any]:
        # The same sheet the result embeds: the picture stays as it is when the result comes.
        jpeg = thumbnail_of(generation, self.picture_height)
        if not jpeg:
            return []
        # its size kept while it is decoded: the tile does not shrink meanwhile
        width, height = picture_size(jpeg) or (self.picture_width, self.picture_height)
        picture = widgets.Image(
            value=jpeg, format="jpeg", width=str(width), height=str(height), layout=self.parts.image
        )
        return [picture]

    def finish(self, generation: Generation) -> None:
        self.generation = generation
        self.slot = None  # closed: the picture takes its place
        super().finish(generation)

    def _status(self) -> str:
        status = html.escape(self.status)
        colour = _COLOURS.get(self.status, MUTED)
        return (
            f"<span class='eachlabs-status eachlabs-status-{status}' style='{_PILL}"
            f"border:1px solid {colour}'>{status}</span>"
        )

    def _slot(self) -> str:
        """The picture's box while there is no picture: status, time, progress."""
        rows = [f"<div>{self._status()} {self.elapsed:.1f} s</div>"]
        if not self.ended:
            fraction, words = self.progress()
            rows.append(
                f"<div class='eachlabs-progress' role='progressbar' aria-valuemin='0' "
                f"aria-valuemax='100' aria-valuenow='{fraction * 100:.0f}' style='width:80%;"
                f"max-width:180px;height:6px;margin:4px 0;background:{BORDER};border-radius:3px;"
                f"overflow:hidden'><div style='width:{fraction * 100:.0f}%;height:100%;"
                f"background:{ACCENT}'></div></div>"
                f"<div style='color:{MUTED}'>{html.escape(words)}</div>"
            )
        return (
            f"<div class='eachlabs-slot' style='{self.text};font-size:90%;"
            f"width:{self.picture_width}px;max-width:100%;"
            f"aspect-ratio:{self.picture_width}/{self.picture_height};background:{SURFACE};"
            "border-radius:4px;display:flex;flex-direction:column;align-items:center;"
            "justify-content:center;text-align:center;overflow:hidden;padding:4px;"
            f"box-sizing:border-box'>{''.join(rows)}</div>"
        )

    def _line(self) -> str:
        """The caption's first line: what the result's caption will say, as far as known."""
        bits = [f"<b>{html.escape(self.label)}</b>"] if self.named else []
        if self.emulated:
            bits.append(EMULATOR_TAG)  # as the result's caption shows it
        if self.generation is not None:
            bits += [html.escape(fact) for fact in facts(self.generation)]
        elif self.estimate and not self.ended:
            bits.append(html.escape(self.estimate))
        if self.prediction_id:
            full = html.escape(self.prediction_id, quote=True)
            short = html.escape(short_id(self.prediction_id))
            bits.append(f"<code title='{full}' style='{_CODE}'>{short}</code>")
        return " · ".join(bits) or "&nbsp;"

    def _render(self) -> None:
        if self._closed:
            return
        if self.slot is not None:
            self.slot.value = self._slot()
        rows = [f"<div>{self._line()}</div>"]
        if self.detail:
            rows.append(f"<div>{html.escape(self.detail)}</div>")
        if self.prompt:
            rows.append(f"<div style='color:{MUTED}'>{html.escape(self.prompt[:200])}</div>")
        if self.hint and not self.ended:
            rows.append(f"<div style='color:{MUTED};font-size:95%'>{html.escape(self.hint)}</div>")
        # The lines to keep, in lines of the caption's own height (lh), or of a notebook's
        # content text where lh is not known.
        keep = [f"{self.lines * 1.6:.1f}em", f"{self.lines}lh"]
        if self.cancel_button is not None and not self.ended:
            # the button stands under the caption meanwhile
            keep = [f"calc({k} - {_BUTTON})" for k in keep]
        self.header.value = (
            f"<div style='{self.text}'><div style='font-size:90%;min-height:{keep[0]};"
            f"min-height:{keep[1]};margin-bottom:0.5em;overflow-wrap:anywhere'>"
            + "".join(rows)
            + "</div></div>"
        )
        if self.cancel_button is not None and self.ended:
            self.cancel_button.layout.display = "none"


def lay_out(
    tiles: Sequence[Tile], axes: Sequence[Mapping[str, Any]], keys: Sequence[str], parts: CardParts
) -> widgets.Widget:
    """The tiles in the result's geometry: the grid's columns, or with two keys its matrix (a
    header row, a header column). ``axes`` gives each tile's values, ``keys`` the grid's keys
    (:func:`._render.grid_keys`)."""
    # JupyterLab pads rendered HTML 20 px on the right: the result's columns are that much
    # narrower, and as many fit in a row as there.
    if len(keys) != 2:
        grid = widgets.GridBox(
            list(tiles),
            layout=widgets.Layout(
                grid_template_columns=GRID_COLUMNS, grid_gap=f"{GRID_GAP}px", padding="0 20px 0 0"
            ),
        )
        grid.add_class("eachlabs-tiles")
        return grid
    rows, cols, where = matrix(axes, keys)
    head = widgets.Layout(padding="4px", border_bottom=f"1px solid {BORDER}", margin="0")
    parts.card.padding = "4px"  # a table cell's

    def th(text: str) -> widgets.HTML:
        return widgets.HTML(
            f"<div style='{TABLE_TEXT};font-weight:bold;height:100%;display:flex;"
            f"align-items:center'>{html.escape(text)}</div>",
            layout=head,
            style=parts.html,
        )

    children: list[widgets.Widget] = [parts.html_widget()]  # the corner: no header, no rule
    children += [th(axis_text(keys[1], c)) for c in cols]
    for r in rows:
        children.append(th(axis_text(keys[0], r)))
        for c in cols:
            i = where.get((r, c))
            children.append(tiles[i] if i is not None else parts.html_widget())
    grid = widgets.GridBox(
        children,
        layout=widgets.Layout(
            grid_template_columns=f"max-content repeat({len(cols)}, minmax(0, 1fr))",
            padding="0 20px 0 0",
        ),
    )
    grid.add_class("eachlabs-tiles")
    return grid


def lay_out_pages(
    tiles: Sequence[Tile],
    axes: Sequence[Mapping[str, Any]],
    pages: tuple[str | None, Sequence[Any], Sequence[str]],
    parts: CardParts,
) -> widgets.Widget:
    """:func:`lay_out`, once per page of a grid of three varying inputs, each under its title
    as the result shows it (``pages`` is :func:`._render.grid_pages`)."""
    page_key, values, keys = pages
    if page_key is None:
        return lay_out(tiles, axes, keys, parts)
    children: list[widgets.Widget] = []
    for value in values:
        indices = [i for i, a in enumerate(axes) if a.get(page_key) == value]
        title = html.escape(axis_text(page_key, value))
        children.append(
            widgets.HTML(
                f"<div style='{CONTENT_TEXT};font-weight:600;margin:0.8em 0 0.2em'>{title}</div>",
                layout=parts.plain,
                style=parts.html,
            )
        )
        children.append(
            lay_out([tiles[i] for i in indices], [axes[i] for i in indices], keys, parts)
        )
    return widgets.VBox(children, layout=parts.plain)
