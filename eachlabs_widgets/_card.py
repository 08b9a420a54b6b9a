"""The live card: one prediction's progress as widget state, updated from background tasks.

Background work never prints and never uses ``with output:``: everything the card shows is a
trait (``HTML.value``, ``Image.value``), which reaches the right cell from any task.
"""

from __future__ import annotations

import asyncio
import html
import time
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

if TYPE_CHECKING:
    from ._generation import Generation
    from ._prediction import Prediction

__all__ = ["LiveCard"]

_COLOURS = {
    "queued": "#6b7280",
    "created": "#6b7280",
    "starting": "#2563eb",
    "processing": "#2563eb",
    "downloading": "#7c3aed",
    "success": "#15803d",
    "error": "#b91c1c",
    "failed": "#b91c1c",
    "cancelled": "#92400e",
    "timeout": "#b45309",
}


class LiveCard(widgets.VBox):
    """Status, elapsed time and one slot per expected image, for one prediction."""

    def __init__(self, label: str, *, slots: int = 1, prompt: str | None = None) -> None:
        self.label = label
        self.prompt = prompt
        self.status = "queued"
        self.detail = ""
        self.prediction_id: str | None = None
        self._started = time.monotonic()
        self._ended: float | None = None
        self.header = widgets.HTML()
        placeholders = [self._placeholder() for _ in range(max(1, slots))]
        self.gallery = widgets.HBox(placeholders, layout=widgets.Layout(flex_flow="row wrap"))
        self._ticker: asyncio.Task[None] | None = None
        super().__init__([self.header, self.gallery], layout=widgets.Layout(margin="4px 0"))
        self.add_class("eachlabs-card")
        self._render()

    @staticmethod
    def _placeholder() -> widgets.HTML:
        return widgets.HTML(
            "<div style='width:128px;height:96px;background:#f3f4f6;border-radius:4px;"
            "display:flex;align-items:center;justify-content:center;color:#9ca3af'>…</div>"
        )

    @property
    def elapsed(self) -> float:
        return (self._ended or time.monotonic()) - self._started

    def _render(self) -> None:
        colour = _COLOURS.get(self.status, "#374151")
        ident = f" <code>{html.escape(self.prediction_id)}</code>" if self.prediction_id else ""
        detail = f" — {html.escape(self.detail)}" if self.detail else ""
        prompt = (
            f"<div style='color:#555;font-size:90%'>{html.escape(self.prompt[:200])}</div>"
            if self.prompt
            else ""
        )
        self.header.value = (
            f"<div><b>{html.escape(self.label)}</b> "
            f"<span class='eachlabs-status' style='color:{colour};font-weight:600'>"
            f"{html.escape(self.status)}</span> {self.elapsed:.1f} s{ident}{detail}</div>{prompt}"
        )

    def start_ticker(self, interval: float = 0.5) -> None:
        """Refresh the elapsed time while the prediction runs (needs a running loop)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._ticker = loop.create_task(self._tick(interval))

    async def _tick(self, interval: float) -> None:
        while self._ended is None:
            await asyncio.sleep(interval)
            self._render()

    def _stop(self) -> None:
        self._ended = time.monotonic()
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    def update(self, prediction: Prediction) -> None:
        """A poll answer arrived."""
        self.prediction_id = prediction.id or self.prediction_id
        self.status = prediction.status
        self._render()

    def set_status(self, status: str, detail: str = "") -> None:
        self.status = status
        self.detail = detail
        if status in ("error", "failed", "cancelled", "timeout"):
            self._stop()
        self._render()

    def finish(self, generation: Generation) -> None:
        """Show the results as thumbnails."""
        from ._render import thumbnail_jpeg

        self._stop()
        self.status = "success"
        self.prediction_id = generation.id
        thumbs: list[Any] = []
        for image in generation.images:
            try:
                jpeg = thumbnail_jpeg([image], height=160)
            except Exception:  # an image Pillow opened but cannot scale: named below
                jpeg = None
            if jpeg:
                thumbs.append(
                    widgets.Image(value=jpeg, format="jpeg", layout=widgets.Layout(margin="2px"))
                )
        broken = generation.undecodable
        for index in broken:  # paid for and kept on disk, but not a picture Pillow can show
            thumbs.append(widgets.HTML(_not_shown(generation, index)))
        if not thumbs:  # files that are not images (LoRA weights, archives): name them
            names = [p.name for p in generation.paths] or [
                u.rsplit("/", 1)[-1] for u in generation.urls
            ]
            listing = "<br>".join(html.escape(n) for n in names) or "no output files"
            thumbs = [widgets.HTML(f"<div style='font-size:90%'>{listing}</div>")]
        if generation.raw_output:
            self.detail = "no output file: the raw output is kept in .output"
        elif broken:
            self.detail = f"{len(broken)} output(s) do not decode as images: kept as files"
        if generation.save_error:
            self.detail = (self.detail + "; " if self.detail else "") + "files not saved"
        for placeholder in self.gallery.children:
            placeholder.close()
        self.gallery.children = tuple(thumbs)
        self._render()

    def fail(self, error: BaseException) -> None:
        from ._exceptions import PredictionCancelledError, PredictionTimeoutError

        if isinstance(error, (PredictionCancelledError, asyncio.CancelledError, KeyboardInterrupt)):
            self.set_status("cancelled", "not billed")
        elif isinstance(error, PredictionTimeoutError):
            self.set_status("timeout", str(error))
        else:
            self.set_status("error", str(error))


def _not_shown(generation: Generation, index: int) -> str:
    """A placeholder tile for output ``index``, which does not decode: its file name, why."""
    if index < len(generation.paths):
        name = generation.paths[index].name
    else:
        name = generation.outputs[index].url.split("?", 1)[0].rsplit("/", 1)[-1] or "output"
    why = generation.undecodable.get(index, "")
    return (
        "<div style='width:160px;min-height:96px;background:#fef3c7;border-radius:4px;"
        f"padding:4px;font-size:85%;overflow-wrap:anywhere' title='{html.escape(why, quote=True)}'>"
        f"⚠ not shown (does not decode as an image)<br><code>{html.escape(name)}</code></div>"
    )
