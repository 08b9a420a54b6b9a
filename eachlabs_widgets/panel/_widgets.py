"""The panel's parts, each a small widget: picker, run view, gallery, viewer, history, training.

They only show things and call back; the :class:`~._panel.Panel` decides what happens. Nothing
here prints or writes into an ``Output``: every change is a trait, so updates made from
background tasks reach the frontend.
"""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as w
import traitlets

from .._card import LiveCard
from .._render import thumbnail_jpeg
from ._catalog import filter_models, picker_options
from ._progress import TRAINING_EXPECTED, progress_fraction
from ._training import zip_folder, zip_images

if TYPE_CHECKING:
    from .._generation import Generation
    from .._media import LocalMedia
    from .._prediction import Prediction

__all__ = [
    "STYLE",
    "CopyBox",
    "Gallery",
    "HistoryItem",
    "HistoryStrip",
    "ModelPicker",
    "RunView",
    "TrainingBox",
    "Viewer",
    "images_of",
]

THUMB_HEIGHT = 128
VIEW_HEIGHT = 320

STYLE = """<style>
.eachlabs-panel { border: 1px solid #e5e7eb; border-radius: 8px; padding: 10px 12px;
  background: #fff; max-width: 1000px; }
.eachlabs-section { border-top: 1px solid #f0f0f0; padding-top: 6px; margin-top: 6px; }
.eachlabs-tile { border: 1px solid #e5e7eb; border-radius: 6px; padding: 4px; margin: 3px;
  background: #fafafa; }
.eachlabs-tile img { border-radius: 4px; }
.eachlabs-viewer img { border-radius: 6px; box-shadow: 0 1px 4px rgba(0,0,0,.15); }
.eachlabs-history { overflow-x: auto; }
.eachlabs-hist-item { border: 1px solid #e5e7eb; border-radius: 6px; padding: 3px;
  margin-right: 4px; min-width: 96px; background: #fafafa; }
.eachlabs-run { border-left: 3px solid #93c5fd; padding-left: 8px; margin: 4px 0; }
</style>"""


def _heading(text: str, extra: str = "") -> w.HTML:
    return w.HTML(
        f"<div style='font-weight:600;color:#374151;margin:2px 0'>{html.escape(text)}"
        f"<span style='font-weight:400;color:#6b7280'>{extra}</span></div>"
    )


def images_of(generation: Generation) -> list[Any]:
    """``generation.images`` as a new list (decoded once by the generation)."""
    return list(generation.images)


def _thumb(image: Any, height: int = THUMB_HEIGHT) -> w.Image:
    jpeg = thumbnail_jpeg([image], height=height) or b""
    return w.Image(value=jpeg, format="jpeg", layout=w.Layout(height=f"{height}px", width="auto"))


class ModelPicker(w.HBox):
    """A search box and a dropdown over the catalogue; ``value`` is the chosen slug.

    Filtering never changes the chosen model: it stays in the list while it is chosen.
    """

    value = traitlets.Unicode(None, allow_none=True, help="The chosen model's slug.")

    def __init__(self) -> None:
        self.models: list[dict[str, Any]] = []
        self.search = w.Text(
            placeholder="Search models (e.g. flux lora)",
            continuous_update=True,
            layout=w.Layout(width="200px"),
        )
        self.dropdown = w.Dropdown(options=[], layout=w.Layout(width="380px"))
        self.count = w.HTML(
            "<span style='color:#6b7280'>loading models…</span>",
            layout=w.Layout(width="auto", margin="0 0 0 6px"),
        )
        self._refreshing = False
        super().__init__(
            [self.search, self.dropdown, self.count],
            layout=w.Layout(flex_flow="row wrap", align_items="center"),
        )
        self.add_class("eachlabs-picker")
        self.search.observe(lambda _c: self._refresh(), "value")
        self.dropdown.observe(self._picked, "value")

    def set_models(self, models: Sequence[Mapping[str, Any]]) -> None:
        self.models = [dict(m) for m in models]
        self._refresh()

    @traitlets.observe("value")
    def _value_changed(self, change: Any) -> None:
        self._refresh()

    def _refresh(self) -> None:
        options = picker_options(self.models, self.search.value, self.value)
        self._refreshing = True
        try:
            self.dropdown.options = options
            self.dropdown.value = self.value if self.value else None
        finally:
            self._refreshing = False
        if self.models:
            shown = len(filter_models(self.models, self.search.value))
            self.count.value = (
                f"<span style='color:#6b7280;white-space:nowrap'>"
                f"{shown} of {len(self.models)} models</span>"
            )

    def _picked(self, change: Any) -> None:
        if not self._refreshing and change["new"]:
            self.value = change["new"]


class RunView(w.VBox):
    """One prediction: the live card, a progress bar, Cancel, and what to do with the result."""

    def __init__(
        self,
        model: str,
        inputs: Mapping[str, Any],
        *,
        expected: float | None = None,
        training: bool = False,
    ) -> None:
        slots = inputs.get("num_images") or inputs.get("max_images") or 1
        prompt = inputs.get("prompt")
        self.card = LiveCard(
            model,
            slots=slots if isinstance(slots, int) else 1,
            prompt=prompt if isinstance(prompt, str) else None,
        )
        self.expected = expected or (TRAINING_EXPECTED if training else None)
        self.started = time.monotonic()
        self.progress = w.FloatProgress(
            value=0.0, min=0.0, max=1.0, layout=w.Layout(width="260px", height="14px")
        )
        self.cancel_button = w.Button(
            description="Cancel",
            icon="stop",
            tooltip="cancel this prediction (it is not billed)",
            layout=w.Layout(width="90px", height="26px"),
        )
        self.actions = w.HBox([])
        self.detail = w.HTML("")
        super().__init__(
            [self.card, w.HBox([self.progress, self.cancel_button, self.detail]), self.actions]
        )
        self.add_class("eachlabs-run")

    def set_status(self, status: str, detail: str = "") -> None:
        self.card.set_status(status, detail)
        self._progress(status)

    def update(self, prediction: Prediction) -> None:
        """A poll answer (called by the client on every poll)."""
        self.card.update(prediction)
        model_time = prediction.metrics.get("predict_time")
        if isinstance(model_time, (int, float)) and model_time > 0:
            self.detail.value = (
                f"<span style='color:#6b7280;font-size:90%'>model time {model_time:.1f} s</span>"
            )
        self._progress(prediction.status)

    def _progress(self, status: str) -> None:
        fraction = progress_fraction(status, time.monotonic() - self.started, self.expected)
        if fraction >= 0:
            self.progress.value = max(self.progress.value, fraction)

    def finish(self, generation: Generation) -> None:
        self.card.finish(generation)
        if generation.undecodable:  # files that do not decode: the card's tiles name them
            pass
        elif images_of(generation):  # shown in the gallery and the viewer: keep the card short
            self.card.gallery.layout.display = "none"
        else:  # a trainer's weights, a video…: links instead of pictures
            links = " · ".join(
                f"<a href='{html.escape(u, quote=True)}' target='_blank'>"
                f"{html.escape(u.rsplit('/', 1)[-1] or u)}</a>"
                for u in generation.urls
            )
            self.card.gallery.children = (w.HTML(f"<div>{links or 'no files'}</div>"),)
        self.progress.value = 1.0
        self.progress.bar_style = "success"
        self.cancel_button.layout.display = "none"

    def fail(self, error: BaseException) -> None:
        self.card.fail(error)
        self.card.gallery.layout.display = "none"
        cancelled = self.card.status == "cancelled"
        self.progress.bar_style = "warning" if cancelled else "danger"
        self.cancel_button.layout.display = "none"


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


class Gallery(w.VBox):
    """Every image made this session as a thumbnail, newest first; "View" enlarges one."""

    def __init__(self, on_view: Callable[[Generation, int], None]) -> None:
        self.on_view = on_view
        self.tiles = w.HBox([], layout=w.Layout(flex_flow="row wrap"))
        self.empty = w.HTML("<span style='color:#9ca3af'>Results appear here.</span>")
        super().__init__([_heading("Gallery"), self.empty, self.tiles])
        self.add_class("eachlabs-section")

    def add(self, generation: Generation) -> None:
        tiles = []
        for index, image in enumerate(images_of(generation)):
            button = w.Button(
                description="View",
                icon="search-plus",
                tooltip="enlarge, save, reuse or copy this run",
                layout=w.Layout(width="auto", height="24px"),
            )
            button.on_click(lambda _b, g=generation, i=index: self.on_view(g, i))
            tile = w.VBox([_thumb(image), button], layout=w.Layout(align_items="center"))
            tile.add_class("eachlabs-tile")
            tiles.append(tile)
        if tiles:
            self.empty.layout.display = "none"
            self.tiles.children = (*tiles, *self.tiles.children)


class Viewer(w.VBox):
    """One result, enlarged, with what to do with it. The buttons are wired by the panel."""

    def __init__(self) -> None:
        self.generation: Generation | None = None
        self.index = 0
        self.image = w.Image(
            format="jpeg",
            layout=w.Layout(
                height=f"{VIEW_HEIGHT}px",
                width="auto",
                max_width="100%",
                align_self="flex-start",  # a column stretches its children: keep the aspect
                object_fit="contain",
            ),
        )
        self.caption = w.HTML("")
        self.save_button = w.Button(description="Save", icon="save", tooltip="save the files")
        self.use_button = w.Button(
            description="Use as input",
            icon="share",
            tooltip="put this image into an image field of a model's form",
        )
        self.load_button = w.Button(
            description="Load into form", icon="undo", tooltip="the form as it was for this run"
        )
        self.eachgen_button = w.Button(description="Copy as %%eachgen", icon="terminal")
        self.python_button = w.Button(description="Copy as Python", icon="code")
        for button in (
            self.save_button,
            self.use_button,
            self.load_button,
            self.eachgen_button,
            self.python_button,
        ):
            button.layout = w.Layout(width="auto")
        self.note = w.HTML("")
        self.copy_box = CopyBox()
        actions = w.HBox(
            [
                self.save_button,
                self.use_button,
                self.load_button,
                self.eachgen_button,
                self.python_button,
            ],
            layout=w.Layout(flex_flow="row wrap"),
        )
        super().__init__(
            [_heading("Selected"), self.image, self.caption, actions, self.note, self.copy_box]
        )
        self.add_class("eachlabs-viewer")
        self.add_class("eachlabs-section")
        self.layout.display = "none"

    def show(self, generation: Generation, index: int = 0) -> None:
        images = images_of(generation)
        self.generation = generation
        self.index = index if 0 <= index < len(images) else 0
        if images:
            self.image.value = thumbnail_jpeg([images[self.index]], height=VIEW_HEIGHT) or b""
            self.image.layout.display = None
        else:
            self.image.layout.display = "none"
        bits = [f"<b>{html.escape(generation.model)}</b>"]
        if generation.emulated:
            bits.append("<span style='color:#b45309'>emulator</span>")
        if generation.seed is not None:
            bits.append(f"seed {html.escape(str(generation.seed))}")
        if len(images) > 1:
            bits.append(f"image {self.index + 1} of {len(images)}")
        bits.append(f"<code>{html.escape(generation.id)}</code>")
        prompt = html.escape(generation.prompt or "")
        self.caption.value = f"<div>{' · '.join(bits)}</div><div style='color:#555'>{prompt}</div>"
        self.note.value = ""
        self.copy_box.layout.display = "none"
        self.layout.display = None


class HistoryItem(w.VBox):
    """One run of the session in the history strip."""

    def __init__(self, model: str, inputs: Mapping[str, Any], on_load: Callable[[Any], None]):
        self.model = model
        self.inputs = dict(inputs)
        self.generation: Generation | None = None
        self.picture = w.HTML(
            "<div style='width:88px;height:64px;background:#f3f4f6;border-radius:4px'></div>"
        )
        self.label = w.HTML("")
        self.load_button = w.Button(
            description="Load", tooltip="load this run into the form", layout=w.Layout(width="88px")
        )
        self.load_button.on_click(lambda _b: on_load(self.generation or self))
        self.status = "queued"
        super().__init__([self.picture, self.label, self.load_button])
        self.add_class("eachlabs-hist-item")
        self._render()

    def _render(self) -> None:
        short = self.model if len(self.model) <= 18 else self.model[:17] + "…"
        self.label.value = (
            f"<div style='font-size:85%;line-height:1.2' title='{html.escape(self.model)}'>"
            f"{html.escape(short)}<br><span style='color:#6b7280'>{html.escape(self.status)}"
            "</span></div>"
        )

    def set_status(self, status: str) -> None:
        if status != self.status:
            self.status = status
            self._render()

    def finish(self, generation: Generation) -> None:
        self.generation = generation
        self.status = "success"
        if images_of(generation):
            self.children = (_thumb(images_of(generation)[0], 64), self.label, self.load_button)
        self._render()


class HistoryStrip(w.VBox):
    """This session's runs, newest first, each loadable into the form."""

    def __init__(self, on_load: Callable[[Any], None]) -> None:
        self.on_load = on_load
        self.items: list[HistoryItem] = []
        self.row = w.HBox([], layout=w.Layout(overflow="auto", width="100%"))
        self.row.add_class("eachlabs-history")
        super().__init__([_heading("History", " · this session"), self.row])
        self.add_class("eachlabs-section")

    def add(self, model: str, inputs: Mapping[str, Any]) -> HistoryItem:
        item = HistoryItem(model, inputs, self.on_load)
        self.items.insert(0, item)
        self.row.children = tuple(self.items)
        return item


class TrainingBox(w.VBox):
    """Training images for a trainer: several files (zipped in memory) or a folder or zip path."""

    def __init__(self, on_zip: Callable[[LocalMedia], None]) -> None:
        self.on_zip = on_zip
        self.upload = w.FileUpload(accept="image/*,.zip,.txt", multiple=True, description="Images…")
        self.folder = w.Text(
            placeholder="or a folder / .zip path on the kernel's machine",
            layout=w.Layout(width="320px"),
        )
        self.use_folder = w.Button(description="Use folder", layout=w.Layout(width="auto"))
        self.status = w.HTML("")
        super().__init__(
            [
                _heading(
                    "Training images",
                    " · choose 10 or more images (or one .zip); they are zipped and uploaded",
                ),
                w.HBox([self.upload, self.folder, self.use_folder]),
                self.status,
            ]
        )
        self.add_class("eachlabs-section")
        self.upload.observe(self._uploaded, "value")
        self.use_folder.on_click(lambda _b: self.take_folder(self.folder.value))

    def _uploaded(self, change: Any) -> None:
        files = change["new"]
        if not files:
            return
        try:
            self.take([(f.get("name") or "image", bytes(f["content"])) for f in files])
        finally:
            self.upload.value = ()

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
        self._done(media, html.escape(folder.strip()))

    def _done(self, media: LocalMedia, source: str) -> None:
        import io
        import zipfile

        with zipfile.ZipFile(io.BytesIO(media.data)) as archive:
            count = sum(1 for n in archive.namelist() if not n.lower().endswith((".txt", "/")))
        size = len(media.data) / 1e6
        self.status.value = (
            f"<span style='color:#15803d'>{count} image(s) from {source} → "
            f"{html.escape(media.filename)} ({size:.2f} MB), uploaded when you Generate</span>"
        )
        self.on_zip(media)

    def _error(self, message: str) -> None:
        self.status.value = f"<span style='color:#b91c1c'>⚠ {html.escape(message)}</span>"


def running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
