"""The live card: one prediction's progress as widget state, updated from background tasks.

Background work never prints and never uses ``with output:``: everything the card shows is a
trait (``HTML.value``, ``Image.value``), which reaches the right cell from any task.

One card class shows a prediction's progress everywhere: the cells of ``%%eachgen`` and
``generate()`` (driven by :class:`~._runs.CellRun`) and the runs of the panel. It shows the label,
the status, a progress bar with an estimate of the time left (from how long this model took
before, learned in the journal), the place in line while other predictions hold every slot (the
line counts the waiting cards of every cell and panel: :func:`join_line`), an ``emulator``
label, and how to cancel: a Cancel button when the cell has returned (``--background``, the
panel), the kernel's stop button while the cell waits (clicks wait until a running cell ends).

Colours are JupyterLab's CSS variables, with fallbacks. Texts keep the theme's own colour (the
status is a pill with a coloured edge): JupyterLab's green and orange are below 4.5:1 against
its Light background, and its red against its Dark one.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import statistics
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets
from ipywidgets.widgets.widget_string import HTMLStyle

from .render import (
    ACCENT,
    CARD_HEIGHT,
    ERROR,
    MUTED,
    SUCCESS,
    SURFACE,
    WARN,
    error_codes,
    error_sentence,
    short_id,
    short_name,
    thumbnail_of,
)

if TYPE_CHECKING:
    from .._generation import Generation
    from .._journal.journal import Journal
    from .._service.prediction import Prediction

__all__ = [
    "TRAINING_GUESS",
    "CardParts",
    "LiveCard",
    "close_tree",
    "expected_seconds",
    "join_line",
    "leave_line",
    "number_the_line",
    "typical_seconds",
]

_COLOURS = {
    "queued": MUTED,
    "created": MUTED,
    "starting": ACCENT,
    "uploading": ACCENT,
    "processing": ACCENT,
    "downloading": ACCENT,
    "success": SUCCESS,
    "error": ERROR,
    "failed": ERROR,
    "cancelled": WARN,
    "cancel requested": WARN,
    "timeout": WARN,
    "not run": MUTED,  # left out by a budget before its create: nothing to warn of
}
#: "cancel requested" ends the card's run (the call returned), but not its story: the
#: service's later word on how the prediction ended still reaches it (see update()).
_ENDED = ("success", "error", "failed", "cancelled", "cancel requested", "timeout", "not run")
CANCEL_REQUESTED = "cancel requested"
#: What a card says of an accepted cancel whose outcome the service has not told yet.
CANCEL_PENDING = "the service may still finish it (then it is billed and saved)"
#: After this many seconds in ``created``, a prediction is said to be held in the provider's
#: queue (API.md, "Poll": ``created`` can last long while a provider's capacity holds it).
PROVIDER_QUEUE_AFTER = 10.0
#: The status pill: the theme's text colour on the theme's background, edged in the status's
#: colour (coloured text would fall below 4.5:1 in some themes).
_PILL = "display:inline-block;padding:0 6px;border-radius:8px;font-weight:600;line-height:1.5;"
_EMULATOR = (
    f"<span class='eachlabs-emulator' style='{_PILL}border:1px solid {WARN};"
    "font-size:85%'>emulator</span>"
)
FOREGROUND_HINT = "stop the kernel (■) to cancel it on the service"
TRAINING_GUESS = 300.0
"""Seconds a training run is assumed to take before one of its trainer was seen to end (a
guess, said as such on the card): trainers take minutes, and a bar that never moves looks
stuck."""


def expected_seconds(durations: Sequence[float]) -> float | None:
    """What a prediction of a model is expected to take: the median of its learned durations
    (seconds), or None before any was seen."""
    return statistics.median(durations) if durations else None


def typical_seconds(journal: Journal | None, model: str, base_url: str) -> float | None:
    """What a prediction of ``model`` on ``base_url`` usually takes (seconds, the median of
    the durations the journal learned), as known right now without waiting; None before one
    was seen, or without a journal."""
    if journal is None:
        return None
    return expected_seconds(journal.durations_nowait(model, base_url))


def close_tree(widget: Any, seen: set[int] | None = None, *, close: bool = True) -> set[int]:
    """Close a widget and every widget it holds (children, layout, style), so no widget state
    is left behind; the ids in ``seen`` are left open. With ``close=False``, only collect
    into ``seen`` what the widget holds. Returns ``seen``."""
    seen = set() if seen is None else seen
    if id(widget) in seen or not isinstance(widget, widgets.Widget):
        return seen
    seen.add(id(widget))
    for name in widget.keys:
        value = getattr(widget, name, None)
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, widgets.Widget):
                close_tree(item, seen, close=close)
    if close:
        with contextlib.suppress(Exception):
            widget.close()
    return seen


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

    def ids(self) -> set[int]:
        """The ids of the shared widgets (what closing one card must leave open)."""
        return {id(part) for part in (self.plain, self.card, self.gallery, self.image, self.html)}


class LiveCard(widgets.VBox):
    """Status, elapsed time, progress and one slot per expected image, for one prediction.

    ``expected``: seconds this model usually takes (None: unknown, the bar then only moves
    with the status); ``guess``: seconds assumed while nothing was learned (a training run's
    :data:`TRAINING_GUESS`), said as a guess; ``emulated``: label the card ``emulator``;
    ``on_cancel``: when given, a Cancel button calls it (background runs, the panel); otherwise
    the card says how to cancel a cell that waits (``hint``). ``thumbnails=False``: no image
    slots and no thumbnails at the end (the panel shows results on its stage); outputs that are
    not pictures are still listed. ``parts``: layouts shared with other cards (left open when
    this card closes).

    The card's CSS hooks: ``eachlabs-card`` on the card, ``eachlabs-card-head`` on its header,
    ``eachlabs-status eachlabs-status-<status>`` on the status, ``eachlabs-progress`` on the bar,
    ``eachlabs-card-actions`` on the row of :meth:`add_action`.
    """

    children: tuple[Any, ...]  # the Box trait (for the type checker: ipywidgets has no types)

    def __init__(
        self,
        label: str,
        *,
        slots: int = 1,
        prompt: str | None = None,
        expected: float | None = None,
        guess: float | None = None,
        emulated: bool = False,
        on_cancel: Callable[[], None] | None = None,
        hint: str | None = None,
        thumbnails: bool = True,
        parts: CardParts | None = None,
    ) -> None:
        self._own_parts = parts is None
        self.parts = parts = parts or CardParts()
        self.label = label
        self.prompt = prompt
        self.status = "queued"
        self.detail = ""
        #: A muted second line: the service's classification of a failure.
        self.subline = ""
        self.prediction_id: str | None = None
        self.expected = expected
        self.guess = guess
        self.emulated = emulated
        self.hint = hint
        self.thumbnails = thumbnails
        self.queue_position: int | None = None
        self._started = time.monotonic()
        self._running_since: float | None = None
        self._ended: float | None = None
        self._closed = False
        self.header = parts.html_widget()
        self.header.add_class("eachlabs-card-head")
        placeholders = [self._placeholder() for _ in range(max(1, slots))] if thumbnails else []
        self.gallery = widgets.HBox(placeholders, layout=parts.gallery)
        self._ticker: asyncio.Task[None] | None = None
        children: list[widgets.Widget] = [self.header, self.gallery]
        self.cancel_button: widgets.Button | None = None
        if on_cancel is not None:
            self.cancel_button = widgets.Button(
                description="Cancel",
                tooltip="ask the service to cancel this prediction",
                layout=widgets.Layout(width="auto", align_self="flex-start"),
            )
            self.cancel_button.on_click(lambda _: on_cancel())
            children.append(self.cancel_button)
        self.actions: widgets.HBox | None = None
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

    @property
    def closed(self) -> bool:
        """The card was closed: its widgets have left the front end."""
        return self._closed

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
        if self.status == "uploading":
            return 0.02, "uploading the inputs"
        if self.status == "downloading":
            return 0.95, "downloading"
        since = self._running_since or self._started
        running = time.monotonic() - since
        fraction, words = self._time_left(running)
        if self.status == "created" and running >= PROVIDER_QUEUE_AFTER:
            words = "queued at the provider (its capacity holds the job)"
        return fraction, words

    def _time_left(self, running: float) -> tuple[float, str]:
        """The bar's fraction and words from how long it has run (seconds)."""
        expected = self.expected or self.guess
        if expected:
            fraction = min(0.95, 0.05 + 0.9 * running / expected)  # created: past uploading
            left = expected - running
            if self.expected:
                return fraction, f"~{_span(left)} left" if left >= 1 else "any moment now"
            if left >= 1:
                return fraction, f"~{_span(left)} left (a guess: no run of this model seen yet)"
            return fraction, "time left unknown (first run of this model)"
        return 0.1, "time left unknown (first run of this model)"

    def _render(self) -> None:
        if self._closed:
            return
        colour = _COLOURS.get(self.status, MUTED)
        ident = ""
        if self.prediction_id:
            full = html.escape(self.prediction_id, quote=True)
            ident = f" <code title='{full}'>{html.escape(short_id(self.prediction_id))}</code>"
        emulator = f" {_EMULATOR}" if self.emulated else ""
        detail = f" — {html.escape(self.detail)}" if self.detail else ""
        fraction, words = self.progress()
        bar = ""
        if not self.ended:
            bar = (
                f"<div style='display:flex;align-items:center;gap:8px;margin:2px 0'>"
                f"<div class='eachlabs-progress' role='progressbar' aria-valuemin='0' "
                f"aria-valuemax='100' aria-valuenow='{fraction * 100:.0f}' "
                f"style='width:180px;height:6px;flex:none;"
                f"background:{SURFACE};border-radius:3px;overflow:hidden'>"
                f"<div style='width:{fraction * 100:.0f}%;height:100%;background:{ACCENT}'>"
                f"</div></div><span style='color:{MUTED};font-size:90%'>"
                f"{html.escape(words)}</span></div>"
            )
        hint = ""
        if self.subline:
            hint = f"<div style='color:{MUTED};font-size:85%'>{html.escape(self.subline)}</div>"
        if self.hint and not self.ended:
            hint += f"<div style='color:{MUTED};font-size:85%'>{html.escape(self.hint)}</div>"
        prompt = (
            f"<div style='color:{MUTED};font-size:90%'>{html.escape(self.prompt[:200])}</div>"
            if self.prompt
            else ""
        )
        status = html.escape(self.status)
        self.header.value = (
            f"<div><b>{html.escape(self.label)}</b>{emulator} "
            f"<span class='eachlabs-status eachlabs-status-{status}' style='{_PILL}"
            f"border:1px solid {colour}'>{status}</span> {self.elapsed:.1f}&nbsp;s{ident}{detail}"
            "</div>"
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
        self._ended = self._ended or time.monotonic()
        if self._ticker is not None:
            self._ticker.cancel()
            self._ticker = None

    def _leave_queue(self, status: str) -> None:
        """The status changes to ``status``: when the card stops waiting, the cards behind it
        move up the line."""
        was_waiting = self.status == "queued"
        self.status = status
        if was_waiting and status != "queued":
            self.queue_position = None
            number_the_line()

    def set_queue(self, position: int | None) -> None:
        """This prediction waits for a slot, ``position``-th in line (None: not waiting)."""
        if position != self.queue_position:
            self.queue_position = position
            self._render()

    def update(self, prediction: Prediction) -> None:
        """A poll answer arrived. Once the card has ended, none changes it: a run cancelled
        while it waited for a slot may have its create answered later (and cancelled on the
        service), which must not turn a "cancelled" card back into "created". The one
        exception: a card whose cancel was requested learns how the prediction ended."""
        if self.status == CANCEL_REQUESTED and prediction.done:
            self._settled(prediction)
            return
        if self.ended:
            return
        self.prediction_id = prediction.id or self.prediction_id
        if self._running_since is None and prediction.status in ("created", "starting"):
            self._running_since = time.monotonic()
        self._leave_queue(prediction.status)
        self.queue_position = None
        self._render()

    def _settled(self, prediction: Prediction) -> None:
        """The service said how a prediction whose cancel was requested ended."""
        if prediction.cancelled:
            self.set_status("cancelled", "not billed")
        elif prediction.succeeded:
            cost = prediction.metrics.get("cost")
            paid = f", ${cost:.2f}" if isinstance(cost, int | float) else ""
            self.set_status("success", f"finished before the cancel took effect: saved{paid}")
        else:
            error = prediction.error()
            self.set_status("error", error_sentence(error) if error else prediction.status)
            self.subline = error_codes(error) if error else ""
            self._render()

    def set_status(self, status: str, detail: str = "") -> None:
        """Show ``status`` (``uploading``, an end the card was told of…) and a ``detail``."""
        self._leave_queue(status)
        self.detail = detail
        if status in _ENDED:
            self._stop()
        self._render()

    def add_action(self, widget: widgets.Widget) -> None:
        """Put ``widget`` (a button, say) on the card's row of actions, made when first used."""
        if self._closed:
            widget.close()
            return
        if self.actions is None:
            self.actions = widgets.HBox([], layout=widgets.Layout(flex_flow="row wrap"))
            self.actions.add_class("eachlabs-card-actions")
            self.children = (*self.children, self.actions)
        self.actions.children = (*self.actions.children, widget)

    def finish(self, generation: Generation) -> None:
        """Show the results as thumbnails (made beforehand off the loop, when possible); with
        ``thumbnails=False``, only what is not a picture (file names, outputs that do not
        decode)."""
        self._stop()
        self._leave_queue("success")
        self.prediction_id = generation.id
        thumbs: list[Any] = self._pictures(generation) if self.thumbnails else []
        broken = generation.undecodable
        for index in broken:  # paid for and kept on disk, but not a picture Pillow can show
            thumbs.append(self.parts.html_widget(_not_shown(generation, index)))
        if not thumbs and (self.thumbnails or not generation.images):
            # files that are not images (LoRA weights, archives): name them
            thumbs = [self.parts.html_widget(_listing(generation))]
        if generation.raw_output:
            self.detail = "no output file: the raw output is kept in .output"
        elif broken:
            self.detail = f"{len(broken)} output(s) do not decode as images: kept as files"
        if generation.save_error:
            self.detail = (self.detail + "; " if self.detail else "") + "files not saved"
        placeholders = self.gallery.children
        if not self._closed:
            self.gallery.children = tuple(thumbs)
        else:
            for thumb in thumbs:
                thumb.close()
        # Closed once the pictures took their place: closed first, they left the gallery
        # empty for a moment, and the card shrank and grew again.
        for placeholder in placeholders:
            placeholder.close()
        self._render()

    def _pictures(self, generation: Generation) -> list[Any]:
        """The widgets that show ``generation``'s pictures in the card's slots."""
        pictures = []
        for index in range(len(generation.images)):
            jpeg = thumbnail_of(generation, CARD_HEIGHT, index)
            if jpeg:
                pictures.append(widgets.Image(value=jpeg, format="jpeg", layout=self.parts.image))
        return pictures

    def fail(self, error: BaseException, *, say_why: bool = True) -> None:
        """Show how the call ended: cancelled ("not billed" only when the service said
        ``cancelled``; "nothing was sent" before a create; otherwise "cancel requested" until
        the service says how it ended), timed out, or failed with the service's own message
        and, on a muted second line, its classification and error code (``say_why=False``:
        only the status, where the message is said elsewhere, as on the panel's message
        line)."""
        from .._exceptions import (
            BudgetExceededError,
            PredictionCancelledError,
            PredictionTimeoutError,
        )

        if isinstance(error, BudgetExceededError):  # refused before its create: nothing sent
            self.set_status("not run", error_sentence(error) if say_why else "")
        elif isinstance(error, PredictionCancelledError) or self.status == "cancelled":
            self.set_status("cancelled", "not billed")  # the service said so
        elif isinstance(error, (asyncio.CancelledError, KeyboardInterrupt)):
            if self.prediction_id is None:
                self.set_status("cancelled", "nothing was sent")
            elif self.status == "downloading":  # it succeeded: billed, only the files wait
                self.set_status("cancelled", "the download was stopped; resume(id) fetches it")
            else:  # accepted is not done (API.md, "Cancel"): the service's word is awaited
                self.set_status(CANCEL_REQUESTED, CANCEL_PENDING)
        elif isinstance(error, PredictionTimeoutError):
            self.set_status("timeout", str(error) if say_why else "")
        else:
            self.subline = error_codes(error)
            self.set_status("error", error_sentence(error) if say_why else "")

    def close(self) -> None:
        """Close the card and every widget in it (their models leave the front end); layouts
        shared with other cards (``parts``) stay open."""
        if self._closed:
            return
        self._closed = True
        self._stop()
        keep = {id(self)} if self._own_parts else {id(self), *self.parts.ids()}
        for child in self.children:
            close_tree(child, keep)
        super().close()
        if self._own_parts:  # nobody else uses them: close them too
            parts = self.parts
            for part in (parts.card, parts.plain, parts.gallery, parts.image, parts.html):
                close_tree(part, keep)


#: The cards whose predictions are going, in groups (the cards of one cell, one panel run),
#: oldest first: their jobs took their places in the shared limiter's line in this order, so
#: a card's place counts the waiting cards of every cell and panel of this process.
_in_line: list[Sequence[LiveCard]] = []


def join_line(cards: Sequence[LiveCard]) -> None:
    """``cards`` take their places in line (behind every group already in it)."""
    _in_line.append(cards)
    number_the_line()


def leave_line(cards: Sequence[LiveCard]) -> None:
    """``cards`` (as given to :func:`join_line`) left the line: the others move up."""
    _in_line[:] = [group for group in _in_line if group is not cards]
    number_the_line()


def number_the_line() -> None:
    """Tell every waiting card its place among the waiting cards of all running groups."""
    position = 0
    for group in list(_in_line):
        for card in group:
            if card.status == "queued":
                position += 1
                card.set_queue(position)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _span(seconds: float) -> str:
    """``12 s``, or ``4 min`` from a minute and a half on."""
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _file_link(generation: Generation, index: int, short: bool = False) -> str:
    """Output ``index`` by name (``short``: cut to :func:`short_name`), linked to where the
    service serves it (a browser on another machine, as under Voila, still gets the file),
    the path it was saved as in its tooltip."""
    url = generation.urls[index] if index < len(generation.urls) else ""
    saved = generation.paths[index] if index < len(generation.paths) else None
    name = saved.name if saved else url.split("?", 1)[0].rsplit("/", 1)[-1] or "output"
    shown = html.escape(short_name(name) if short else name)
    title = html.escape(f"saved as {saved}" if saved else url, quote=True)
    if url.startswith(("http://", "https://")):
        href = html.escape(url, quote=True)
        return f"<a href='{href}' title='{title}' target='_blank' rel='noopener'>{shown}</a>"
    return f"<code title='{title}'>{shown}</code>"


def _listing(generation: Generation) -> str:
    """The files of a result that holds no picture (LoRA weights, archives), one a line."""
    count = max(len(generation.paths), len(generation.urls))
    names = "<br>".join(_file_link(generation, i, short=True) for i in range(count))
    names = names or "no output files"
    return f"<div style='font-size:90%;overflow-wrap:anywhere'>{names}</div>"


def _not_shown(generation: Generation, index: int) -> str:
    """A tile for output ``index``, which does not decode: its file (saved, or a link), why."""
    why = generation.undecodable.get(index, "")
    return (
        f"<div style='width:160px;min-height:96px;background:{SURFACE};border-radius:4px;"
        f"padding:4px;font-size:85%;overflow-wrap:anywhere' title='{html.escape(why, quote=True)}'>"
        f"⚠ not shown (does not decode as an image)<br>{_file_link(generation, index)}</div>"
    )
