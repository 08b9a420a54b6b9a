"""The panel's parts, each a small widget: the stage, the copy box, training, the LoRA chip.

A run in flight is shown by the card every run shares (:class:`~.._card.LiveCard`). These
parts only show things and call back; the :class:`~._panel.Panel` decides what happens. Nothing
here prints or writes into an ``Output``: every change is a trait, so updates made from
background tasks reach the frontend. Colours come from the stylesheet (``static/panel.css``),
which uses JupyterLab's theme variables: no colour is written here.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from .._display.render import short_id
from .._display.thumbs import thumbnail_from_bytes, thumbnail_jpeg
from ..forms._widgets import size_text
from ._training import zip_folder, zip_images
from ._upload import FileDrop

if TYPE_CHECKING:
    from .._generation import Generation
    from .._schema.media import LocalMedia

__all__ = [
    "CopyBox",
    "LoraChip",
    "Stage",
    "TrainingBox",
    "images_of",
    "line",
    "running_loop",
]

STAGE_HEIGHT = 768  # pixels of the JPEG sent to the stage (shown at most 520 px high)


def line(text: str, kind: str = "note") -> str:
    """A message on its own line: ``kind`` is note, error or ok (a coloured edge, theme text)."""
    if not text:
        return ""
    mark = "⚠ " if kind == "error" else ""
    return (
        f"<div class='eachlabs-line eachlabs-{kind}' role='status'>{mark}{html.escape(text)}</div>"
    )


def _heading(text: str, extra: str = "") -> w.HTML:
    extra_html = f" <span class='eachlabs-muted'>{html.escape(extra)}</span>" if extra else ""
    return w.HTML(f"<div class='eachlabs-heading'>{html.escape(text)}{extra_html}</div>")


def images_of(generation: Generation) -> list[Any]:
    """``generation.images`` as a new list (decoded once by the generation)."""
    return list(generation.images)


class CopyBox(w.VBox):
    """The text of a run in a read-only box, with a button that copies it to the clipboard."""

    def __init__(self) -> None:
        self.title = w.HTML("")
        self.text = w.Textarea(value="", rows=4, layout=w.Layout(width="100%"))
        self.text.add_class("eachlabs-copy-text")
        self.shown = 0
        self.copy = w.HTML(self._button())
        super().__init__([w.HBox([self.title, self.copy]), self.text])
        self.add_class("eachlabs-copy")
        self.layout.display = "none"

    def show(self, title: str, text: str, note: str = "") -> None:
        self.title.value = f"<b>{html.escape(title)}</b> <i>{html.escape(note)}</i>"
        self.text.value = text
        self.text.rows = min(12, max(2, text.count("\n") + 2))
        self.shown += 1
        self.copy.value = self._button()  # a new value re-renders it: "Copied" goes away
        self.layout.display = None

    def _button(self) -> str:
        """A plain HTML button: copying needs the browser's clipboard, not the kernel."""
        return (
            f"<button class='jupyter-button' data-shown='{self.shown}' "
            "title='copy to the clipboard' onclick=\""
            "const t=this.closest('.eachlabs-copy').querySelector('textarea');"
            "navigator.clipboard&&navigator.clipboard.writeText(t.value).then("
            "()=>{this.textContent='Copied'},()=>{t.select()});\">Copy to clipboard</button>"
        )


class Stage(w.VBox):
    """The result shown large: the image, its caption and what to do with it.

    The buttons are wired by the panel; ``generation`` and ``index`` say what is shown.
    """

    def __init__(self) -> None:
        self.generation: Generation | None = None
        self.index = 0
        self.key = ""
        self.image = w.Image(format="jpeg")
        self.image.add_class("eachlabs-stage-image")
        self.image.layout.display = "none"
        self.empty = w.HTML(
            "<div class='eachlabs-stage-empty'>The newest result appears here.</div>"
        )
        self.caption = w.HTML("")
        self.caption.add_class("eachlabs-caption")
        self.save_button = w.Button(
            description="Save", icon="save", tooltip="save the image shown (once)"
        )
        self.enlarge_button = w.Button(
            description="Enlarge", icon="expand", tooltip="full size, with its parameters"
        )
        self.use_button = w.Button(
            description="Use as input",
            icon="share",
            tooltip="put this image into an image field of a model's form",
        )
        self.load_button = w.Button(
            description="Load into form",
            icon="undo",
            tooltip="the model and every parameter of this run, seed included",
        )
        self.vary_button = w.Button(
            description="Vary",
            icon="random",
            tooltip="four more runs of these inputs with new seeds, each made from this one",
        )
        self.remix_button = w.Button(
            description="Remix",
            icon="sliders",
            tooltip="these inputs into the form, marked as made from this run: change them "
            "and Generate",
        )
        # "from abcd1234": the run this one was made from; a click shows it
        self.parent_button = w.Button(
            description="", icon="level-up", layout=w.Layout(width="auto", display="none")
        )
        self.parent_button.add_class("eachlabs-stage-from")
        self.eachgen_button = w.Button(description="Copy as %%eachgen", icon="terminal")
        self.python_button = w.Button(description="Copy as Python", icon="code")
        self.star_button = w.ToggleButton(
            value=False,
            description="Star",
            icon="star-o",
            tooltip="star it: the history's ★ filter and find(starred=True) find it again",
        )
        self.star_button.add_class("eachlabs-stage-star")
        #: ``on_star(key, on)`` keeps a star (the panel wires it); ``is_starred(key)`` reads one.
        self.on_star: Callable[[str, bool], None] | None = None
        self.is_starred: Callable[[str], bool] | None = None
        self._showing = False
        self.star_button.observe(self._star_changed, "value")
        self.buttons = (
            self.star_button,
            self.save_button,
            self.enlarge_button,
            self.vary_button,
            self.remix_button,
            self.use_button,
            self.load_button,
            self.eachgen_button,
            self.python_button,
        )
        self.actions = w.HBox(list(self.buttons))
        self.actions.add_class("eachlabs-stage-actions")
        self.actions.layout.display = "none"
        self.note = w.HTML("")
        self.copy_box = CopyBox()
        super().__init__(
            [
                self.empty,
                self.image,
                self.caption,
                self.parent_button,
                self.actions,
                self.note,
                self.copy_box,
            ]
        )
        self.add_class("eachlabs-viewer")
        self.add_class("eachlabs-stage")

    def show(self, generation: Generation, index: int = 0, key: str = "") -> None:
        images = images_of(generation)
        self.generation = generation
        self.index = index if 0 <= index < len(images) else 0
        self.key = key or f"{generation.id}:{self.index}"
        if images:
            self.image.value = thumbnail_jpeg([images[self.index]], height=STAGE_HEIGHT) or b""
            self.image.layout.display = None
        else:
            self.image.layout.display = "none"
        self.empty.layout.display = "none"
        bits = [f"<b>{html.escape(generation.model)}</b>"]
        if generation.emulated:
            bits.append("<span class='eachlabs-badge'>emulator</span>")
        if generation.seed is not None:
            bits.append(f"seed {html.escape(str(generation.seed))}")
        if len(images) > 1:
            bits.append(f"image {self.index + 1} of {len(images)}")
        if generation.elapsed is not None:
            bits.append(f"{generation.elapsed:.1f} s")
        if generation.cost is not None:
            bits.append(f"${generation.cost:.3f}")
        full = html.escape(generation.id, quote=True)  # the whole id on hover
        bits.append(f"<code title='{full}'>{html.escape(short_id(generation.id))}</code>")
        prompt = html.escape(generation.prompt or "")
        self.caption.value = f"<div>{' · '.join(bits)}</div>" + (
            f"<div class='eachlabs-muted'>{prompt}</div>" if prompt else ""
        )
        parent = generation.parent
        self.parent_button.description = f"from {short_id(parent)}" if parent else ""
        self.parent_button.tooltip = f"made from {parent}: show it" if parent else ""
        self.parent_button.layout.display = None if parent else "none"
        self.note.value = ""
        self.copy_box.layout.display = "none"
        self.actions.layout.display = None
        self._showing = True  # the star shown is the kept one: nothing to keep
        try:
            self.star_button.value = bool(self.is_starred and self.is_starred(self.key))
        finally:
            self._showing = False

    def _star_changed(self, change: Mapping[str, Any]) -> None:
        on = bool(change["new"])
        self.star_button.description = "Starred" if on else "Star"
        self.star_button.icon = "star" if on else "star-o"
        if not self._showing and self.on_star is not None and self.key:
            self.on_star(self.key, on)


RECOMMENDED_IMAGES = 10
"""Fewer training images than this get a warning (trainers learn poorly from a handful)."""
THUMBS_SHOWN = 24


class TrainingBox(w.VBox):
    """One upload area for a trainer's images: several files (chosen or dropped, sent with a
    progress bar and zipped in memory), or a folder or a zip on the kernel's machine. Shows
    the count, thumbnails, the size (in MB) and a warning below :data:`RECOMMENDED_IMAGES`."""

    def __init__(self, on_zip: Callable[[LocalMedia], None]) -> None:
        self.on_zip = on_zip
        self.count = 0
        # files go to the kernel in pieces, with a progress bar: a large set is seen moving
        self.upload = FileDrop(self.take, accept="image/*,.zip,.txt", label="Choose images…")
        self.folder = w.Text(
            placeholder="or a folder or .zip path",
            tooltip="a folder of images, or a .zip, on the kernel's machine",
        )
        self.use_folder = w.Button(description="Use folder", layout=w.Layout(width="auto"))
        self.status = w.HTML("")
        self.warning = w.HTML("")
        self.thumbs = w.HBox([])
        self.thumbs.add_class("eachlabs-thumbs")
        picker = w.HBox([self.upload, self.folder, self.use_folder])
        picker.add_class("eachlabs-field-control")
        super().__init__(
            [
                _heading(
                    "Training images",
                    f"{RECOMMENDED_IMAGES} or more images (or one .zip), chosen here or by a "
                    "path on the kernel's machine; zipped and uploaded when you Train",
                ),
                picker,
                self.status,
                self.thumbs,
                self.warning,
            ]
        )
        self.add_class("eachlabs-section")
        self.add_class("eachlabs-training")
        self.use_folder.on_click(lambda _b: self.take_folder(self.folder.value))

    def take(self, files: Sequence[tuple[str, bytes]]) -> None:
        try:
            media = zip_images(files)
        except (ValueError, OSError) as exc:
            self._error(str(exc))
            return
        self._done(media, f"{len(files)} file(s)")

    def take_folder(self, folder: str) -> None:
        try:
            media = zip_folder(folder.strip())
        except (ValueError, OSError) as exc:
            self._error(str(exc))
            return
        self._done(media, folder.strip())

    def _done(self, media: LocalMedia, source: str) -> None:
        import io
        import zipfile

        pictures: list[bytes] = []
        with zipfile.ZipFile(io.BytesIO(media.data)) as archive:
            names = [n for n in archive.namelist() if not n.lower().endswith((".txt", "/"))]
            for name in names[:THUMBS_SHOWN]:
                # Upright, on the checkerboard; a file Pillow cannot read is counted, not shown.
                pictures.append(thumbnail_from_bytes(archive.read(name), 48))
        self.count = len(names)
        self.status.value = line(
            f"{self.count} image{'s' if self.count != 1 else ''} from {source} · "
            f"{media.filename} · {size_text(len(media.data))}",
            "ok",
        )
        for old in self.thumbs.children:
            old.close()
        self.thumbs.children = tuple(w.Image(value=p, format="jpeg") for p in pictures if p)
        self.warning.value = (
            line(
                f"Only {self.count} image{'s' if self.count != 1 else ''}: "
                f"{RECOMMENDED_IMAGES} or more are recommended for a LoRA that generalises.",
                "error",
            )
            if self.count < RECOMMENDED_IMAGES
            else ""
        )
        self.on_zip(media)

    def _error(self, message: str) -> None:
        self.status.value = line(message, "error")


class LoraChip(w.VBox):
    """The LoRA in use, as a chip: its name, the trigger phrase and a scale slider.

    ``on_scale(index, scale)`` is called when a slider moves.
    """

    def __init__(self, on_scale: Callable[[int, float], None]) -> None:
        self.on_scale = on_scale
        self.entries: list[dict[str, Any]] = []
        self.trigger = ""
        super().__init__([])
        self.add_class("eachlabs-loras")
        self.layout.display = "none"

    def show(self, loras: Any, trigger: str = "") -> None:
        entries = [e for e in loras if isinstance(e, Mapping)] if isinstance(loras, list) else []
        if entries == self.entries and trigger == self.trigger:
            return
        self.entries = [dict(e) for e in entries]
        self.trigger = trigger
        for old in getattr(self, "children", ()):
            old.close()
        chips = []
        for index, entry in enumerate(self.entries):
            path = str(entry.get("path") or "")
            name = path.split("?", 1)[0].rsplit("/", 1)[-1] or path
            scale = entry.get("scale", 1.0)
            text = f"<b>LoRA</b> {html.escape(name)}"
            if trigger:
                text += f" · trigger <code>{html.escape(trigger)}</code>"
            slider = w.FloatSlider(
                value=float(scale) if isinstance(scale, (int, float)) else 1.0,
                min=0.0,
                max=2.0,
                step=0.05,
                description="Scale",
                readout_format=".2f",
            )
            slider.observe(lambda c, i=index: self.on_scale(i, float(c["new"])), "value")
            chip = w.VBox([w.HTML(text), slider])
            chip.add_class("eachlabs-chip")
            chips.append(chip)
        self.children = tuple(chips)
        self.layout.display = None if chips else "none"


def running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
