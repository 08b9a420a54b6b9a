"""How results look in a notebook, with or without a kernel or widget state.

A :class:`Generation` renders through ``_repr_mimebundle_`` as a static image, an HTML figure
and plain text, so results still show after the notebook is reopened, on GitHub and in VS Code.
Rendering never fails on what the service sent: an output that does not decode is a link with
a note, an answer without a file shows its raw output.
Embedding a small JPEG thumbnail (by default) keeps saved notebooks small; the full-size files
are on disk. Every text from the service or the user is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image

    from ._generation import Generation

__all__ = ["EMBED_MODES", "Results", "generation_bundle", "set_embed_mode", "thumbnail_jpeg"]

EMBED_MODES = ("thumbnail", "full", "none")
THUMBNAIL_HEIGHT = 256
_embed: dict[str, str] = {}  # what set_embed_mode chose; else EACHLABS_EMBED, read per call


def set_embed_mode(mode: str) -> None:
    """``thumbnail`` (default), ``full`` (the images as made) or ``none`` (a link to the file)."""
    if mode not in EMBED_MODES:
        raise ValueError(f"embed mode must be one of {', '.join(EMBED_MODES)}, not {mode!r}")
    _embed["mode"] = mode


def embed_mode() -> str:
    mode = _embed.get("mode") or os.environ.get("EACHLABS_EMBED", "thumbnail")
    return mode if mode in EMBED_MODES else "thumbnail"


def thumbnail_jpeg(images: Sequence[Image.Image], height: int = THUMBNAIL_HEIGHT) -> bytes | None:
    """One JPEG holding every image side by side, ``height`` pixels high."""
    if not images:
        return None
    from PIL import Image as PILImage

    scaled = []
    for image in images:
        ratio = height / max(1, image.height)
        size = (max(1, round(image.width * ratio)), height)
        scaled.append(image.convert("RGB").resize(size, PILImage.Resampling.LANCZOS))
    gap = 6
    width = sum(s.width for s in scaled) + gap * (len(scaled) - 1)
    sheet = PILImage.new("RGB", (width, height), (255, 255, 255))
    x = 0
    for s in scaled:
        sheet.paste(s, (x, 0))
        x += s.width + gap
    buffer = io.BytesIO()
    sheet.save(buffer, "JPEG", quality=78, optimize=True)
    return buffer.getvalue()


def _caption(generation: Generation) -> str:
    parts = [f"<b>{html.escape(generation.model)}</b>"]
    if generation.emulated:
        parts.append("<span style='color:#b45309'>emulator</span>")
    if generation.seed is not None:
        parts.append(f"seed {html.escape(str(generation.seed))}")
    if generation.elapsed is not None:
        parts.append(f"{generation.elapsed:.1f} s")
    if generation.cost is not None:
        parts.append(f"${generation.cost:.3f}")
    parts.append(f"<code>{html.escape(generation.id)}</code>")
    prompt = html.escape(generation.prompt or "")
    line = " · ".join(parts)
    return f"<div>{line}</div><div style='color:#555'>{prompt}</div>" if prompt else line


def _plain(generation: Generation) -> str:
    bits = [generation.model]
    if generation.emulated:
        bits.append("(emulator)")
    bits.append(f"{len(generation.outputs)} output(s)")
    if generation.seed is not None:
        bits.append(f"seed={generation.seed}")
    if generation.cost is not None:
        bits.append(f"${generation.cost:.3f}")
    text = " ".join(bits) + f"\nid: {generation.id}"
    if generation.prompt:
        text += f"\nprompt: {generation.prompt}"
    for path in generation.paths:
        text += f"\nsaved: {path}"
    for index, why in generation.undecodable.items():
        text += f"\noutput {index} is not shown: it does not decode as an image ({why})"
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
    return "".join(f"<div style='color:#b45309;font-size:90%'>⚠ {n}</div>" for n in notes)


def _file_links(generation: Generation) -> str:
    links = []
    for path in generation.paths:
        href = html.escape(path.as_posix(), quote=True)
        links.append(f"<a href='{href}' target='_blank'>{html.escape(path.name)}</a>")
    if not links:
        links = [
            f"<a href='{html.escape(url, quote=True)}' target='_blank'>output {i}</a>"
            for i, url in enumerate(generation.urls)
            if url.startswith(("http://", "https://"))
        ]
    return "<div style='font-size:90%'>" + " · ".join(links) + "</div>"


def generation_bundle(generation: Generation, mode: str | None = None) -> dict[str, Any]:
    """The MIME bundle of one generation in the given (or current) embed mode."""
    mode = mode or embed_mode()
    bundle: dict[str, Any] = {"text/plain": _plain(generation)}
    body = ""
    if mode == "thumbnail":
        try:
            jpeg = thumbnail_jpeg(generation.images)
        except Exception:  # an image Pillow opened but cannot scale: the links remain
            jpeg = None
        if jpeg:
            encoded = base64.b64encode(jpeg).decode()
            bundle["image/jpeg"] = encoded
            body = f"<img src='data:image/jpeg;base64,{encoded}' style='max-width:100%'/>"
    elif mode == "full":
        imgs = []
        broken = generation.undecodable
        for index, out in enumerate(generation.outputs):
            if out.is_image and index not in broken:
                from ._media import sniff_content_type

                ctype = sniff_content_type(out.data)
                encoded = base64.b64encode(out.data).decode()
                imgs.append(f"<img src='data:{ctype};base64,{encoded}' style='max-width:100%'/>")
        body = "".join(imgs)
    bundle["text/html"] = (
        "<figure style='margin:0.5em 0'>"
        + body
        + f"<figcaption style='font-size:90%'>{_caption(generation)}{_file_links(generation)}"
        f"{_notes(generation)}</figcaption></figure>"
    )
    return bundle


class Results:
    """Several labelled results (models × prompts × sweeps) shown as one grid.

    Each item is ``(label, Generation)`` or ``(label, Exception)``; ``results[i]`` and
    iteration give the generations (``None`` where one failed).
    """

    def __init__(self, items: Sequence[tuple[str, Generation | BaseException]]) -> None:
        self.items = list(items)

    @property
    def generations(self) -> list[Generation | None]:
        from ._generation import Generation

        return [g if isinstance(g, Generation) else None for _, g in self.items]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> Generation | None:
        return self.generations[index]

    def __iter__(self) -> Any:
        return iter(self.generations)

    def __repr__(self) -> str:
        ok = sum(1 for g in self.generations if g is not None)
        return f"<Results {ok}/{len(self.items)} succeeded>"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from ._generation import Generation

        cells = []
        lines = []
        for label, item in self.items:
            head = f"<div style='font-weight:600'>{html.escape(label)}</div>"
            if isinstance(item, Generation):
                inner = generation_bundle(item)["text/html"]
                lines.append(f"[{label}] " + _plain(item).replace("\n", "\n    "))
            else:
                inner = (
                    "<div style='color:#b91c1c;white-space:pre-wrap'>"
                    f"{html.escape(type(item).__name__)}: {html.escape(str(item))}</div>"
                )
                lines.append(f"[{label}] {type(item).__name__}: {item}")
            cells.append(f"<div style='min-width:0'>{head}{inner}</div>")
        grid = (
            "<div style='display:grid;grid-template-columns:repeat(auto-fill,minmax(280px,1fr));"
            "gap:12px'>" + "".join(cells) + "</div>"
        )
        return {"text/plain": "\n".join(lines), "text/html": grid}
