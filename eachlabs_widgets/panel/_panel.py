"""``Panel``: pick a model, fill its form, generate, watch, browse, reuse — in one widget."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as w
import traitlets

from .._display.card import (
    TRAINING_GUESS,
    CardParts,
    LiveCard,
    join_line,
    leave_line,
    typical_seconds,
)
from .._display.markup import as_written
from .._exceptions import EachLabsError, InputValidationError
from .._generation import DEFAULT_OUTPUT_DIR, Generation
from .._journal.files import atomic_write, embed_metadata, extension_for, write_sidecar
from .._journal.journal import JournalEntry
from .._schema.lora import Lora
from .._schema.media import LocalMedia, is_local_media, sniff_content_type
from .._service.client import AsyncEachLabs
from .._settings import EMULATOR, output_dir
from ..forms import ModelForm
from ._catalog import load_catalogue
from ._history import history_mode
from ._keys import Shortcuts
from ._lineage import VARY_COUNT, FromChip, variations
from ._picker import ModelPicker
from ._pricing import PriceBook, format_duration, format_price
from ._snapshot import snapshot_html
from ._strip import HISTORY_LIMIT, ResultStrip, Shot
from ._text import run_text
from ._training import archive_field, lora_inputs, lora_model_for, lora_url
from ._upload import FileDrop
from ._widgets import LoraChip, Stage, TrainingBox, images_of, line, running_loop

__all__ = ["Panel"]

DEFAULT_MODEL = "flux-2-turbo-text-to-image"
FINISHED_SHOWN = 2
"""Finished runs kept as cards under Generate; older ones fold into one "N earlier runs" line
(their results are in the history strip). Runs in flight are always shown."""
DURATION_WAIT = 5.0
"""Seconds a finished run waits (in the background) for its record to be written, whose
duration the picker and the button then show."""
_FormAction = Callable[[ModelForm], None]


def _error_text(error: BaseException) -> str:
    if isinstance(error, InputValidationError):
        return str(error)
    name = type(error).__name__
    return f"{name}: {error}" if str(error) else name


class Panel(w.VBox):
    """EachLabs in one widget: a searchable model picker, the chosen model's form, Generate and
    Cancel on the left; the newest result large, with its actions, and the history strip
    (this session and earlier ones, from the journal) on the right.

    ``Panel(model="flux-2-turbo-text-to-image")`` starts on that model (default: Flux 2 Turbo
    when the catalogue has it, else its first model); ``value`` fills the form on top of the
    defaults. ``confirm_above`` (US dollars): a run estimated to cost more asks first.

    ``history``: ``"journal"`` lists earlier sessions' results (the journal of the kernel's
    user) in the strip; ``"session"`` only this panel's. The default is ``"journal"``, except
    under Voila, where a shared app must not show one visitor what another made:
    ``"session"`` there (see :func:`history_mode`). Raises ``ValueError`` for other values.

    Runs are tasks on the kernel's running event loop: the notebook stays usable, several runs
    may go at once, and Cancel cancels the prediction on the service. Results are saved like
    ``generate()`` saves them (``eachgen_outputs/``) and recorded in the journal. Ctrl/⌘+Enter
    in the panel generates.

    For code and tests: :meth:`ready` waits for the catalogue and the form, :meth:`wait` for
    every run, :meth:`select`, :meth:`load`, :meth:`use_as_input`, :meth:`use_lora`,
    :meth:`vary`, :meth:`remix`, :meth:`show_parent`, :meth:`save` and :meth:`copy_text` do
    what the buttons do. A run made from another one (Vary, Remix, Load into form or Use as
    input then Generate, an image recalled) records it as its ``parent`` in the journal
    (``lineage()``); its result says "from <short id>". ``generations`` lists this
    session's results. Shown in a notebook, the panel adds a second output: a static copy of
    its results (``text/html`` only, :meth:`snapshot_bundle`), kept up to date, which the
    saved, reopened or exported notebook shows; the live panel hides it.
    """

    model = traitlets.Unicode(None, allow_none=True, help="The chosen model's slug.")
    running = traitlets.Int(0, help="Predictions in flight.")

    def __init__(
        self,
        model: str | None = None,
        *,
        value: Mapping[str, Any] | None = None,
        client: AsyncEachLabs | None = None,
        confirm_above: float | None = None,
        history: str | None = None,
    ) -> None:
        self.history = history_mode(history)
        self.client = client or AsyncEachLabs()
        self.confirm_above = confirm_above
        self.form: ModelForm | None = None
        self.detail: dict[str, Any] | None = None
        self.generations: list[Generation] = []
        self.runs: list[LiveCard] = []  # newest first
        self.prices = PriceBook()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._run_tasks: dict[asyncio.Task[Any], LiveCard] = {}
        self._card_parts = CardParts()  # layouts every run's card shares
        self._form_task: asyncio.Task[Any] | None = None
        self._refresh_task: asyncio.Task[Any] | None = None  # durations after a run's record
        self._catalogue_task: asyncio.Task[Any] | None = None
        self._after_form: list[_FormAction] = []
        self._carry: tuple[Any, str] | None = None  # an image waiting for a model that takes one
        self._token = 0
        self._display_id: str | None = None
        self._saved: dict[str, Path] = {}
        self._pending_confirm: list[tuple[str, dict[str, Any], str | None]] | None = None
        #: The run the form's next Generate is made from (see ``FromChip``), if any.
        self.parent: str | None = None

        self._emulated = emulated = self.client.settings().is_emulator
        badge = "<span class='eachlabs-badge'>emulator</span>" if emulated else ""
        self.title = w.HTML(f"<span class='eachlabs-title'>EachLabs</span>{badge}")
        self.title.add_class("eachlabs-title-box")
        self.spend = w.HTML("")
        self.spend.add_class("eachlabs-spend")
        self.shortcuts = Shortcuts(self.generate)
        self.header = w.HBox([self.title, self.spend, self.shortcuts])
        self.header.add_class("eachlabs-header")
        # The session's budget is the process's: any run (a cell, a script) moves its spend.
        self._budget = getattr(self.client, "budget", None)
        if self._budget is not None:
            self._budget.on_change(self._show_spend)

        self.picker = ModelPicker(self._describe_model)
        self.form_area = w.VBox([w.HTML("<i class='eachlabs-muted'>loading…</i>")])
        self.training = TrainingBox(self._training_zip)
        self.training.layout.display = "none"
        self.loras = LoraChip(self._lora_scale)
        self._trigger = ""
        self.generate_button = w.Button(
            description="Generate",
            icon="play",
            button_style="primary",
            disabled=True,
            tooltip="start a prediction with these inputs (Ctrl/⌘+Enter)",
        )
        self.cancel_button = w.Button(
            description="Cancel",
            icon="stop",
            disabled=True,
            tooltip="ask the service to cancel every running prediction",
        )
        self.generate_button.add_class("eachlabs-generate")
        self.cancel_button.add_class("eachlabs-cancel")
        self.confirm_yes = w.Button(description="Generate anyway", button_style="warning")
        self.confirm_no = w.Button(description="Not now")
        self.confirm_text = w.HTML("")
        self.confirm_box = w.VBox([self.confirm_text, w.HBox([self.confirm_yes, self.confirm_no])])
        self.confirm_box.add_class("eachlabs-confirm")
        self.confirm_box.layout.display = "none"
        self.from_chip = FromChip(self.forget_parent)
        actions = w.HBox([self.generate_button, self.cancel_button])
        actions.add_class("eachlabs-actions")
        self.message = w.HTML("")
        self.message.add_class("eachlabs-message")
        self.earlier_runs = w.HTML("")
        self.earlier_runs.add_class("eachlabs-earlier-runs")
        self.runs_box = w.VBox([])
        self.runs_box.add_class("eachlabs-runs")
        self._folded = 0  # finished runs no longer shown as cards
        self._form_problems_shown = False  # the message is "fix the form first — …"
        self.left = w.VBox(
            [
                self.picker,
                self.loras,
                self.form_area,
                self.training,
                self.from_chip,
                actions,
                self.confirm_box,
                self.message,
                self.runs_box,
            ]
        )
        self.left.add_class("eachlabs-left")

        self.viewer = Stage()
        self.strip = ResultStrip(on_select=self._shot_selected, on_load=self._shot_load)
        self.strip.on_vary = lambda shot: self._vary(shot.model, shot.inputs, shot.run_id)
        self.strip.on_remix = lambda shot: self.remix(shot.source)
        # a panel of this session's runs only searches among them
        self.strip.from_journal = self.history == "journal"
        self.viewer.on_star = self._star_shown
        self.viewer.is_starred = self._is_starred
        # an image dropped here (ours, A1111's, ComfyUI's, InvokeAI's) fills the form
        self.recall_drop = FileDrop(
            self._recall_files,
            accept="image/png,image/jpeg,image/webp",
            label="Recall settings from an image…",
        )
        self.recall_drop.add_class("eachlabs-recall-drop")
        self.right = w.VBox([self.viewer, self.strip, self.recall_drop])
        self.right.add_class("eachlabs-right")
        self.body = w.Box([self.left, self.right])
        self.body.add_class("eachlabs-body")
        super().__init__([self.header, self.body])
        self.add_class("eachlabs-panel")

        self.generate_button.on_click(lambda _b: self.generate())
        self.cancel_button.on_click(lambda _b: self.cancel())
        self.confirm_yes.on_click(lambda _b: self._confirmed(True))
        self.confirm_no.on_click(lambda _b: self._confirmed(False))
        self.viewer.save_button.on_click(lambda _b: self.save())
        self.viewer.enlarge_button.on_click(lambda _b: self._enlarge())
        self.viewer.use_button.on_click(lambda _b: self._use_selected())
        self.viewer.load_button.on_click(lambda _b: self._load_selected())
        self.viewer.vary_button.on_click(lambda _b: self.vary())
        self.viewer.remix_button.on_click(lambda _b: self.remix())
        self.viewer.parent_button.on_click(lambda _b: self.show_parent())
        self.viewer.eachgen_button.on_click(lambda _b: self._copy_selected("eachgen"))
        self.viewer.python_button.on_click(lambda _b: self._copy_selected("python"))
        self.picker.observe(self._picked, "value")

        if value is not None:
            self._after_form.append(lambda form: form.update(dict(value)))
        self._show_spend()
        self._catalogue_task = self._launch(self._load_catalogue(model), self._report)

    # -- tasks ----------------------------------------------------------------------------------
    def _launch(
        self,
        coro: Coroutine[Any, Any, Any],
        on_done: Callable[[asyncio.Task[Any]], None],
    ) -> asyncio.Task[Any]:
        """A task on the running loop (kept referenced, reported when done). Without a running
        loop (a plain script), the coroutine runs to its end before this returns."""
        loop = running_loop()
        if loop is not None:
            task = loop.create_task(coro)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            task.add_done_callback(on_done)
            return task
        from .._service.sync import _private_loop

        private = _private_loop()
        task = private.create_task(coro)
        with contextlib.suppress(Exception, asyncio.CancelledError):
            private.run_until_complete(task)
        on_done(task)
        return task

    def _report(self, task: asyncio.Task[Any]) -> None:
        """Show a background step's failure in the panel (never print, never raise here)."""
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            self.show_error(_error_text(error))

    def show_error(self, text: str) -> None:
        """The run's (or a step's) error, on its own line under the buttons."""
        self._form_problems_shown = False
        self.message.value = line(text, "error")

    def show_note(self, text: str) -> None:
        self._form_problems_shown = False
        self.message.value = line(text, "note")

    def _clear_message(self) -> None:
        self._form_problems_shown = False
        self.message.value = ""

    def _show_form_problems(self) -> None:
        """The form's current problems on the message line (Generate was refused). From then
        on the line follows the form as it is edited (empty while the form is valid) until a
        run starts or another message takes the line."""
        form = self.form
        self._form_problems_shown = form is not None
        if form is None or form.valid:
            self.message.value = ""
            self.generate_button.tooltip = "start a prediction with these inputs (Ctrl/⌘+Enter)"
            return
        problems = "; ".join(f"{form.label_of(k)}: {v}" for k, v in form.errors.items())
        self.message.value = line(f"fix the form first — {problems}", "error")
        self.generate_button.tooltip = f"fix first: {problems}"

    def _form_errors_changed(self, _change: Any = None) -> None:
        if self._form_problems_shown:
            self._show_form_problems()

    async def ready(self) -> None:
        """Wait until the catalogue is listed and the chosen model's form is shown."""
        while True:
            pending = [t for t in (self._catalogue_task, self._form_task) if t and not t.done()]
            if not pending:
                return
            await asyncio.wait(pending)

    async def wait(self) -> list[Generation]:
        """Wait for every run in flight (failures are shown in the panel, not raised), and
        for what they taught to be shown."""
        while self._run_tasks:
            await asyncio.wait(list(self._run_tasks))
        if self._refresh_task is not None and not self._refresh_task.done():
            await asyncio.wait([self._refresh_task])
        return list(self.generations)

    # -- the model and its form -----------------------------------------------------------------
    async def _load_catalogue(self, model: str | None) -> None:
        try:
            models = await load_catalogue(self.client)
        except Exception as exc:
            self.picker.status = f"could not list the models: {_error_text(exc)}"
            if model:  # the service is unreachable for listing: still show the asked model
                self.picker.set_models([{"slug": model}])
                self.picker.value = model
            raise
        slugs = [m["slug"] for m in models]
        choice = model or (DEFAULT_MODEL if DEFAULT_MODEL in slugs else (slugs or [None])[0])
        if choice and self.model is None:  # select() or load() may have chosen one meanwhile
            self.select(choice)
        self.picker.set_models(models)
        await self._load_history(slugs)

    async def _load_history(self, slugs: list[str]) -> None:
        """Earlier sessions from the journal: the strip's history and the prices. The
        durations are the journal's own (:meth:`expected_seconds`), read as it is opened."""
        journal = self.client.journal
        if journal is None:
            return
        base_url = self.client.settings().base_url

        def read() -> list[Any]:
            # Opens the journal's reading of the durations, which is served before the
            # entries below: once they are back, expected_seconds() knows them.
            journal.durations_nowait(slugs[0] if slugs else "", base_url)
            return journal.entries(limit=HISTORY_LIMIT * 2)

        try:
            entries = await asyncio.to_thread(read) if running_loop() is not None else read()
        except Exception as exc:  # the journal is a help here, never a requirement
            self.show_note(f"history unavailable: {exc}")
            return
        self.prices.learn_journal(entries)  # prices only: nothing is shown
        if self.history == "journal":
            self.strip.add_history(entries, emulator=EMULATOR)
        self._show_durations()

    def expected_seconds(self, model: str) -> float | None:
        """What a run of ``model`` usually takes (seconds; None before one was seen): the one
        figure the picker, the Generate/Train button and the run's card all show, the same
        one the cards of ``%%eachgen`` cells show (:func:`typical_seconds`)."""
        return typical_seconds(self.client.journal, model, self.client.settings().base_url)

    def _show_durations(self) -> None:
        """Show what was learned of the durations in the picker and on the button."""
        self.picker.refresh()
        self._show_estimate()

    async def _durations_after_writes(self) -> None:
        """A run's duration reaches the journal's figures once its record is written: show
        them then."""
        journal = self.client.journal
        if journal is not None:
            await journal.aflush(DURATION_WAIT)
        self._show_durations()

    def _describe_model(self, slug: str) -> dict[str, str]:
        """The picker's price and duration of ``slug`` (empty where unknown)."""
        price = self.prices.per_image(slug)
        return {
            "price": f"{format_price(price)} / image" if price is not None else "",
            "duration": format_duration(self.expected_seconds(slug)),
        }

    def select(self, model: str, value: Mapping[str, Any] | None = None) -> None:
        """Choose ``model`` (its form is fetched in the background); ``value`` is set on top of
        the defaults (``ModelForm.update``)."""
        if value is not None:
            self._after_form.append(lambda form: form.update(dict(value)))
        self._choose(model)

    def _choose(self, model: str) -> None:
        if model == self.model and self.form is not None and not self._loading():
            self._apply_after_form()
            return
        self.picker.value = model  # -> _picked -> model

    def _loading(self) -> bool:
        return self._form_task is not None and not self._form_task.done()

    def _picked(self, change: Any) -> None:
        slug = change["new"]
        if slug and slug != self.model:
            self.model = slug

    @traitlets.observe("model")
    def _model_changed(self, change: Any) -> None:
        slug = change["new"]
        if self.picker.value != slug:
            self.picker.value = slug
        if not slug:
            return
        self._token += 1
        self.generate_button.disabled = True
        if self.form is None:
            self.form_area.children = (w.HTML(f"<i class='eachlabs-muted'>loading {slug}…</i>"),)
        self._form_task = self._launch(self._load_form(slug, self._token), self._form_done)

    async def _load_form(self, slug: str, token: int) -> None:
        detail = await self.client.get_model(slug)
        if token != self._token:
            return  # another model was chosen meanwhile
        self._show_form(detail)

    def _form_done(self, task: asyncio.Task[Any]) -> None:
        if task is self._form_task:
            self._validity()
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            assert error is not None
            old, self.form = self.form, None
            self.form_area.children = (
                w.HTML(line(f"could not load the model: {_error_text(error)}", "error")),
            )
            if old is not None:
                old.close()
            self._report(task)
            self._validity()

    def _show_form(self, detail: Mapping[str, Any]) -> None:
        old = self.form
        self.detail = dict(detail)
        form = ModelForm(detail)
        if old is not None:
            kept = form.carry_from(old)
            if kept:
                self.show_note(
                    f"Kept from {old.model_slug or 'the last model'}: {', '.join(kept)}."
                )
            else:
                self._clear_message()
        else:
            self._clear_message()
        self.form = form
        form.observe(self._validity, "valid")
        form.observe(self._form_errors_changed, "errors")
        form.observe(lambda _c: self._payload_changed(), "payload")
        self.form_area.children = (form,)
        # lets a page (and a browser test) tell which model's form is shown
        self.form_area._dom_classes = ("eachlabs-form", f"eachlabs-model-{detail.get('slug')}")
        if old is not None:
            old.close()
        archive = archive_field(form.specs)
        self.training.layout.display = None if archive else "none"
        self.training.status.value = ""
        self._apply_after_form()
        self._payload_changed()
        if self._carry is not None:
            value, source = self._carry
            target = self._image_field()
            if target is not None:
                form.update({target: value})
                self._carry = None
                self.show_note(f"{source} is now {target} of {self.model}.")
        self._validity()

    def _apply_after_form(self) -> None:
        form = self.form
        if form is None:
            return
        actions, self._after_form = self._after_form, []
        for action in actions:
            action(form)

    def _validity(self, _change: Any = None) -> None:
        """Generate is usable whenever a form is shown: pressing it with a problem shows the
        problem on its field (a pristine form shows no "required" errors)."""
        form = self.form
        self.generate_button.disabled = form is None or self._loading()
        self._show_estimate()

    def _payload_changed(self) -> None:
        self._show_estimate()
        form = self.form
        loras = form.value.get("loras") if form is not None and "loras" in form.fields else None
        self.loras.show(loras or [], self._trigger)

    def _lora_scale(self, index: int, scale: float) -> None:
        """The chip's slider moved: the form's ``loras`` follows."""
        form = self.form
        if form is None or "loras" not in form.fields:
            return
        loras = [dict(e) for e in form.value.get("loras") or []]
        if index < len(loras):
            loras[index]["scale"] = scale
            self.loras.entries = [dict(e) for e in loras]  # the chip already shows it
            form.update({"loras": loras})

    def _training_zip(self, media: LocalMedia) -> None:
        form = self.form
        name = archive_field(form.specs) if form is not None else None
        if form is not None and name is not None:
            form.update({name: media})

    def _image_field(self) -> str | None:
        form = self.form
        if form is None:
            return None
        return next((s.name for s in form.specs if s.kind == "media" and s.media == "image"), None)

    # -- spending -------------------------------------------------------------------------------
    def estimate(self) -> float | None:
        """The estimated cost of Generate with the form as it is (``None``: price unknown)."""
        if self.form is None or self.model is None:
            return None
        return self.prices.estimate(self.model, self.form.value)

    def _show_estimate(self) -> None:
        form = self.form
        training = form is not None and archive_field(form.specs) is not None
        verb = "Train" if training else "Generate"
        parts = [verb]
        if form is not None and self.model is not None:
            parts.append(format_price(self.estimate()))
            if training:
                seconds = self.expected_seconds(self.model)
                if seconds:
                    parts.append(format_duration(seconds))
        if self.running:
            parts.append(f"{self.running} running")
        self.generate_button.description = " · ".join(parts)
        self.generate_button.icon = "graduation-cap" if training else "play"

    def _show_spend(self) -> None:
        budget = self._budget
        try:
            limit = budget.limit if budget is not None else None
        except EachLabsError:  # EACHLABS_BUDGET unreadable: a create says so, not the header
            limit = None
        if budget is not None and limit is not None:
            # What the service reported for this process's runs, against the budget.
            said = format_price(budget.spent) if budget.spent else "$0"
            over = " eachlabs-over-budget" if budget.spent >= limit else ""
            self.spend.value = (
                f"<span class='eachlabs-budget{over}' title='what the runs of this "
                "session cost, as the service reported it, against the budget (configure(budget=), "
                f"EachGen.budget)'>{said} of {format_price(limit)} budget</span>"
            )
            return
        spent = self.prices.spent
        runs = len(self.prices.counted)
        self.spend.value = (
            f"<span title='what the finished runs of this session cost'>session: "
            f"{format_price(spent) if runs else '$0'}"
            f"{f' · {runs} run' + ('s' if runs != 1 else '') if runs else ''}</span>"
        )

    # -- runs -----------------------------------------------------------------------------------
    def generate(self) -> asyncio.Task[Any] | None:
        """Start a prediction with the form's value (what Generate does); returns its task.

        With a problem in the form, nothing is sent: the problems are shown on their fields.
        A run estimated above ``confirm_above`` waits for "Generate anyway".
        """
        form, model = self.form, self.model
        if form is None or model is None or self._loading():
            self.show_error("the model's form is still loading")
            return None
        form.reveal_errors()
        if not form.valid:
            self._show_form_problems()
            return None
        self.generate_button.tooltip = "start a prediction with these inputs (Ctrl/⌘+Enter)"
        cost = self.estimate()
        if self._ask_first([(model, form.value, self.parent)], cost, "This run"):
            return None
        return self._start(model, form.value, self.parent)

    def _ask_first(
        self, runs: Sequence[tuple[str, dict[str, Any], str | None]], cost: float | None, what: str
    ) -> bool:
        """Hold ``runs`` for "Generate anyway" when ``cost`` is above ``confirm_above``."""
        if self.confirm_above is None or cost is None or cost <= self.confirm_above:
            return False
        self._pending_confirm = list(runs)
        self.confirm_text.value = line(
            f"{what} is estimated at {format_price(cost)}, above your limit of "
            f"{format_price(self.confirm_above)}.",
            "note",
        )
        self.confirm_box.layout.display = None
        return True

    def _confirmed(self, yes: bool) -> None:
        pending, self._pending_confirm = self._pending_confirm, None
        self.confirm_box.layout.display = "none"
        if yes and pending is not None:
            for model, inputs, parent in pending:
                self._start(model, inputs, parent)

    def _start(
        self, model: str, inputs: dict[str, Any], parent: str | None = None
    ) -> asyncio.Task[Any] | None:
        form = self.form
        training = form is not None and archive_field(form.specs) is not None
        card = self._card(model, inputs, training)
        self.runs.insert(0, card)
        self._show_runs()
        self._clear_message()
        group = (card,)
        task = self._launch(
            self._run(model, inputs, card, group, parent),
            lambda t: self._run_done(t, model, card, group),
        )
        self.shortcuts.reveal_runs()
        if not task.done():  # without a running loop it has already ended
            self._run_tasks[task] = card
            self.running = len(self._run_tasks)
        return task

    def _card(self, model: str, inputs: Mapping[str, Any], training: bool) -> LiveCard:
        """The live card of a run: the one ``%%eachgen`` and ``generate()`` show, without
        thumbnails (the result goes on the stage and into the strip)."""
        prompt = inputs.get("prompt")
        card = LiveCard(
            model,
            prompt=prompt if isinstance(prompt, str) else None,
            expected=self.expected_seconds(model),
            guess=TRAINING_GUESS if training else None,
            emulated=self._emulated,
            on_cancel=lambda: self._cancel_card(card),
            thumbnails=False,
            parts=self._card_parts,
        )
        card.add_class("eachlabs-run")
        return card

    def _cancel_card(self, card: LiveCard) -> None:
        """The card's own Cancel: cancel its run only (the card says what the service answers)."""
        for task, shown in list(self._run_tasks.items()):
            if shown is card:
                task.cancel()

    async def _run(
        self,
        model: str,
        inputs: dict[str, Any],
        card: LiveCard,
        group: tuple[LiveCard],
        parent: str | None = None,
    ) -> Generation:
        card.start_ticker()
        if any(is_local_media(v) for v in inputs.values()):
            # The files go up first, so the card can tell uploading from waiting for a slot
            # (run() would do both under one status). What comes back is checked again by
            # run(), which sends it as it is: URLs, and the seed already chosen.
            card.set_status("uploading")
            inputs = await self.client.prepare_input(model, inputs)
            card.set_status("queued")
        # Its place in line counts the waiting cards of every cell and panel of the kernel,
        # in the order run() takes its ticket for a slot, which is now.
        join_line(group)
        return await self.client.run(
            model, inputs, on_update=card.update, save_to=output_dir(), parent=parent
        )

    def _show_runs(self) -> None:
        """Every run in flight and the newest FINISHED_SHOWN finished ones, newest first; the
        older finished cards are closed and counted on one line."""
        shown: list[LiveCard] = []
        in_flight = {id(card) for card in self._run_tasks.values()}
        finished = 0
        for card in self.runs:
            if card.closed:
                continue
            if id(card) not in in_flight and card.ended:
                finished += 1
                if finished > FINISHED_SHOWN:
                    card.close()  # its result is in the strip; the card is not needed
                    self._folded += 1
                    continue
            shown.append(card)
        self.runs = [c for c in self.runs if not c.closed]
        if self._folded:
            plural = "s" if self._folded != 1 else ""
            self.earlier_runs.value = (
                f"<div class='eachlabs-muted'>{self._folded} earlier run{plural} "
                "(their results are in the History strip)</div>"
            )
            self.runs_box.children = (*shown, self.earlier_runs)
        else:
            self.runs_box.children = tuple(shown)

    def _run_done(
        self, task: asyncio.Task[Any], model: str, card: LiveCard, group: tuple[LiveCard]
    ) -> None:
        self._run_tasks.pop(task, None)
        self.running = len(self._run_tasks)
        try:
            self._finish_run(task, model, card)
        finally:
            leave_line(group)
            self._show_runs()

    def _finish_run(self, task: asyncio.Task[Any], model: str, card: LiveCard) -> None:
        try:
            if task.cancelled():
                # The card says what the service answered: a note on the message line too
                # would stay there, stale, after the runs that go on succeed.
                card.fail(asyncio.CancelledError())
                return
            error = task.exception()
            if error is not None:
                card.fail(error, say_why=False)  # the message line says why, once
                self._field_errors(error)
                self.show_error(f"{model}: {_error_text(error)}")
                return
            generation: Generation = task.result()
            card.finish(generation)
            self._finished(generation)
            if generation.lora is not None or (
                not images_of(generation) and lora_url(generation) is not None
            ):
                self._offer_lora(card, generation)
        except Exception as exc:  # a rendering problem must not vanish into the loop's log
            self.show_error(f"could not show the result: {_error_text(exc)}")

    def _finished(self, generation: Generation) -> None:
        self.generations.append(generation)
        outputs = max(1, len(images_of(generation)) or len(generation.outputs))
        self.prices.spend(generation.id, generation.metrics, outputs, generation.model)
        self._show_spend()
        self._show_durations()
        self._refresh_task = self._launch(self._durations_after_writes(), self._report)
        shots = self.strip.add(generation)
        if shots:
            self.view(generation, 0)
        self._update_snapshot()

    def _field_errors(self, error: BaseException) -> None:
        """Put the service's (or the validator's) message on the field it names."""
        form = self.form
        if form is None:
            return
        problems: dict[str, str] = {}
        if isinstance(error, InputValidationError):
            for problem in error.problems:
                name = problem.get("field")
                if isinstance(name, str):
                    problems[name] = str(problem.get("message", ""))
        else:
            text = str(getattr(error, "message", None) or error)
            for part in text.replace("\n", ";").split(";"):
                where, sep, why = part.strip().partition(":")
                name = re.match(r"[A-Za-z_]\w*", where.strip())  # "loras[0].path" -> loras
                if sep and name and name.group(0) in form.fields:
                    problems[name.group(0)] = f"{where.strip()}: {why.strip()}"
        form.show_service_errors(problems)

    @traitlets.observe("running")
    def _running_changed(self, change: Any) -> None:
        self.cancel_button.disabled = change["new"] == 0
        self.cancel_button.description = (
            f"Cancel ({change['new']})" if change["new"] > 1 else "Cancel"
        )
        self._show_estimate()

    def cancel(self) -> int:
        """Cancel every run in flight (each prediction is cancelled on the service too)."""
        tasks = list(self._run_tasks)
        for task in tasks:
            task.cancel()
        return len(tasks)

    # -- results --------------------------------------------------------------------------------
    def view(self, generation: Generation, index: int = 0) -> None:
        """Show one result large, with its actions."""
        key = f"{generation.id}:{index}"
        self.viewer.show(generation, index, key)
        self.strip.selected = key

    def _shot_selected(self, shot: Shot) -> None:
        generation = shot.source
        if not isinstance(generation, Generation):
            try:
                generation = Generation.from_entry(shot.source)
            except OSError as exc:
                self.show_error(f"the files of {shot.run_id} are gone: {exc}")
                return
            generation.emulated = shot.emulated
        self.view(generation, shot.index)

    def _shot_load(self, shot: Shot) -> None:
        self.load(shot.source)

    def _enlarge(self) -> None:
        if self.viewer.key in self.strip.shots:
            self.strip.open_lightbox(self.viewer.key)

    def _selected(self) -> Generation | None:
        generation = self.viewer.generation
        if generation is None:
            self.show_error("select a result first")
        return generation

    def save(self, generation: Generation | None = None, index: int | None = None) -> Path | None:
        """Save the image shown (or image ``index`` of ``generation``) with its parameters.

        Saving the same image again writes nothing: the path of the earlier copy is returned.
        Results are already saved automatically unless saving is off (``output_dir`` empty);
        then this writes into ``eachgen_outputs/``.
        """
        generation = generation or self._selected()
        if generation is None:
            return None
        index = self.viewer.index if index is None else index
        key = f"{generation.id}:{index}"
        images = [i for i, o in enumerate(generation.outputs) if o.is_image]
        position = images[index] if index < len(images) else index
        known = self._saved.get(key)
        if known is None and position < len(generation.paths):
            known = generation.paths[position]
        if known is not None and known.exists():
            self._saved[key] = known
            self.viewer.note.value = line(f"Already saved: {known}", "ok")
            return known
        out = generation.outputs[position]
        folder = Path(output_dir() or DEFAULT_OUTPUT_DIR).expanduser()
        path = folder / (
            generation.file_stem(position) + extension_for(out.url, out.content_type, out.data)
        )
        params = generation.parameters(position)
        try:
            atomic_write(path, embed_metadata(out.data, params))
            write_sidecar(path, params)
        except OSError as exc:
            self.viewer.note.value = line(str(exc), "error")
            return None
        self._saved[key] = path
        self.viewer.note.value = line(f"Saved: {path}", "ok")
        return path

    def _recall_files(self, files: list[tuple[str, bytes]]) -> None:
        if files:
            self.recall_image(files[0][1], files[0][0])

    def recall_image(self, data: bytes, name: str = "") -> asyncio.Task[Any] | None:
        """Fill the form from an image's settings (see ``recall()``): ours give their model
        and inputs exactly; another tool's are fitted to the model chosen here. What the model
        cannot take is said in the panel's message line."""
        from .._journal.readers import UnreadableImage, read_settings

        what = name or "the image"
        try:
            settings = read_settings(data)
        except (UnreadableImage, OSError) as exc:
            self.show_error(f"{what}: {exc}")
            return None
        own = settings.tool == "eachlabs" and settings.model
        model = settings.model if own else self.model
        if not model:
            self.show_error(f"{what}: choose a model first; its settings are fitted to it")
            return None
        return self._launch(self._recall(settings, model, what), self._report)

    async def _recall(self, settings: Any, model: str, what: str) -> None:
        from .._library.recall import fit

        detail = await self.client.get_model(model)
        schema = detail.get("request_schema")
        recalled = fit(settings, model, schema if isinstance(schema, dict) else {})
        self.load(recalled)
        note = f"Recalled {what} ({recalled.source}) into {model}."
        if recalled.dropped:
            note += " Not carried over: " + "; ".join(
                f"{k} ({v})" for k, v in list(recalled.dropped.items())[:6]
            )
        self.show_note(note)

    def _is_starred(self, key: str) -> bool:
        shot = self.strip.shots.get(key)
        return bool(shot is not None and shot.starred)

    def _star_shown(self, key: str, on: bool) -> None:
        """The stage's star: kept in the journal, and shown on the history's tiles."""
        from .._journal.journal import default_journal

        try:
            if key in self.strip.shots:
                self.strip.star(key, on)
            else:
                default_journal().mark(key.rsplit(":", 1)[0], starred=on)
        except Exception as exc:  # the journal is a help here, never a requirement
            self.viewer.note.value = line(f"could not keep the star: {exc}", "error")

    def _use_selected(self) -> None:
        generation = self._selected()
        if generation is not None:
            self.use_as_input(generation, self.viewer.index)

    def _load_selected(self) -> None:
        generation = self._selected()
        if generation is not None:
            self.load(generation)

    def _copy_selected(self, kind: str) -> None:
        generation = self._selected()
        if generation is None:
            return
        text = run_text(kind, generation.model, generation.inputs)
        note = f"(not written: {', '.join(text.missing)})" if text.missing else ""
        title = "%%eachgen cell" if kind == "eachgen" else "Python"
        self.viewer.copy_box.show(title, text.text, note)

    def copy_text(self, kind: str, generation: Generation | None = None) -> str:
        """The ``%%eachgen`` cell (``kind="eachgen"``) or Python (``"python"``) that reproduces
        ``generation`` (default: the selected result), as the Copy buttons show it."""
        generation = generation or self.viewer.generation
        if generation is None:
            raise ValueError("no result to copy: generate or select one first")
        return run_text(kind, generation.model, generation.inputs).text

    def load(self, run: Any, *, how: str = "loaded from") -> None:
        """Put a past run's model and every input (seed included) back into the form, marked
        as made from it: the next Generate records it as its parent.

        ``run`` is a :class:`Generation`, a journal entry (``history()``), a ``Recalled``
        (its ``parent``, when the picture was one of ours), or anything with ``model`` and
        ``inputs``.
        """
        model, inputs = getattr(run, "model", None), getattr(run, "inputs", None)
        if not isinstance(model, str) or not isinstance(inputs, Mapping):
            raise TypeError("load() takes a Generation or a journal entry (model and inputs)")
        sent = dict(inputs)
        self._after_form.append(lambda form: setattr(form, "value", sent))
        self._choose(model)
        made = isinstance(run, (Generation, JournalEntry))  # a Recalled names its source
        self.mark_parent(run.id if made else getattr(run, "parent", None), how)
        self.show_note(f"Loaded a {model} run into the form.")

    # -- lineage ---------------------------------------------------------------------------------
    def mark_parent(self, parent: str | None, how: str = "") -> None:
        """Record the form's next runs as made from ``parent`` (None: from nothing); the chip
        above Generate says so (``how``: "remix of", "loaded from", …)."""
        self.parent = parent if isinstance(parent, str) and parent else None
        self.from_chip.show(self.parent, how)

    def forget_parent(self) -> None:
        """The chip's ×: the next run is not recorded as made from any run."""
        self.mark_parent(None)

    def vary(
        self, generation: Generation | None = None, n: int = VARY_COUNT
    ) -> list[asyncio.Task[Any]]:
        """``n`` runs of ``generation`` (default: the result shown) with new seeds, at once,
        each recorded as made from it (what Vary does); returns their tasks. Above
        ``confirm_above`` they wait for "Generate anyway"."""
        generation = generation or self._selected()
        if generation is None:
            return []
        return self._vary(generation.model, generation.inputs, generation.id, n)

    def _vary(
        self, model: str, inputs: Mapping[str, Any], parent: str, n: int = VARY_COUNT
    ) -> list[asyncio.Task[Any]]:
        runs = [(model, varied, parent) for varied in variations(dict(inputs), n)]
        price = self.prices.estimate(model, inputs)
        cost = price * n if price is not None else None
        if self._ask_first(runs, cost, f"Vary ({n} runs)"):
            return []
        tasks = [self._start(*run) for run in runs]
        return [t for t in tasks if t is not None]

    def remix(self, run: Any = None) -> None:
        """Put ``run``'s model and inputs (default: the result shown) into the form, marked as
        made from it: change what you like and Generate (what Remix does)."""
        run = run if run is not None else self._selected()
        if run is None:
            return
        self.load(run, how="remix of")
        run_id = getattr(run, "id", "")
        self.show_note(f"Remix of {run_id[:8]}: change the inputs and Generate.")

    def show_parent(self, generation: Generation | None = None) -> None:
        """Show the run that ``generation`` (default: the result shown) was made from: from
        the history strip, else from the journal (not in ``history="session"`` mode, where
        only this session's runs are shown)."""
        generation = generation or self._selected()
        parent = generation.parent if generation is not None else None
        if not parent:
            return
        shot = next((s for s in self.strip.shots.values() if s.run_id == parent), None)
        if shot is not None:
            self._shot_selected(shot)
            return
        if self.history != "journal":  # a shared app shows no run of another session
            self.show_note(f"the run it was made from ({parent[:8]}) is not in this session")
            return
        from .._journal.journal import default_journal

        try:
            entry = default_journal().get(parent)
            if entry is None or not entry.files:
                raise OSError("not in the journal, or no file kept")
            shown = Generation.from_entry(entry)
        except (OSError, EachLabsError) as exc:
            self.show_note(f"the run it was made from ({parent[:8]}) cannot be shown: {exc}")
            return
        shown.emulated = bool(entry.emulator)
        self.view(shown, 0)

    def use_as_input(
        self, generation: Generation, index: int = 0, field: str | None = None
    ) -> None:
        """Put image ``index`` of ``generation`` into an image field of the form (``field``, or
        the first one). When the chosen model takes no image, the next one chosen that does
        gets it."""
        value: Any
        url = generation.urls[index] if index < len(generation.urls) else ""
        images = [o for o in generation.outputs if o.is_image]
        data = images[index].data if index < len(images) else generation.outputs[0].data
        if url.startswith(("http://", "https://")):
            value = url
            ModelForm.remember_preview(url, data)
        else:
            value = LocalMedia(data, sniff_content_type(data), f"{generation.id}-{index}")
        source = f"Image {index + 1} of {generation.model}"
        self.mark_parent(generation.id, "image from")
        target = field or self._image_field()
        if self.form is not None and target is not None and not self._loading():
            self.form.update({target: value})
            self.show_note(f"{source} is now {target} of {self.model}.")
        else:
            self._carry = (value, source)
            self.show_note(
                f"{source} is ready: choose a model that takes an image "
                "(e.g. one with an image_url field) and it goes into that field."
            )

    def use_lora(
        self, run: Generation | Lora | str, trainer_inputs: Mapping[str, Any] | None = None
    ) -> None:
        """Switch to the model that loads the LoRA, with it in ``loras`` and its trigger phrase
        starting the prompt: a trainer's result or a :class:`Lora` go to the model of their
        family (API.md, "LoRA training"); a weights URL you bring goes to ``flux-2-lora``."""
        if isinstance(run, Generation):
            lora = run.lora
            if lora is None:
                raise ValueError(f"{run.model} made no LoRA weights")
            trainer_inputs = trainer_inputs or run.inputs
        elif isinstance(run, Lora):
            lora = run
        else:
            lora = Lora(url=run, model=lora_model_for(None))
        trigger = (
            lora.trigger
            or (trainer_inputs or {}).get("trigger_phrase")
            or (trainer_inputs or {}).get("trigger_word")
        )
        trigger = trigger.strip() if isinstance(trigger, str) else ""
        inputs = lora_inputs(lora.url, {"trigger_phrase": trigger}, lora.scale)
        self._trigger = trigger
        # runs of the LoRA are made from the trainer's run, not from what the form held
        self.mark_parent(run.id if isinstance(run, Generation) else None, "LoRA from")
        self._after_form.append(lambda form: form.update(inputs))
        self.select(lora.model)
        self.show_note(f"{lora.model} with your LoRA: write a prompt and Generate.")

    def _offer_lora(self, card: LiveCard, generation: Generation) -> None:
        lora = generation.lora
        target = lora.model if lora is not None else lora_model_for(generation.model)
        button = w.Button(
            description=f"Use this LoRA in {target}",
            icon="magic",
            button_style="success",
            layout=w.Layout(width="auto"),
        )
        button.on_click(lambda _b: self.use_lora(generation))
        card.add_action(button)

    # -- the notebook's static copy -------------------------------------------------------------
    def snapshot(self) -> str:
        """The static HTML of the results (what a saved or exported notebook shows)."""
        return snapshot_html(self.generations, self.model)

    def _plain(self) -> str:
        return f"EachLabs panel ({self.model or 'no model'}): {len(self.generations)} result(s)"

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """The widget alone (what ``display(panel)`` does is :meth:`_ipython_display_`). Its
        plain text is written once, when shown, so it says nothing that would go stale."""
        bundle = dict(super()._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = "EachLabs panel (a live widget; its results are kept as HTML)"
        return bundle

    def snapshot_bundle(self) -> dict[str, Any]:
        """The static copy's output: its HTML (and a plain line), never the widget's MIME type.

        A front end chooses the richest type it can render, and JupyterLab ranks the widget's
        type first: an output holding both would show "model not found" once the kernel is gone,
        never the HTML. The HTML carries the class :attr:`snapshot_class`; while the panel is
        alive its stylesheet hides that output, so the live notebook shows the results once.
        """
        html_text = self.snapshot()
        marked = html_text.replace(
            "<div class='eachlabs-snapshot'>",
            f"<div class='eachlabs-snapshot {self.snapshot_class}'>",
            1,
        )
        return {"text/plain": self._plain(), "text/html": as_written(marked)}

    @property
    def snapshot_class(self) -> str:
        """The CSS class of this panel's static copy (hidden while the panel is shown live)."""
        return f"eachlabs-snapshot-{self._snapshot_id()}"

    def _snapshot_id(self) -> str:
        if self._display_id is None:
            import uuid

            self._display_id = uuid.uuid4().hex
            self.shortcuts.snapshot = f"eachlabs-snapshot-{self._display_id}"
        return self._display_id

    def _ipython_display_(self) -> None:
        """Two outputs: the widget, then its static copy (HTML only), kept up to date by its
        display id as results arrive (``update_display_data``)."""
        from IPython.display import display

        display_id = self._snapshot_id()
        display(self._repr_mimebundle_(), raw=True)
        display(self.snapshot_bundle(), raw=True, display_id=display_id)

    def _update_snapshot(self) -> None:
        if self._display_id is None:
            return
        from IPython.display import update_display

        with contextlib.suppress(Exception):  # no kernel to send to: nothing to update
            update_display(self.snapshot_bundle(), raw=True, display_id=self._display_id)
