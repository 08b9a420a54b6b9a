"""The high-level API: ``generate``/``agenerate``, ``resume``, ``history``, the catalogue."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence
from typing import Any

from ._display.render import one_line
from ._display.tables import History
from ._exceptions import GenerationInterrupted, InputValidationError, NotFoundError
from ._generation import Generation, Rerun, set_default_runner
from ._journal.journal import JournalEntry, JournalError, PredictionNotFound, default_journal
from ._schema.lora import Lora
from ._schema.trainset import archive_input, training_zip
from ._service import cancels, rerun
from ._service.client import AsyncEachLabs
from ._service.polling import PollSchedule
from ._service.rerun import ClientRunner
from ._service.sync import run_sync
from ._settings import EMULATOR, output_dir

__all__ = [
    "GenerationInterrupted",
    "Lora",
    "adelete_upload",
    "agenerate",
    "aresume",
    "atrain",
    "delete_upload",
    "generate",
    "get_model",
    "history",
    "lineage",
    "list_models",
    "resume",
    "train",
]


class _Default:
    """The type of ``DEFAULT``: "use the setting", where None means "none"."""


DEFAULT = _Default()


async def agenerate(
    model: str,
    prompt: str | None = None,
    *,
    timeout: float | None = None,
    force: bool = False,
    card: bool | None = None,
    parent: str | None = None,
    **inputs: Any,
) -> Generation:
    """Generate with ``model`` and wait for the result, on the running event loop.

    ``inputs`` are the model's parameters (see ``%eachgen schema MODEL``); they are checked
    against its schema before anything is sent. Outputs are downloaded, saved with their
    parameters to ``eachgen_outputs/`` (see ``EACHLABS_OUTPUT_DIR``) and recorded in the journal.
    With an explicit ``seed``, identical inputs reuse the saved result of an earlier run (its
    ``reused`` is True, nothing is spent) unless ``force=True``: Run All never pays twice.

    In a notebook, a live card shows the progress while it waits (``card=False``, or the
    environment variable ``EACHLABS_CARD=0``, turns it off). Errors raised there print as one
    line (the exception keeps its type and attributes).

    Raises :class:`~eachlabs_widgets.BudgetExceededError` (nothing sent) when the session's
    budget (``configure(budget=)``, ``EACHLABS_BUDGET``) would be passed by the learned price of
    this run, or, the price unknown, once the spend reported (``metrics.cost``, API.md "Poll")
    reached it; :class:`~eachlabs_widgets.InputValidationError` for inputs the schema refuses.

    ``parent``: the prediction id of the run this one is made from (say, the source of
    ``recall()``: ``generate(r.model, parent=r.parent, **r.inputs)``), recorded in the journal
    for :func:`lineage`. The result's ``vary()`` and ``remix()`` make runs from it.
    """
    if prompt is not None:
        inputs["prompt"] = prompt
    client = AsyncEachLabs()
    if not _card_wanted(card):
        return await client.run(
            model, inputs, timeout=timeout, save_to=output_dir(), reuse=not force, parent=parent
        )
    run, handle = _live(client, model, inputs, timeout=timeout, force=force, parent=parent)
    try:
        await run.execute()
    except BaseException:
        _leave(run, handle, None)
        raise
    return _finished(run, handle)


def generate(
    model: str,
    prompt: str | None = None,
    *,
    timeout: float | None = None,
    force: bool = False,
    card: bool | None = None,
    parent: str | None = None,
    **inputs: Any,
) -> Generation:
    """Like :func:`agenerate`, from synchronous code (a script, or a cell of a running kernel).

    Ctrl+C (the kernel's stop button) asks the service to cancel the prediction and raises
    ``KeyboardInterrupt`` saying, in one line in a notebook, what the service answered:
    cancelled (not billed), or cancel requested (it may still finish, billed and saved then).
    """
    if prompt is not None:
        inputs["prompt"] = prompt
    if not _card_wanted(card):
        return run_sync(
            AsyncEachLabs().run(
                model,
                inputs,
                timeout=timeout,
                save_to=output_dir(),
                reuse=not force,
                parent=parent,
            )
        )
    from ._notebook.run_display import wait_for

    run, handle = _live(AsyncEachLabs(), model, inputs, timeout=timeout, force=force, parent=parent)
    try:
        ids = wait_for(run)
    except BaseException:
        _leave(run, handle, None)
        raise
    if ids is not None:
        what = (
            f"prediction {cancels.say(ids)}"
            if ids
            else "nothing had been created yet: nothing was sent"
        )
        _leave(run, handle, None)
        raise one_line(GenerationInterrupted(f"interrupted: {what}")) from None
    return _finished(run, handle)


class _ApiRunner:
    """How ``g.vary()`` and ``g.remix()`` run for generations that no client made (rebuilt
    from the journal): as ``generate()`` runs (the configured service and output folder, live
    cards in a notebook)."""

    async def arun_all(
        self, model: str, runs: Sequence[Rerun], *, parent: str, timeout: float | None
    ) -> list[Generation | BaseException]:
        _cards_registered()
        runner = ClientRunner(AsyncEachLabs(), output_dir())
        return await runner.arun_all(model, runs, parent=parent, timeout=timeout)

    def wait(self, work: Any) -> Any:
        _cards_registered()
        return rerun.wait(work)


def _cards_registered() -> None:
    """In a notebook, the notebook wing registers how runs made from a generation are shown
    and waited for (a script does not pay for importing it)."""
    if _card_wanted(None):
        from . import _notebook  # noqa: F401


RUNNER = _ApiRunner()
set_default_runner(RUNNER)


def _card_wanted(card: bool | None) -> bool:
    """A live card only in a Jupyter kernel with a frontend, unless turned off."""
    if card is False:
        return False
    if os.environ.get("EACHLABS_CARD", "").strip().lower() in ("0", "false", "no", "off"):
        return False
    # A kernel has IPython imported already; a script that has not must not pay for it.
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if callable(get_ipython) else None
    return shell is not None and getattr(shell, "kernel", None) is not None


def _live(
    client: AsyncEachLabs,
    model: str,
    inputs: dict[str, Any],
    *,
    timeout: float | None,
    force: bool,
    parent: str | None = None,
) -> tuple[Any, Any]:
    from IPython.display import display

    from ._notebook.runs import CellRun, Job

    run = CellRun(
        client,
        [Job(label=model, model=model, inputs=inputs, parent=parent)],
        timeout=timeout,
        save_to=output_dir(),
        reuse=not force,
    )
    return run, display(run.view, display_id=True)


def _leave(run: Any, handle: Any, bundle: dict[str, Any] | None) -> None:
    """Replace the live card (by ``bundle``, or by nothing: the error says it once)."""
    if handle is not None:
        handle.update(bundle or {"text/plain": ""}, raw=True)
    run.close()


def _finished(run: Any, handle: Any) -> Generation:
    from ._display.render import summary_line

    outcome = run.outcomes[0]
    if isinstance(outcome, BaseException):
        _leave(run, handle, None)
        raise one_line(outcome)
    assert isinstance(outcome, Generation)
    _leave(run, handle, summary_line(outcome))
    return outcome


async def aresume(
    prediction_id: str,
    *,
    model: str | None = None,
    timeout: float | None = None,
    save_to: str | _Default | None = DEFAULT,
    poll: PollSchedule | None = None,
    on_update: Any = None,
) -> Generation:
    """Re-attach to a prediction by id: poll it, download and save its outputs. Creates nothing.

    ``prediction_id`` may be a unique prefix of an id in the journal (the short id shown in
    captions and file names); several matches raise ``PredictionNotFound`` naming them.
    ``on_update`` is told each poll answer (a live card).

    The journal gives the prediction's model, inputs and service; ``model=`` resumes one the
    journal does not know (or when the journal cannot be read), on the configured service.
    Raises :class:`PredictionNotFound` (an ``EachLabsError`` and a ``KeyError``) when the
    prediction is unknown and no ``model=`` is given, or when it was made by an emulator that
    no longer holds it (emulator predictions do not outlive the emulator's process).
    ``save_to`` is the output folder (default: the ``output_dir`` setting; None: do not save);
    ``poll`` the polling schedule (the ``%eachgen`` magic passes its own settings).

    A prediction whose cancel was accepted but not yet carried out ("cancel requested" in
    :func:`history`) is settled: cancelled (not billed), failed, or finished anyway (its files
    saved, its cost recorded, noted "finished before the cancel took effect").
    """
    journal = default_journal()
    prediction_id = await _full_id(prediction_id)
    try:
        entry = await journal.aget(prediction_id)
    except JournalError as exc:
        if model is None:
            raise PredictionNotFound(
                f"{exc}. To resume {prediction_id!r} without the journal, name its model: "
                f"resume({prediction_id!r}, model='MODEL')",
                prediction_id=prediction_id,
            ) from None
        entry = None
    if entry is None and model is None:
        raise PredictionNotFound(
            f"prediction {prediction_id!r} is not in the journal ({journal.path}); pass model= "
            f"to resume it anyway: resume({prediction_id!r}, model='MODEL')",
            prediction_id=prediction_id,
        )
    if entry is not None and entry.base_url == EMULATOR and not entry.from_this_process:
        raise PredictionNotFound(_emulator_gone(entry), prediction_id=prediction_id)
    client = AsyncEachLabs(base_url=entry.base_url if entry else None, poll=poll)
    try:
        return await client.follow(
            prediction_id,
            model or (entry.model if entry else ""),
            entry.inputs if entry else {},
            timeout=timeout,
            save_to=output_dir() if isinstance(save_to, _Default) else save_to,
            created_at=entry.created_at if entry else None,
            on_update=on_update,
            # Its cancel was accepted earlier: a success is said to have come anyway.
            after_cancel=entry is not None and entry.cancel_requested,
        )
    except NotFoundError as exc:
        gone = exc.path.startswith("/v1/prediction/")
        if gone and entry is not None and entry.emulator:
            raise PredictionNotFound(_emulator_gone(entry), prediction_id=prediction_id) from None
        raise


#: The shortest prefix looked up as a short id (an id itself is longer).
SHORT_ID_MIN = 4


async def _full_id(prediction_id: str) -> str:
    """The journal's id that ``prediction_id`` starts (when it is not an id itself and only
    one matches); else ``prediction_id`` unchanged."""
    journal = default_journal()
    if len(prediction_id) < SHORT_ID_MIN:
        return prediction_id
    try:
        if await journal.aget(prediction_id) is not None:
            return prediction_id
        entries = await journal.aentries(limit=None, emulator=True)
    except JournalError:
        return prediction_id
    matches = list(dict.fromkeys(e.id for e in entries if e.id.startswith(prediction_id)))
    if len(matches) > 1:
        shown = ", ".join(matches[:5]) + (" …" if len(matches) > 5 else "")
        raise PredictionNotFound(
            f"{prediction_id!r} starts {len(matches)} predictions ({shown}); give more of the id",
            prediction_id=prediction_id,
        )
    return matches[0] if matches else prediction_id


def _emulator_gone(entry: JournalEntry) -> str:
    if entry.base_url == EMULATOR and not entry.from_this_process:
        where = "the embedded emulator of another process"
    else:
        where = f"the emulator at {entry.base_url}, which no longer holds it"
    return (
        f"prediction {entry.id!r} was made by {where}: emulator predictions do not outlive "
        f"the emulator's process, so it cannot be resumed. Its inputs are in "
        f"history(emulator=True); run them again for a new one."
    )


def resume(
    prediction_id: str, *, model: str | None = None, timeout: float | None = None
) -> Generation:
    """Synchronous :func:`aresume`."""
    return run_sync(aresume(prediction_id, model=model, timeout=timeout))


def history(
    limit: int | None = 50,
    *,
    model: str | None = None,
    status: str | None = None,
    emulator: bool | None = None,
) -> History:
    """Recorded predictions, newest first (each with ``.id``, ``.model``, ``.status``, ``.inputs``,
    ``.created_at``, ``.emulator``); a list that shows as a table in a notebook.

    ``limit=None`` lists them all. Emulator runs are marked (``.emulator``). ``emulator``: by
    default (None) the embedded emulator's predictions are listed only if this process made
    them (they do not outlive it, so others cannot be resumed); True lists every one, False
    none made by any emulator. Raises :class:`JournalError` (an ``EachLabsError``) when the journal
    cannot be read; a damaged journal is moved aside, said once, and a new one started.
    """
    return History(
        default_journal().entries(limit=limit, model=model, status=status, emulator=emulator)
    )


def lineage(prediction_id: str | Generation | JournalEntry) -> list[JournalEntry]:
    """The chain of runs that led to ``prediction_id`` (an id, a short id, a
    :class:`Generation` or a journal entry), read from the journal: the run itself first,
    then the run it was made from (its ``parent``), and so on back to the root, the run made
    from nothing. ``[e.id for e in lineage(g)]`` reads child → root.

    The chain ends at a parent the journal no longer holds, and at a cycle (which only an
    edited journal file can hold). Raises :class:`PredictionNotFound` (a ``KeyError``) for an
    id the journal does not know, or a short id that starts several; :class:`JournalError`
    when the journal cannot be read.
    """
    if isinstance(prediction_id, (Generation, JournalEntry)):
        prediction_id = prediction_id.id
    full = run_sync(_full_id(prediction_id))
    chain = default_journal().lineage(full)
    if not chain:
        raise PredictionNotFound(
            f"prediction {prediction_id!r} is not in the journal ({default_journal().path})",
            prediction_id=prediction_id,
        )
    return chain


def list_models(name: str | None = None) -> list[dict[str, Any]]:
    """The catalogue (optionally filtered by ``name``)."""
    return run_sync(AsyncEachLabs().list_models(name))


def get_model(slug: str) -> dict[str, Any]:
    """One model with its ``request_schema``."""
    return run_sync(AsyncEachLabs().get_model(slug))


async def _training_inputs(
    client: AsyncEachLabs, trainer: str, images: Any, inputs: dict[str, Any], keep: bool
) -> dict[str, Any]:
    """The trainer's inputs with ``images`` zipped (made to fit the upload limit), checked
    and uploaded: the payload to run."""
    schema = (await client.get_model(trainer)).get("request_schema") or {}
    field = archive_input(schema)
    if field is None:
        known = ", ".join((schema.get("properties") or {}).keys()) or "none"
        raise InputValidationError(
            trainer,
            [
                {
                    "field": "images",
                    "message": f"{trainer} is not a trainer: none of its inputs takes a zip "
                    f"of images (its inputs: {known})",
                }
            ],
        )
    if inputs.get(field) is not None:
        raise InputValidationError(
            trainer,
            [{"field": field, "message": f"{field}: give the images as images=, not {field}="}],
        )
    archive: Any = images
    if not (isinstance(images, str) and images.strip().lower().startswith(("https://", "http://"))):
        try:  # off the loop: scaling dozens of photos takes seconds
            archive = await asyncio.to_thread(training_zip, images)
        except (OSError, TypeError, ValueError) as exc:
            problem = {"field": field, "message": f"{field}: {exc}"}
            raise InputValidationError(trainer, [problem]) from None
    # (a URL is a zip the service can fetch already: sent as it is, and not deleted: it was
    # not uploaded for this run)
    payload = await client.prepare_input(trainer, {**inputs, field: archive})
    if keep:
        from ._service import uploads

        uploads.forget(uploads.registered_in(payload.values()))
    return payload


async def atrain(
    trainer: str,
    images: Any,
    *,
    timeout: float | None = None,
    keep_uploads: bool = False,
    card: bool | None = None,
    **inputs: Any,
) -> Generation:
    """Train a LoRA with ``trainer`` on ``images`` and wait for it, on the running event loop.

    ``images`` is a folder (the images and ``.txt`` captions directly in it), a zip (a path,
    its bytes, or a URL, sent as it is and never deleted), or a list of paths, PIL images or
    bytes. They fill the trainer's zip input
    (``images_data_url`` or ``image_data_url``, found from its schema); ``inputs`` are its
    other parameters (``trigger_phrase``, ``steps``…), checked against its schema first.

    The set is made to fit the service's 100 MB upload limit (API.md, "Upload") before
    anything is uploaded: images longer than 1536 px are scaled down (EXIF orientation
    applied, JPEG of quality 92). Large uploads show a progress bar in a terminal. The
    uploaded zip (your photos, public while it exists) is deleted once the trainer ends, in
    success, failure or cancel, before this returns (at exit for a run left in the
    background), unless ``keep_uploads=True``.

    Returns the :class:`Generation`; its ``lora`` is the :class:`Lora` to use:
    ``generate(g.lora.model, "a portrait", loras=[g.lora])`` (API.md, "LoRA training" says
    which model loads which trainer's LoRAs). The weights are not downloaded
    (``g.lora.download(path)`` does it).

    Raises :class:`InputValidationError` (nothing uploaded or sent) for a model that is not
    a trainer, images that cannot be read or do not fit the limit (the message says how many
    to drop), or inputs its schema refuses; the errors of :func:`agenerate` otherwise.
    """
    payload = await _training_inputs(AsyncEachLabs(), trainer, images, inputs, keep_uploads)
    return await agenerate(trainer, None, timeout=timeout, force=True, card=card, **payload)


def train(
    trainer: str,
    images: Any,
    *,
    timeout: float | None = None,
    keep_uploads: bool = False,
    card: bool | None = None,
    **inputs: Any,
) -> Generation:
    """:func:`atrain` from synchronous code (a script, or a cell of a running kernel)."""
    payload = run_sync(_training_inputs(AsyncEachLabs(), trainer, images, inputs, keep_uploads))
    return generate(trainer, None, timeout=timeout, force=True, card=card, **payload)


async def adelete_upload(url_or_id: str) -> None:
    """Delete a file uploaded as an input, by its public URL or id (``DELETE
    /v1/files/{id}``, API.md "Upload"); a file already gone is fine. Raises
    :class:`APIError` while the service still processes it (409: try again shortly)."""
    await AsyncEachLabs().delete_upload(url_or_id)


def delete_upload(url_or_id: str) -> None:
    """Synchronous :func:`adelete_upload`."""
    run_sync(adelete_upload(url_or_id))
