"""``Panel``: pick a model, fill its form, generate, watch, browse, reuse — in one widget."""

from __future__ import annotations

import asyncio
import contextlib
import html
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import ipywidgets as w
import traitlets

from .._client import AsyncEachLabs, learner
from .._exceptions import InputValidationError
from .._generation import DEFAULT_OUTPUT_DIR, Generation
from .._media import LocalMedia, is_local_media, sniff_content_type
from .._settings import output_dir
from ..forms import ModelForm
from ._catalog import load_catalogue
from ._text import run_text
from ._training import LORA_MODEL, archive_field, lora_inputs, lora_url
from ._widgets import (
    STYLE,
    Gallery,
    HistoryItem,
    HistoryStrip,
    ModelPicker,
    RunView,
    TrainingBox,
    Viewer,
    images_of,
    running_loop,
)

__all__ = ["Panel"]

DEFAULT_MODEL = "flux-2-turbo-text-to-image"
_FormAction = Callable[[ModelForm], None]


def _error_text(error: BaseException) -> str:
    if isinstance(error, InputValidationError):
        return str(error)
    name = type(error).__name__
    return f"{name}: {error}" if str(error) else name


class Panel(w.VBox):
    """EachLabs in one widget: a searchable model picker, the chosen model's form, Generate and
    Cancel, a live card per prediction, a gallery, a viewer and this session's history.

    ``Panel(model="flux-2-turbo-text-to-image")`` starts on that model (default: the first of
    the catalogue's Flux 2 Turbo, else the first model). Runs are tasks on the kernel's running
    event loop: the notebook stays usable, several runs may go at once, and Cancel cancels the
    prediction on the service. Results are saved like ``generate()`` saves them
    (``eachgen_outputs/``) and recorded in the journal.

    For code and tests: :meth:`ready` waits for the catalogue and the form, :meth:`wait` for
    every run, :meth:`select`, :meth:`load`, :meth:`use_as_input`, :meth:`use_lora` and
    :meth:`copy_text` do what the buttons do. ``generations`` lists this session's results.
    """

    model = traitlets.Unicode(None, allow_none=True, help="The chosen model's slug.")
    running = traitlets.Int(0, help="Predictions in flight.")

    def __init__(
        self,
        model: str | None = None,
        *,
        value: Mapping[str, Any] | None = None,
        client: AsyncEachLabs | None = None,
    ) -> None:
        self.client = client or AsyncEachLabs()
        self.form: ModelForm | None = None
        self.detail: dict[str, Any] | None = None
        self.generations: list[Generation] = []
        self.runs: list[RunView] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._run_tasks: dict[asyncio.Task[Any], RunView] = {}
        self._form_task: asyncio.Task[Any] | None = None
        self._catalogue_task: asyncio.Task[Any] | None = None
        self._after_form: list[_FormAction] = []
        self._carry: tuple[Any, str] | None = None  # an image waiting for a model that takes one
        self._token = 0

        emulated = self.client.settings().is_emulator
        badge = (
            " <span style='background:#fef3c7;color:#92400e;border-radius:4px;padding:0 6px;"
            "font-size:80%'>emulator</span>"
            if emulated
            else ""
        )
        self.header = w.HTML(
            STYLE + "<div style='font-size:120%;font-weight:700;color:#111827'>EachLabs"
            f"{badge}</div>"
        )
        self.picker = ModelPicker()
        self.form_area = w.VBox([w.HTML("<i style='color:#6b7280'>loading…</i>")])
        self.training = TrainingBox(self._training_zip)
        self.training.layout.display = "none"
        self.generate_button = w.Button(
            description="Generate",
            icon="play",
            button_style="primary",
            disabled=True,
            tooltip="start a prediction with these inputs",
        )
        self.cancel_button = w.Button(
            description="Cancel",
            icon="stop",
            disabled=True,
            tooltip="cancel every running prediction (cancelled ones are not billed)",
        )
        self.generate_button.add_class("eachlabs-generate")
        self.cancel_button.add_class("eachlabs-cancel")
        self.message = w.HTML("")
        self.message.add_class("eachlabs-message")
        self.runs_box = w.VBox([])
        self.gallery = Gallery(self.view)
        self.viewer = Viewer()
        self.history = HistoryStrip(self.load)
        super().__init__(
            [
                self.header,
                self.picker,
                self.form_area,
                self.training,
                w.HBox(
                    [self.generate_button, self.cancel_button, self.message],
                    layout=w.Layout(align_items="center", margin="6px 0"),
                ),
                self.runs_box,
                self.gallery,
                self.viewer,
                self.history,
            ]
        )
        self.add_class("eachlabs-panel")

        self.generate_button.on_click(lambda _b: self.generate())
        self.cancel_button.on_click(lambda _b: self.cancel())
        self.viewer.save_button.on_click(lambda _b: self._save_selected())
        self.viewer.use_button.on_click(lambda _b: self._use_selected())
        self.viewer.load_button.on_click(lambda _b: self._load_selected())
        self.viewer.eachgen_button.on_click(lambda _b: self._copy_selected("eachgen"))
        self.viewer.python_button.on_click(lambda _b: self._copy_selected("python"))
        self.picker.observe(self._picked, "value")

        if value is not None:
            self._after_form.append(lambda form: form.update(dict(value)))
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
        from .._sync import _private_loop

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
        self.message.value = f"<span style='color:#b91c1c'>⚠ {html.escape(text)}</span>"

    def show_note(self, text: str) -> None:
        self.message.value = f"<span style='color:#374151'>{html.escape(text)}</span>"

    async def ready(self) -> None:
        """Wait until the catalogue is listed and the chosen model's form is shown."""
        while True:
            pending = [t for t in (self._catalogue_task, self._form_task) if t and not t.done()]
            if not pending:
                return
            await asyncio.wait(pending)

    async def wait(self) -> list[Generation]:
        """Wait for every run in flight (failures are shown in the panel, not raised)."""
        while self._run_tasks:
            await asyncio.wait(list(self._run_tasks))
        return list(self.generations)

    # -- the model and its form -----------------------------------------------------------------
    async def _load_catalogue(self, model: str | None) -> None:
        try:
            models = await load_catalogue(self.client)
        except Exception:
            self.picker.count.value = ""
            if model:  # the service is unreachable for listing: still show the asked model
                self.picker.set_models([{"slug": model}])
                self.picker.value = model
            raise
        self.picker.set_models(models)
        slugs = [m["slug"] for m in models]
        choice = model or (DEFAULT_MODEL if DEFAULT_MODEL in slugs else (slugs or [None])[0])
        if choice and self.model is None:  # select() or load() may have chosen one meanwhile
            self.select(choice)

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
        self.form_area.children = (
            w.HTML(f"<i style='color:#6b7280'>loading {html.escape(slug)}…</i>"),
        )
        self._form_task = self._launch(self._load_form(slug, self._token), self._form_done)

    async def _load_form(self, slug: str, token: int) -> None:
        detail = await self.client.get_model(slug)
        if token != self._token:
            return  # another model was chosen meanwhile
        self._show_form(detail)

    def _form_done(self, task: asyncio.Task[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            assert error is not None
            self.form_area.children = (
                w.HTML(
                    "<span style='color:#b91c1c'>⚠ could not load the model: "
                    f"{html.escape(_error_text(error))}</span>"
                ),
            )
            self._report(task)

    def _show_form(self, detail: Mapping[str, Any]) -> None:
        old = self.form
        self.detail = dict(detail)
        form = ModelForm(detail)
        self.form = form
        form.observe(self._validity, "valid")
        self.form_area.children = (form,)
        # lets a page (and a browser test) tell which model's form is shown
        self.form_area._dom_classes = ("eachlabs-form", f"eachlabs-model-{detail.get('slug')}")
        if old is not None:
            old.close()
        archive = archive_field(form.specs)
        self.training.layout.display = None if archive else "none"
        self.training.status.value = ""
        self.message.value = ""
        self._apply_after_form()
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
        form = self.form
        self.generate_button.disabled = form is None or not form.valid
        if form is not None and form.errors:
            problems = "; ".join(f"{k}: {v}" for k, v in form.errors.items())
            self.generate_button.tooltip = f"fix first: {problems}"
        else:
            self.generate_button.tooltip = "start a prediction with these inputs"

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

    # -- runs -----------------------------------------------------------------------------------
    def generate(self) -> asyncio.Task[Any] | None:
        """Start a prediction with the form's value (what Generate does); returns its task."""
        form, model = self.form, self.model
        if form is None or model is None or self._loading():
            self.show_error("the model's form is still loading")
            return None
        if not form.valid:
            problems = "; ".join(f"{k}: {v}" for k, v in form.errors.items())
            self.show_error(f"fix the form first — {problems}")
            return None
        inputs = form.value
        training = archive_field(form.specs) is not None
        view = RunView(model, inputs, expected=learner.expected(model), training=training)
        item = self.history.add(model, inputs)
        self.runs.insert(0, view)
        self.runs_box.children = tuple(self.runs[:4])
        self.message.value = ""
        task = self._launch(
            self._run(model, inputs, view, item),
            lambda t: self._run_done(t, model, view, item),
        )
        if not task.done():  # without a running loop it has already ended
            self._run_tasks[task] = view
            self.running = len(self._run_tasks)
            view.cancel_button.on_click(lambda _b: task.cancel())
        return task

    async def _run(
        self, model: str, inputs: dict[str, Any], view: RunView, item: HistoryItem
    ) -> Generation:
        if any(is_local_media(v) for v in inputs.values()):
            view.set_status("uploading")
            item.set_status("uploading")

        def on_update(prediction: Any) -> None:
            view.update(prediction)
            item.set_status(prediction.status)

        view.card.start_ticker()
        return await self.client.run(model, inputs, on_update=on_update, save_to=output_dir())

    def _run_done(
        self,
        task: asyncio.Task[Any],
        model: str,
        view: RunView,
        item: HistoryItem,
    ) -> None:
        self._run_tasks.pop(task, None)
        self.running = len(self._run_tasks)
        try:
            if task.cancelled():
                view.fail(asyncio.CancelledError())
                item.set_status("cancelled")
                self.show_note(f"{model}: cancelled — the prediction was cancelled (not billed).")
                return
            error = task.exception()
            if error is not None:
                view.fail(error)
                item.set_status("cancelled" if view.card.status == "cancelled" else "error")
                self.show_error(f"{model}: {_error_text(error)}")
                return
            generation: Generation = task.result()
            view.finish(generation)
            item.finish(generation)
            self.generations.append(generation)
            self.gallery.add(generation)
            if images_of(generation):
                self.view(generation, 0)
            url = lora_url(generation) if not images_of(generation) else None
            if url is not None:
                self._offer_lora(view, generation)
        except Exception as exc:  # a rendering problem must not vanish into the loop's log
            self.show_error(f"could not show the result: {_error_text(exc)}")

    @traitlets.observe("running")
    def _running_changed(self, change: Any) -> None:
        self.cancel_button.disabled = change["new"] == 0
        self.cancel_button.description = (
            f"Cancel ({change['new']})" if change["new"] > 1 else "Cancel"
        )

    def cancel(self) -> int:
        """Cancel every run in flight (each prediction is cancelled on the service too)."""
        tasks = list(self._run_tasks)
        for task in tasks:
            task.cancel()
        return len(tasks)

    # -- results --------------------------------------------------------------------------------
    def view(self, generation: Generation, index: int = 0) -> None:
        """Show one result enlarged, with its actions."""
        self.viewer.show(generation, index)

    def _selected(self) -> Generation | None:
        generation = self.viewer.generation
        if generation is None:
            self.show_error("select a result first")
        return generation

    def _save_selected(self) -> None:
        generation = self._selected()
        if generation is None:
            return
        try:
            paths = generation.save(output_dir() or DEFAULT_OUTPUT_DIR)
        except OSError as exc:
            self.viewer.note.value = f"<span style='color:#b91c1c'>⚠ {html.escape(str(exc))}</span>"
            return
        names = ", ".join(html.escape(str(p)) for p in paths)
        self.viewer.note.value = f"<span style='color:#15803d'>Saved: {names}</span>"

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

    def load(self, run: Any) -> None:
        """Put a past run's model and inputs back into the form.

        ``run`` is a :class:`Generation`, a journal entry (``history()``), or anything with
        ``model`` and ``inputs``.
        """
        model, inputs = getattr(run, "model", None), getattr(run, "inputs", None)
        if not isinstance(model, str) or not isinstance(inputs, Mapping):
            raise TypeError("load() takes a Generation or a journal entry (model and inputs)")
        sent = dict(inputs)
        self._after_form.append(lambda form: setattr(form, "value", sent))
        self._choose(model)
        self.show_note(f"Loaded a {model} run into the form.")

    def use_as_input(
        self, generation: Generation, index: int = 0, field: str | None = None
    ) -> None:
        """Put image ``index`` of ``generation`` into an image field of the form (``field``, or
        the first one). When the chosen model takes no image, the next one chosen that does
        gets it."""
        value: Any
        url = generation.urls[index] if index < len(generation.urls) else ""
        if url.startswith(("http://", "https://")):
            value = url
        else:
            images = [o for o in generation.outputs if o.is_image]
            data = images[index].data if index < len(images) else generation.outputs[0].data
            value = LocalMedia(data, sniff_content_type(data), f"{generation.id}-{index}")
        source = f"Image {index + 1} of {generation.model}"
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
        self, run: Generation | str, trainer_inputs: Mapping[str, Any] | None = None
    ) -> None:
        """Switch to ``flux-2-lora`` with the trained LoRA in ``loras`` (a trainer's result or a
        weights URL)."""
        if isinstance(run, Generation):
            url = lora_url(run)
            trainer_inputs = trainer_inputs or run.inputs
            if url is None:
                raise ValueError(f"{run.model} made no LoRA weights")
        else:
            url = run
        inputs = lora_inputs(url, trainer_inputs)
        self._after_form.append(lambda form: form.update(inputs))
        self.select(LORA_MODEL)
        self.show_note(f"{LORA_MODEL} with your LoRA: write a prompt and Generate.")

    def _offer_lora(self, view: RunView, generation: Generation) -> None:
        button = w.Button(
            description=f"Use this LoRA in {LORA_MODEL}",
            icon="magic",
            button_style="success",
            layout=w.Layout(width="auto"),
        )
        button.on_click(lambda _b: self.use_lora(generation))
        url = lora_url(generation) or ""
        view.actions.children = (
            button,
            w.HTML(f"<code style='font-size:85%'>{html.escape(url)}</code>"),
        )
