"""The live card: one prediction's progress as widget state, updated from background tasks.

Background work never prints and never uses ``with output:``: everything the card shows is a
trait (``HTML.value``, ``Image.value``), which reaches the right cell from any task.

The card shows the label, the status, a progress bar with an estimate of the time left (from
how long this model took before, learned in the journal), the place in line while other
predictions hold every slot, an ``emulator`` label, and how to cancel: a Cancel button when the
cell has returned (``--background``), the kernel's stop button while the cell waits (clicks wait
until a running cell ends). Colours are JupyterLab's CSS variables, with fallbacks.
"""

from __future__ import annotations

import asyncio
import html
import statistics
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
from ipywidgets.widgets.widget_string import HTMLStyle

from ._render import (
    ACCENT,
    CARD_HEIGHT,
    EMULATOR_TAG,
    ERROR,
    MUTED,
    SUCCESS,
    SURFACE,
    WARN,
    error_sentence,
    short_id,
    short_name,
    thumbnail_of,
)

if TYPE_CHECKING:
    from ._generation import Generation
    from ._prediction import Prediction

__all__ = ["CardParts", "LiveCard", "expected_seconds"]

_COLOURS = {
    "queued": MUTED,
    "created": MUTED,
    "starting": ACCENT,
    "processing": ACCENT,
    "downloading": ACCENT,
    "success": SUCCESS,
    "error": ERROR,
    "failed": ERROR,
    "cancelled": WARN,
    "timeout": WARN,
}
_ENDED = ("success", "error", "failed", "cancelled", "timeout")
FOREGROUND_HINT = "stop the kernel (■) to cancel; a cancelled prediction is not billed"


def expected_seconds(durations: Sequence[float]) -> float | None:
    """What a prediction of a model is expected to take: the median of its learned durations
    (seconds), or None before any was seen."""
    return statistics.median(durations) if durations else None


class CardParts:
    """Layouts and styles the cards of one run share: each widget would otherwise carry its
    own, and a notebook run headless (nbclient, papermill) keeps the state of every widget it
    ever saw, closed or not."""

    def __init__(self) -> None:
        self.plain = widgets.Layout()
        self.card = widgets.Layout(margin="4px 0")
        self.gallery = widgets.Layout(flex_flow="row wrap")
        self.image = widgets.Layout(margin="2px")
        self.html = HTMLStyle()

    def html_widget(self, value: str = "") -> widgets.HTML:
        return widgets.HTML(value, layout=self.plain, style=self.html)


class LiveCard(widgets.VBox):
    """Status, elapsed time, progress and one slot per expected image, for one prediction.

    ``expected``: seconds this model usually takes (None: unknown, the bar then only moves
    with the status); ``emulated``: label the card ``emulator``; ``on_cancel``: when given, a
    Cancel button calls it (background runs); otherwise the card says how to cancel a cell
    that waits (``hint``).
    """

    def __init__(
        self,
        label: str,
        *,
        slots: int = 1,
        prompt: str | None = None,
        expected: float | None = None,
        emulated: bool = False,
        on_cancel: Callable[[], None] | None = None,
        hint: str | None = None,
        parts: CardParts | None = None,
    ) -> None:
        self.parts = parts = parts or CardParts()
        self.label = label
        self.prompt = prompt
        self.status = "queued"
        self.detail = ""
        self.prediction_id: str | None = None
        self.expected = expected
        self.emulated = emulated
        self.hint = hint
        self.queue_position: int | None = None
        self._started = time.monotonic()
        self._running_since: float | None = None
        self._ended: float | None = None
        self.header = parts.html_widget()
        placeholders = [self._placeholder() for _ in range(max(1, slots))]
        self.gallery = widgets.HBox(placeholders, layout=parts.gallery)
        self._ticker: asyncio.Task[None] | None = None
        children: list[widgets.Widget] = [self.header, self.gallery]
        self.cancel_button: widgets.Button | None = None
        if on_cancel is not None:
            self.cancel_button = widgets.Button(
                description="Cancel",
                tooltip="cancel this prediction on the service (not billed)",
                layout=widgets.Layout(width="auto", align_self="flex-start"),
            )
            self.cancel_button.on_click(lambda _: on_cancel())
            children.append(self.cancel_button)
        super().__init__(children, layout=parts.card)
        self.add_class("eachlabs-card")
        self._render()

    def _placeholder(self) -> widgets.HTML:
        return self.parts.html_widget(
            f"<div style='width:{CARD_HEIGHT}px;height:{CARD_HEIGHT}px;background:{SURFACE};"
            f"border-radius:4px;display:flex;align-items:center;justify-content:center;"
            f"color:{MUTED}'>…</div>"
        )

    @property
    def elapsed(self) -> float:
        return (self._ended or time.monotonic()) - self._started

    @property
    def ended(self) -> bool:
        return self.status in _ENDED

    def progress(self) -> tuple[float, str]:
        """``(fraction done 0..1, words)`` for the bar: time against what the model usually
        takes, or the step reached when that is not known."""
        if self.status == "success":
            return 1.0, ""
        if self.ended:
            return 0.0, ""
        if self.status == "queued":
            if self.queue_position:
                return 0.0, f"{_ordinal(self.queue_position)} in line"
            return 0.0, "waiting for a slot"
        if self.status == "downloading":
            return 0.95, "downloading"
        since = self._running_since or self._started
        running = time.monotonic() - since
        if self.expected:
            fraction = min(0.95, running / self.expected)
            left = self.expected - running
            words = f"~{left:.0f} s left" if left >= 1 else "any moment now"
            return fraction, words
        return 0.1, "time left unknown (first run of this model)"

    def _render(self) -> None:
        colour = _COLOURS.get(self.status, MUTED)
        ident = ""
        if self.prediction_id:
            full = html.escape(self.prediction_id, quote=True)
            ident = f" <code title='{full}'>{html.escape(short_id(self.prediction_id))}</code>"
        emulator = f" {EMULATOR_TAG}" if self.emulated else ""
        detail = f" — {html.escape(self.detail)}" if self.detail else ""
        fraction, words = self.progress()
        bar = ""
        if not self.ended:
            bar = (
                f"<div style='display:flex;align-items:center;gap:8px;margin:2px 0'>"
                f"<div class='eachlabs-progress' style='width:180px;height:6px;"
                f"background:{SURFACE};border-radius:3px;overflow:hidden'>"
                f"<div style='width:{fraction * 100:.0f}%;height:100%;background:{ACCENT}'>"
                f"</div></div><span style='color:{MUTED};font-size:90%'>"
                f"{html.escape(words)}</span></div>"
            )
        hint = ""
        if self.hint and not self.ended:
            hint = f"<div style='color:{MUTED};font-size:85%'>{html.escape(self.hint)}</div>"
        prompt = (
            f"<div style='color:{MUTED};font-size:90%'>{html.escape(self.prompt[:200])}</div>"
            if self.prompt
            else ""
        )
        self.header.value = (
            f"<div><b>{html.escape(self.label)}</b>{emulator} "
            f"<span class='eachlabs-status' style='color:{colour};font-weight:600'>"
            f"{html.escape(self.status)}</span> {self.elapsed:.1f} s{ident}{detail}</div>"
            f"{bar}{prompt}{hint}"
        )
        if self.cancel_button is not None and self.ended:
            self.cancel_button.layout.display = "none"

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

    def set_queue(self, position: int | None) -> None:
        """This prediction waits for a slot, ``position``-th in line (None: not waiting)."""
        if position != self.queue_position:
            self.queue_position = position
            self._render()

    def update(self, prediction: Prediction) -> None:
        """A poll answer arrived."""
        self.prediction_id = prediction.id or self.prediction_id
        if self._running_since is None and prediction.status in ("created", "starting"):
            self._running_since = time.monotonic()
        self.status = prediction.status
        self.queue_position = None
        self._render()

    def set_status(self, status: str, detail: str = "") -> None:
        self.status = status
        self.detail = detail
        if status in _ENDED:
            self._stop()
        self._render()

    def finish(self, generation: Generation) -> None:
        """Show the results as thumbnails (made beforehand off the loop, when possible)."""
        self._stop()
        self.status = "success"
        self.prediction_id = generation.id
        thumbs: list[Any] = []
        for index in range(len(generation.images)):
            jpeg = thumbnail_of(generation, CARD_HEIGHT, index)
            if jpeg:
                thumbs.append(widgets.Image(value=jpeg, format="jpeg", layout=self.parts.image))
        broken = generation.undecodable
        for index in broken:  # paid for and kept on disk, but not a picture Pillow can show
            thumbs.append(self.parts.html_widget(_not_shown(generation, index)))
        if not thumbs:  # files that are not images (LoRA weights, archives): name them
            names = [p.name for p in generation.paths] or [
                u.rsplit("/", 1)[-1] for u in generation.urls
            ]
            listing = "<br>".join(html.escape(short_name(n)) for n in names) or "no output files"
            thumbs = [self.parts.html_widget(f"<div style='font-size:90%'>{listing}</div>")]
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
            self.set_status("error", error_sentence(error))


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _not_shown(generation: Generation, index: int) -> str:
    """A placeholder tile for output ``index``, which does not decode: its file name, why."""
    if index < len(generation.paths):
        name = generation.paths[index].name
    else:
        name = generation.outputs[index].url.split("?", 1)[0].rsplit("/", 1)[-1] or "output"
    why = generation.undecodable.get(index, "")
    return (
        f"<div style='width:160px;min-height:96px;background:{SURFACE};border-radius:4px;"
        f"padding:4px;font-size:85%;overflow-wrap:anywhere' title='{html.escape(why, quote=True)}'>"
        f"⚠ not shown (does not decode as an image)<br><code>{html.escape(name)}</code></div>"
    )
