"""How results look in a notebook, with or without a kernel or widget state.

A :class:`Generation` renders through ``_repr_mimebundle_`` as an HTML figure (the thumbnail as
a ``data:`` URI, the caption, links to the files) and plain text, so results still show after the
notebook is reopened, on GitHub, nbviewer and in VS Code. Each thumbnail is stored once per
output (inside the HTML only). Rendering never fails on what the service sent: an output that
does not decode is a link with a note, an answer without a file shows its raw output.

Thumbnails are made once per generation and kept on it (:func:`prepare` makes them off the
event loop); building a bundle afterwards is string work only. Colours are JupyterLab's CSS
variables (with fallbacks), so the dark theme stays legible. Every text from the service or the
user is HTML-escaped.

This module imports no other part of the package at import time: :mod:`._generation` uses it,
never the other way round.
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .markup import as_written
from .thumbs import SHEET_GAP, thumbnail_from_bytes, thumbnail_jpeg

if TYPE_CHECKING:
    from PIL import Image

    from .._generation import Generation
    from .sheet import Sheet

__all__ = [
    "CARD_HEIGHT",
    "EMBED_MODES",
    "GRID_COLUMNS",
    "GRID_GAP",
    "GRID_HEIGHT",
    "SHEET_GAP",
    "THUMBNAIL_HEIGHT",
    "Results",
    "axis_text",
    "cell_title",
    "error_sentence",
    "facts",
    "generation_bundle",
    "grid_keys",
    "grid_pages",
    "matrix",
    "one_line",
    "picture_aspect",
    "picture_size",
    "prepare",
    "said_once",
    "set_embed_mode",
    "sheet_width",
    "short_id",
    "short_name",
    "summary_line",
    "thumbnail_jpeg",
    "thumbnail_of",
]

EMBED_MODES = ("thumbnail", "full", "none")
#: The height of a single result's thumbnail sheet.
THUMBNAIL_HEIGHT = 256
#: The height of each thumbnail in a grid of several runs (sweeps, models, prompts).
GRID_HEIGHT = 160
#: The height of the thumbnails on a live card (the static result replaces them).
CARD_HEIGHT = 72
#: A grid's columns and the gap between its cells (px), shared by the static grid and the live
#: tiles that precede it, so the cell keeps its geometry when one gives way to the other.
GRID_COLUMNS = "repeat(auto-fill,minmax(200px,1fr))"
GRID_GAP = 12
#: JPEG quality of embedded thumbnails: small enough that a 20-image sweep saves in ~200 KB.
THUMBNAIL_QUALITY = 70
#: The longest file name shown in a caption (the link holds the whole path).
NAME_LIMIT = 60
_embed: dict[str, str] = {}  # what set_embed_mode chose; else EACHLABS_EMBED, read per call

#: JupyterLab's theme variables, with fallbacks for frontends without them.
MUTED = "var(--jp-ui-font-color2, #616161)"
ERROR = "var(--jp-error-color1, #d32f2f)"
WARN = "var(--jp-warn-color1, #b45309)"
SUCCESS = "var(--jp-success-color1, #388e3c)"
ACCENT = "var(--jp-brand-color1, #1976d2)"
BORDER = "var(--jp-border-color2, #e0e0e0)"
SURFACE = "var(--jp-layout-color2, #eeeeee)"
# The theme's text colour inside a border of the warning colour: the orange as text colour
# reads at 2.7:1 on JupyterLab's Light theme, under the 4.5:1 of WCAG AA.
EMULATOR_TAG = (
    f"<span class='eachlabs-emulator' style='border:1px solid {WARN};border-radius:8px;"
    "padding:0 5px;font-weight:600;font-size:90%'>emulator</span>"
)


def set_embed_mode(mode: str) -> None:
    """``thumbnail`` (default), ``full`` (the images as made) or ``none`` (a link to the file)."""
    if mode not in EMBED_MODES:
        raise ValueError(f"embed mode must be one of {', '.join(EMBED_MODES)}, not {mode!r}")
    _embed["mode"] = mode


def embed_mode() -> str:
    mode = _embed.get("mode") or os.environ.get("EACHLABS_EMBED", "thumbnail")
    return mode if mode in EMBED_MODES else "thumbnail"


#: Named sizes of the image models, as width / height.
_NAMED = {"square": 1.0, "portrait_4_3": 0.75, "portrait_16_9": 9 / 16}
_NAMED.update({"landscape_4_3": 4 / 3, "landscape_16_9": 16 / 9, "square_hd": 1.0})


def picture_aspect(inputs: Mapping[str, Any]) -> float | None:
    """Width / height of the pictures a run asked for, when its inputs say it (``image_size``
    named or ``WxH``, ``width`` and ``height``, ``aspect_ratio`` ``W:H``); None otherwise."""

    def ratio(text: Any, sep: str) -> float | None:
        parts = str(text).lower().split(sep)
        try:
            w, h = (float(p) for p in parts)
        except ValueError:
            return None
        return w / h if w > 0 and h > 0 else None

    width, height = inputs.get("width"), inputs.get("height")
    if isinstance(width, (int, float)) and isinstance(height, (int, float)) and height > 0:
        return float(width) / float(height) if width > 0 else None
    size = inputs.get("image_size")
    if isinstance(size, str):
        return _NAMED.get(size) or ratio(size, "x")
    if isinstance(size, Mapping):
        return picture_aspect(size)
    if isinstance(inputs.get("aspect_ratio"), str):
        return ratio(inputs["aspect_ratio"], ":")
    return None


def sheet_width(height: int, aspect: float, pictures: int = 1) -> int:
    """The width of a thumbnail sheet of ``pictures`` pictures ``height`` pixels high (each
    scaled and rounded on its own, as :func:`thumbnail_jpeg` does)."""
    pictures = max(1, pictures)
    return max(1, round(height * aspect)) * pictures + SHEET_GAP * (pictures - 1)


def thumbnail_of(generation: Generation, height: int, index: int | None = None) -> bytes | None:
    """The embedded JPEG of ``generation`` (all its images side by side, or only image
    ``index``), ``height`` pixels high; made once and kept. None when nothing decodes."""
    cache = generation._thumbnails
    key = (height, index)
    if key not in cache:
        images = generation.images
        if index is not None:
            images = images[index : index + 1]
        try:
            cache[key] = thumbnail_jpeg(images, height, THUMBNAIL_QUALITY)
        except Exception:  # an image Pillow opened but cannot scale: the links remain
            cache[key] = None
    return cache[key]


def prepare(
    generation: Generation, heights: Iterable[int] = (THUMBNAIL_HEIGHT,), each: bool = True
) -> None:
    """Decode ``generation``'s images and make its thumbnails now (call it in a worker thread:
    decoding and scaling take tens of milliseconds per image), so that showing it later
    blocks nothing: a sheet of every height in ``heights`` and, with ``each``, a card's
    thumbnail of each image."""
    generation.undecodable  # noqa: B018 - decodes every image once
    for height in heights:
        thumbnail_of(generation, height)
    for index in range(len(generation.images) if each else 0):
        thumbnail_of(generation, CARD_HEIGHT, index)


def short_id(prediction_id: str, length: int = 8) -> str:
    """The first characters of a prediction id, as shown in captions (``%eachgen resume``
    accepts any unique prefix)."""
    return prediction_id[:length]


def short_name(name: str, limit: int = NAME_LIMIT) -> str:
    """``name`` cut in its middle to at most ``limit`` characters (the extension kept)."""
    if len(name) <= limit:
        return name
    keep = limit - 1
    tail = max(12, keep // 3)
    return name[: keep - tail] + "…" + name[-tail:]


def error_sentence(error: BaseException) -> str:
    """What a person reads about ``error``: the service's own words, without its codes
    (``code``, ``classification`` stay on the exception's attributes)."""
    from .._exceptions import PredictionFailedError

    if isinstance(error, PredictionFailedError):
        model = f" ({error.model})" if error.model else ""
        text = f"prediction {error.prediction_id}{model} failed"
        return f"{text}: {error.message}" if error.message else text
    text = str(error)
    return text or type(error).__name__


def one_line(error: BaseException) -> BaseException:
    """``error``, shown by IPython as one line (``Type: sentence``) instead of a traceback
    through the event loop. Its type and attributes are unchanged."""
    text = f"\x1b[0;31m{type(error).__name__}\x1b[0m: {error_sentence(error)}"
    with contextlib.suppress(AttributeError, TypeError):
        error._render_traceback_ = lambda: [text]  # type: ignore[attr-defined]
    return error


def error_codes(error: BaseException) -> str:
    """The service's classification of a failure, for a muted line under its message:
    ``PROVIDER · PROVIDER_REJECTED`` (API.md, "Poll": ``classification.category`` and
    ``error_code``); empty when the failure carries neither."""
    from .._exceptions import PredictionFailedError

    if not isinstance(error, PredictionFailedError):
        return ""
    return " · ".join(str(part) for part in (error.classification, error.code) if part)


def facts(generation: Generation) -> list[str]:
    """Its seed, the time it took, its cost and the run it was made from (``vary``,
    ``remix``…), as plain text: what every caption says."""
    facts = []
    if generation.seed is not None:
        facts.append(f"seed {generation.seed}")
    if generation.elapsed is not None and not generation.reused:
        facts.append(f"{generation.elapsed:.1f} s")
    cost = _cost_text(generation)
    if cost:
        facts.append(cost)
    if generation.parent:
        facts.append(f"from {short_id(generation.parent)}")
    return facts


def _cost_text(generation: Generation) -> str | None:
    if generation.reused:
        return "$0 (reused)"
    if generation.cost is not None:
        return f"${generation.cost:.3f}"
    return None


def _caption(generation: Generation, *, shared: bool = False) -> str:
    """Model, emulator label, seed, time, cost and the short id; ``shared``: only what differs
    between the cells of a grid whose common caption names the model and prompt."""
    parts = [] if shared else [f"<b>{html.escape(generation.model)}</b>"]
    if generation.emulated and not shared:
        parts.append(EMULATOR_TAG)
    parts += [html.escape(fact) for fact in facts(generation)]
    ident = html.escape(generation.id, quote=True)
    parts.append(f"<code title='{ident}'>{html.escape(short_id(generation.id))}</code>")
    line = " · ".join(parts)
    prompt = "" if shared else html.escape(generation.prompt or "")
    return f"<div>{line}</div><div style='color:{MUTED}'>{prompt}</div>" if prompt else line


def _plain(generation: Generation) -> str:
    bits = [generation.model]
    if generation.emulated:
        bits.append("(emulator)")
    bits.append(f"{len(generation.outputs)} output(s)")
    if generation.seed is not None:
        bits.append(f"seed={generation.seed}")
    cost = _cost_text(generation)
    if cost:
        bits.append(cost)
    text = " ".join(bits) + f"\nid: {generation.id}"
    if generation.prompt:
        text += f"\nprompt: {generation.prompt}"
    for path in generation.paths:
        text += f"\nsaved: {path}"
    for index, why in generation.undecodable.items():
        text += f"\noutput {index} is not shown: it does not decode as an image ({why})"
    lora = generation.lora
    if lora is not None:
        trigger = f", trigger {lora.trigger!r}" if lora.trigger else ""
        text += f"\nLoRA for {lora.model}{trigger} (in .lora, not downloaded): {lora.url}"
    if generation.raw_output:
        text += f"\nno output file; the raw output (in .output): {_raw_text(generation, 500)}"
    if generation.save_error:
        text += f"\nnot saved: {generation.save_error}"
    return text


def _raw_text(generation: Generation, limit: int) -> str:
    text = json.dumps(generation.output, default=str, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _notes(generation: Generation) -> str:
    """What the picture cannot say: outputs that are not shown, an answer without a file, files
    that were not saved."""
    notes = []
    lora = generation.lora
    lora_line = ""
    if lora is not None:
        trigger = f", trigger <code>{html.escape(lora.trigger)}</code>" if lora.trigger else ""
        lora_line = (
            f"<div style='font-size:90%'>LoRA for <code>{html.escape(lora.model)}</code>{trigger}"
            " (in <code>.lora</code>; the weights are fetched only by "
            "<code>.lora.download(path)</code>)</div>"
        )
    for index, why in generation.undecodable.items():
        notes.append(
            f"output {index} is not shown: it does not decode as an image "
            f"({html.escape(why)}); the file is kept, see the link"
        )
    if generation.raw_output:
        notes.append(
            "the answer held no output file; the raw output is kept in <code>.output</code>: "
            f"<code>{html.escape(_raw_text(generation, 500))}</code>"
        )
    if generation.save_error:
        notes.append(f"not saved: {html.escape(generation.save_error)}")
    return lora_line + "".join(
        f"<div style='color:{WARN};font-size:90%'>⚠ {n}</div>" for n in notes
    )


def _file_links(generation: Generation) -> str:
    links = []
    for path in generation.paths:
        href = html.escape(path.as_posix(), quote=True)
        links.append(
            f"<a href='{href}' title='{href}' target='_blank'>"
            f"{html.escape(short_name(path.name))}</a>"
        )
    if not links:
        links = [
            f"<a href='{html.escape(url, quote=True)}' target='_blank'>output {i}</a>"
            for i, url in enumerate(generation.urls)
            if url.startswith(("http://", "https://"))
        ]
    return "<div style='font-size:90%;overflow-wrap:anywhere'>" + " · ".join(links) + "</div>"


def _alt(generation: Generation) -> str:
    text = generation.prompt or f"output of {generation.model}"
    return html.escape(text[:300], quote=True)


#: What every browser shows in an ``<img>``; anything else is embedded as a JPEG of it.
_BROWSERS_SHOW = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "image/avif"})


def _pictures(generation: Generation, mode: str, height: int) -> str:
    """The ``<img>`` elements of a figure: one thumbnail sheet, the files as made, or none."""
    if mode == "thumbnail":
        jpeg = thumbnail_of(generation, height)
        if not jpeg:
            return ""
        encoded = base64.b64encode(jpeg).decode()
        return (
            f"<img src='data:image/jpeg;base64,{encoded}' alt='{_alt(generation)}'"
            f"{_box(jpeg)} style='max-width:100%;height:auto'/>"
        )
    if mode == "full":
        from .._schema.media import sniff_content_type

        imgs = []
        broken = generation.undecodable
        for index, out in enumerate(generation.outputs):
            if out.is_image and index not in broken:
                ctype, data = sniff_content_type(out.data), out.data
                if ctype not in _BROWSERS_SHOW:  # HEIC, say: a full-size JPEG of it instead
                    size = picture_size(data)
                    ctype, data = (
                        "image/jpeg",
                        thumbnail_from_bytes(data, size[1] if size else 1024),
                    )
                    if not data:
                        continue
                encoded = base64.b64encode(data).decode()
                imgs.append(
                    f"<img src='data:{ctype};base64,{encoded}' alt='{_alt(generation)}'"
                    f"{_box(data)} style='max-width:100%;height:auto'/>"
                )
        return "".join(imgs)
    return ""


def picture_size(data: bytes) -> tuple[int, int] | None:
    """A picture's width and height as shown (upright, by its EXIF orientation) from its
    header (nothing is decoded); None when it does not open."""
    from PIL import Image as PILImage

    try:
        with PILImage.open(io.BytesIO(data)) as image:
            width, height = image.size
            turned = image.getexif().get(0x0112) in (5, 6, 7, 8)  # EXIF: a quarter turn
            return (height, width) if turned else (width, height)
    except Exception:
        return None


def _box(data: bytes) -> str:
    """An ``<img>``'s ``width`` and ``height``: the page keeps the picture's box while it is
    decoded, so the cell does not shrink and grow again when the result is shown."""
    size = picture_size(data)
    return f" width='{size[0]}' height='{size[1]}'" if size else ""


def _figure(generation: Generation, mode: str, height: int, *, shared: bool = False) -> str:
    return (
        "<figure class='eachlabs-result' style='margin:0.5em 0'>"
        + _pictures(generation, mode, height)
        + "<figcaption style='font-size:90%'>"
        + _caption(generation, shared=shared)
        + _file_links(generation)
        + _notes(generation)
        + "</figcaption></figure>"
    )


def generation_bundle(generation: Generation, mode: str | None = None) -> dict[str, Any]:
    """The MIME bundle of one generation in the given (or current) embed mode: ``text/html``
    (the figure, its thumbnail inside as a ``data:`` URI) and ``text/plain``."""
    mode = mode or embed_mode()
    return {
        "text/plain": _plain(generation),
        "text/html": as_written(_figure(generation, mode, THUMBNAIL_HEIGHT)),
    }


def summary_line(generation: Generation) -> dict[str, Any]:
    """A finished call in one line (what ``generate()``'s live card leaves; the returned
    Generation shows the picture): model, seed, time, cost, short id, the first file."""
    bits = [generation.model]
    if generation.emulated:
        bits.append("emulator")
    bits += facts(generation)
    bits.append(short_id(generation.id))
    if generation.paths:
        more = f" (+{len(generation.paths) - 1})" if len(generation.paths) > 1 else ""
        bits.append(f"saved {short_name(generation.paths[0].name)}{more}")
    if generation.reused:
        bits.append("reused an identical earlier run; force=True runs again")
    text = "✓ " + " · ".join(bits)
    return {
        "text/plain": text,
        "text/html": as_written(
            f"<div class='eachlabs-done' style='color:{MUTED};font-size:90%'>"
            f"{html.escape(text)}</div>"
        ),
    }


def _is_generation(item: Any) -> bool:
    return not isinstance(item, BaseException)


def _failure_html(item: BaseException) -> str:
    # A cell a budget left out is no error: said in the muted colour of a note.
    kind, colour = ("eachlabs-not-run", MUTED) if _left_out(item) else ("eachlabs-failure", ERROR)
    return (
        f"<div class='{kind}' style='color:{colour};white-space:pre-wrap'>"
        f"{html.escape(_failure_text(item))}</div>"
    )


def _left_out(item: object) -> bool:
    """Whether a grid's cell was refused by a budget before its create: nothing was sent."""
    from .._exceptions import BudgetExceededError

    return isinstance(item, BudgetExceededError)


def _failure_text(item: BaseException) -> str:
    from .._exceptions import PredictionCancelledError

    if isinstance(item, PredictionCancelledError):
        return "cancelled (not billed)"
    if _left_out(item):
        return f"not run: {error_sentence(item)}"
    return error_sentence(item)


def axis_text(name: str, value: Any) -> str:
    if name in ("model", "prompt"):
        text = str(value)
        return text if len(text) <= 40 else text[:39] + "…"
    return f"{name}={value}"


def grid_keys(axes: Sequence[Mapping[str, Any]]) -> list[str]:
    """What a grid of runs is laid out by: one varying input (a labelled row of cells), two (a
    matrix with row and column headers), or none (``[]``: cells titled by their labels, as when
    the runs differ in more than two inputs, or not in the same ones)."""
    keys = list(axes[0]) if axes else []
    if not keys or any(list(a) != keys for a in axes) or len(keys) > 2:
        return []
    return keys


def grid_pages(axes: Sequence[Mapping[str, Any]]) -> tuple[str | None, list[Any], list[str]]:
    """A grid of three varying inputs is one grid per value of the first (the one that varies
    slowest, as the runs are made): ``(that input, its values, the two inner keys)``. Any other
    grid is one page: ``(None, [None], grid_keys(axes))``."""
    keys = list(axes[0]) if axes else []
    if len(keys) == 3 and all(list(a) == keys for a in axes):
        return keys[0], list(dict.fromkeys(a[keys[0]] for a in axes)), keys[1:]
    return None, [None], grid_keys(axes)


def page_indices(axes: Sequence[Mapping[str, Any]], key: str | None, value: Any) -> list[int]:
    """The runs on the page of ``key`` = ``value`` (every run when ``key`` is None)."""
    return [i for i, a in enumerate(axes) if key is None or a.get(key) == value]


def matrix(
    axes: Sequence[Mapping[str, Any]], keys: Sequence[str]
) -> tuple[list[Any], list[Any], dict[tuple[Any, Any], int]]:
    """A two-key grid's rows (values of ``keys[0]``) and columns (of ``keys[1]``), in the order
    the runs came, and which run is at each ``(row, column)``."""
    rows = list(dict.fromkeys(a[keys[0]] for a in axes))
    cols = list(dict.fromkeys(a[keys[1]] for a in axes))
    return rows, cols, {(a[keys[0]], a[keys[1]]): i for i, a in enumerate(axes)}


def cell_title(label: str, axes: Mapping[str, Any], keys: Sequence[str]) -> str:
    """The title over a cell of a row of cells (``seed=2``): its value of the grid's one key,
    else its label."""
    return axis_text(keys[0], axes[keys[0]]) if keys else label


def said_once(
    models: Iterable[str], prompts: Iterable[str | None], axes: Sequence[Mapping[str, Any]]
) -> tuple[str | None, str | None]:
    """The model and the prompt every run of a grid shares (``None`` for one that varies, or
    is not known): a grid says them once, above its cells. ``axes`` tells what varies, also
    for runs that failed."""
    models, prompts = set(models), set(prompts)
    varies = {name for a in axes for name in a}
    model = next(iter(models)) if len(models) == 1 and "model" not in varies else None
    prompt = next(iter(prompts)) if len(prompts) == 1 and "prompt" not in varies else None
    return model, prompt


class Results:
    """Several labelled results (models × prompts × sweeps) shown as one grid.

    Each item is ``(label, Generation)`` or ``(label, Exception)``; ``results[i]`` and
    iteration give the generations (``None`` where one failed). ``axes`` gives, per item, what
    varies between the runs (``{"seed": 1, "image_size": "square"}``): with two varying
    inputs the grid is a matrix with row and column headers, with one a labelled row, with
    three one titled matrix per value of the first; the model and prompt shared by every run
    are said once, above the grid. :attr:`sheet` and :meth:`save_sheet` make the grid one PNG.
    """

    def __init__(
        self,
        items: Sequence[tuple[str, Generation | BaseException]],
        axes: Sequence[Mapping[str, Any]] | None = None,
        folder: str | os.PathLike[str] | None = None,
    ) -> None:
        self.items = list(items)
        self.axes = [dict(a) for a in axes] if axes is not None else [{} for _ in self.items]
        if len(self.axes) != len(self.items):
            raise ValueError("axes must give one mapping per item")
        #: Where ``sheet`` is saved (the run's output folder); else beside the first file.
        self.folder = Path(folder) if folder else None
        self._sheet: Path | None = None

    @property
    def generations(self) -> list[Generation | None]:
        return [g if _is_generation(g) else None for _, g in self.items]  # type: ignore[misc]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> Generation | None:
        return self.generations[index]

    def __iter__(self) -> Any:
        return iter(self.generations)

    def __repr__(self) -> str:
        ok = sum(1 for g in self.generations if g is not None)
        return f"<Results {ok}/{len(self.items)} succeeded>"

    # -- what is shared, what varies ----------------------------------------------------------

    def _shared(self) -> tuple[str | None, str | None, bool]:
        done = [g for g in self.generations if g is not None]
        # What sets the items apart is known for failed ones too (their axes): a value seen
        # only among the items that succeeded is not shared by the whole grid.
        model, prompt = said_once((g.model for g in done), (g.prompt for g in done), self.axes)
        return model, prompt, any(g.emulated for g in done)

    def summary(self) -> str:
        """``12 runs · 1 failed · total $0.048`` (``$0 (reused)`` when nothing was spent).
        Cells a budget left out were never sent, so never "failed": ``5 cells · 2 run · 3 left
        out by the budget · total $0.016`` (``5 cells · none run: 5 left out by the budget``)."""
        done = [g for g in self.generations if g is not None]
        left_out = sum(1 for _, item in self.items if _left_out(item))
        failed = len(self.items) - len(done) - left_out
        if left_out:
            ran = len(self.items) - left_out
            parts = [f"{len(self.items)} cells", f"{ran} run" if ran else "none run"]
        else:
            parts = [f"{len(self.items)} runs"]
        if failed:
            parts.append(f"{failed} failed")
        if left_out:
            parts.append(f"{left_out} left out by the budget")
        costs = [g.cost for g in done if not g.reused and g.cost is not None]
        reused = sum(1 for g in done if g.reused)
        if done and reused == len(done):
            parts.append("total $0 (reused)")
        elif costs:
            parts.append(f"total ${sum(costs):.3f}" + (f" ({reused} reused)" if reused else ""))
        elif done:
            parts.append("cost not reported")
        return " · ".join(parts)

    def _cell(self, index: int, mode: str, shared: bool) -> str:
        item = self.items[index][1]
        if isinstance(item, BaseException):
            return _failure_html(item)
        return _figure(item, mode, GRID_HEIGHT, shared=shared)

    def _grid_html(
        self, indices: Sequence[int], keys: Sequence[str], mode: str, shared: bool
    ) -> str:
        """The runs ``indices`` as a matrix (two keys: row and column headers) or a row of cells
        titled by their value of the one key (or their labels)."""
        th = f"style='text-align:left;padding:4px;border-bottom:1px solid {BORDER}'"
        if len(keys) == 2:
            rows, cols, local = matrix([self.axes[i] for i in indices], keys)
            where = {at: indices[j] for at, j in local.items()}
            # JupyterLab right-aligns table cells and stripes and highlights rows: a grid of
            # pictures wants none of that.
            tr = "style='background:transparent'"
            td = "style='vertical-align:top;padding:4px;text-align:left'"
            header = f"<tr {tr}><th></th>" + "".join(
                f"<th {th}>{html.escape(axis_text(keys[1], c))}</th>" for c in cols
            )
            body = []
            for r in rows:
                cells = []
                for c in cols:
                    i = where.get((r, c))
                    inner = self._cell(i, mode, shared) if i is not None else ""
                    cells.append(f"<td {td}>{inner}</td>")
                # a row's title (often a model's slug) on one line, not broken at its hyphens
                row_th = th.replace("text-align:left", "text-align:left;white-space:nowrap")
                body.append(
                    f"<tr {tr}><th {row_th} scope='row'>{html.escape(axis_text(keys[0], r))}</th>"
                    + "".join(cells)
                    + "</tr>"
                )
            return (
                "<table class='eachlabs-matrix' style='border-collapse:collapse'>"
                f"<thead>{header}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            )
        cells = []
        for i in indices:
            title = cell_title(self.items[i][0], self.axes[i], keys)
            cells.append(
                "<div style='min-width:0'>"
                f"<div style='font-weight:600'>{html.escape(title)}</div>"
                f"{self._cell(i, mode, shared)}</div>"
            )
        return (
            "<div class='eachlabs-grid' style='display:grid;"
            f"grid-template-columns:{GRID_COLUMNS};gap:{GRID_GAP}px'>" + "".join(cells) + "</div>"
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        mode = embed_mode()
        model, prompt, emulated = self._shared()
        page_key, pages, keys = grid_pages(self.axes)
        # Said once above the grid, not in every cell: the prompt, and the model unless it
        # is one of the axes (then each row, column or page is titled by its model).
        model_said = model is not None or "model" in keys or page_key == "model"
        shared = model_said and prompt is not None and bool(keys)
        head_parts = []
        if shared:
            if model is not None:
                head_parts.append(f"<b>{html.escape(str(model))}</b>")
            if emulated:
                head_parts.append(EMULATOR_TAG)
        head_parts.append(html.escape(self.summary()))
        head = f"<div class='eachlabs-summary'>{' · '.join(head_parts)}</div>"
        if shared and prompt:
            head += f"<div style='color:{MUTED}'>{html.escape(prompt)}</div>"
        grids = []
        for value in pages:
            indices = page_indices(self.axes, page_key, value)
            grid = self._grid_html(indices, keys, mode, shared)
            if page_key is not None:
                title = html.escape(axis_text(page_key, value))
                grid = (
                    "<div class='eachlabs-page-title' style='font-weight:600;margin:0.8em 0 "
                    f"0.2em'>{title}</div>{grid}"
                )
            grids.append(grid)
        grid = "".join(grids)
        lines = [self.summary()]
        for label, item in self.items:
            if isinstance(item, BaseException) and _left_out(item):
                lines.append(f"[{label}] {_failure_text(item)}")
            elif isinstance(item, BaseException):
                lines.append(f"[{label}] {type(item).__name__}: {_failure_text(item)}")
            else:
                lines.append(f"[{label}] " + _plain(item).replace("\n", "\n    "))
        return {"text/plain": "\n".join(lines), "text/html": as_written(head + grid)}

    # -- the grid as one picture ---------------------------------------------------------------

    @property
    def sheet(self) -> Path:
        """The whole grid as one PNG (``pathlib.Path``), made on first use and saved in the
        output folder (beside the first saved file when the folder is not known): the pictures
        ``SHEET_CELL_HEIGHT`` (256) px high, column and row labels, the model and prompt above,
        and A1111's ``parameters`` text chunk describing the grid (see :meth:`save_sheet`).

        Raises ``ValueError`` when nothing was saved (saving is off): ``save_sheet(path)``
        writes it where you say; ``OSError`` when the folder cannot be written."""
        if self._sheet is not None and self._sheet.is_file():
            return self._sheet
        folder = self.folder
        if folder is None:
            saved = [g.paths[0] for g in self.generations if g is not None and g.paths]
            if not saved:
                raise ValueError(
                    "this grid's pictures were not saved (saving is off), so it has no output "
                    "folder: results.save_sheet(path) writes the sheet where you say"
                )
            folder = saved[0].parent
        self._sheet = self.save_sheet(folder / self._sheet_name())
        return self._sheet

    def save_sheet(self, path: str | os.PathLike[str]) -> Path:
        """Write the grid as one PNG to ``path`` (a file, or a folder to put it in) and return
        its ``Path``. Its ``parameters`` text chunk (as A1111's X/Y/Z plot writes it) holds what
        every cell shares (prompt, seed, steps …, model) and each axis with its values, so
        Civitai or A1111's "PNG Info" read the grid. A cell that failed shows the service's
        message in its place. Raises ``OSError`` when the file cannot be written."""
        from .sheet import sheet_png

        target = Path(path).expanduser()
        if target.is_dir():
            target = target / self._sheet_name()
        sheet, parameters = self._sheet_layout()
        data = sheet_png(sheet, parameters)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return target

    def _sheet_name(self) -> str:
        import hashlib

        ids = "\n".join(g.id if g is not None else "-" for g in self.generations)
        digest = hashlib.sha256(ids.encode()).hexdigest()[:10]
        return f"grid_{len(self.items)}cells_{digest}.png"

    def _sheet_layout(self) -> tuple[list[Sheet], str]:
        """What the sheet shows (see :meth:`_repr_mimebundle_`: the same rows and columns; with
        three varying inputs a title, then one grid per page, each titled) and its
        ``parameters`` text."""
        from .sheet import Sheet, grid_parameters

        def cell(index: int | None) -> Sequence[Image.Image] | str | None:
            if index is None:
                return None
            item = self.items[index][1]
            if isinstance(item, BaseException):
                return _failure_text(item)
            return item.images or "no picture (see the result's links)"

        page_key, pages, keys = grid_pages(self.axes)
        sheets: list[Sheet] = []
        for value in pages:
            indices = page_indices(self.axes, page_key, value)
            rows: list[str] = []
            if len(keys) == 2:
                row_values, col_values, local = matrix([self.axes[i] for i in indices], keys)
                where = {at: indices[j] for at, j in local.items()}
                columns = [axis_text(keys[1], c) for c in col_values]
                rows = [axis_text(keys[0], r) for r in row_values]
                cells = [[cell(where.get((r, c))) for c in col_values] for r in row_values]
            else:  # one varying input, or the cells' own labels: one labelled row
                columns = [cell_title(self.items[i][0], self.axes[i], keys) for i in indices]
                cells = [[cell(i) for i in indices]]
            heading = [axis_text(page_key, value)] if page_key is not None else []
            sheets.append(Sheet(cells, columns, rows, heading))
        model, prompt, emulated = self._shared()
        done = [g for g in self.generations if g is not None]
        models = list(dict.fromkeys(g.model for g in done))
        title = [(model or " · ".join(models)) + (" · emulator" if emulated else "")]
        if prompt:
            title.append(prompt)
        varies = [name for a in self.axes for name in a]
        seeds = {g.seed for g in done}
        facts_line = [self.summary()]
        if "seed" not in varies and len(seeds) == 1 and None not in seeds:
            facts_line.insert(0, f"seed {next(iter(seeds))} for every cell")
        title.append(" · ".join(facts_line))
        # What every cell shares, and each axis (columns first, as A1111's X, then Y, Z).
        shared: dict[str, Any] = {}
        if done:
            first = done[0].inputs
            shared = {
                k: v
                for k, v in first.items()
                if k not in varies
                and isinstance(v, (str, int, float, bool))
                and all(g.inputs.get(k) == v for g in done)
            }
        order = list(reversed(keys)) if keys else list(dict.fromkeys(varies))
        if page_key is not None:
            order.append(page_key)  # A1111's Z: one grid per value
        axes = [(name, list(dict.fromkeys(a.get(name) for a in self.axes))) for name in order]
        parameters = grid_parameters(model or "", shared, axes)
        if page_key is None:
            return [Sheet(sheets[0].cells, sheets[0].columns, sheets[0].rows, title)], parameters
        return [Sheet([], [], [], title), *sheets], parameters
