"""The high-level API: ``generate``/``agenerate``, ``resume``, ``history``, the catalogue."""

from __future__ import annotations

from typing import Any

from ._client import AsyncEachLabs
from ._exceptions import NotFoundError
from ._generation import Generation
from ._journal import JournalEntry, JournalError, PredictionNotFound, default_journal
from ._polling import PollSchedule
from ._settings import EMULATOR, output_dir
from ._sync import run_sync
from ._tables import History

__all__ = [
    "agenerate",
    "aresume",
    "generate",
    "get_model",
    "history",
    "list_models",
    "resume",
]


class _Default:
    """The type of ``DEFAULT``: "use the setting", where None means "none"."""


DEFAULT = _Default()


async def agenerate(
    model: str, prompt: str | None = None, *, timeout: float | None = None, **inputs: Any
) -> Generation:
    """Generate with ``model`` and wait for the result, on the running event loop.

    ``inputs`` are the model's parameters (see ``%eachgen schema MODEL``); they are checked
    against its schema before anything is sent. Outputs are downloaded, saved with their
    parameters to ``eachgen_outputs/`` (see ``EACHLABS_OUTPUT_DIR``) and recorded in the journal.
    """
    if prompt is not None:
        inputs["prompt"] = prompt
    return await AsyncEachLabs().run(model, inputs, timeout=timeout, save_to=output_dir())


def generate(
    model: str, prompt: str | None = None, *, timeout: float | None = None, **inputs: Any
) -> Generation:
    """Like :func:`agenerate`, from synchronous code (a script, or a cell of a running kernel)."""
    return run_sync(agenerate(model, prompt, timeout=timeout, **inputs))


async def aresume(
    prediction_id: str,
    *,
    model: str | None = None,
    timeout: float | None = None,
    save_to: str | _Default | None = DEFAULT,
    poll: PollSchedule | None = None,
) -> Generation:
    """Re-attach to a prediction by id: poll it, download and save its outputs. Creates nothing.

    The journal gives the prediction's model, inputs and service; ``model=`` resumes one the
    journal does not know (or when the journal cannot be read), on the configured service.
    Raises :class:`PredictionNotFound` (an ``EachLabsError`` and a ``KeyError``) when the
    prediction is unknown and no ``model=`` is given, or when it was made by an emulator that
    no longer holds it (emulator predictions do not outlive the emulator's process).
    ``save_to`` is the output folder (default: the ``output_dir`` setting; None: do not save);
    ``poll`` the polling schedule (the ``%eachgen`` magic passes its own settings).
    """
    journal = default_journal()
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
    if entry is None and model is not None:
        # Recorded now, so its end and its files are in history() like any other.
        journal.submit_created(prediction_id, model, {}, client.settings().base_url)
    try:
        return await client.follow(
            prediction_id,
            model or (entry.model if entry else ""),
            entry.inputs if entry else {},
            timeout=timeout,
            save_to=output_dir() if isinstance(save_to, _Default) else save_to,
            created_at=entry.created_at if entry else None,
        )
    except NotFoundError as exc:
        gone = exc.path.startswith("/v1/prediction/")
        if gone and entry is not None and entry.emulator:
            raise PredictionNotFound(_emulator_gone(entry), prediction_id=prediction_id) from None
        raise


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


def list_models(name: str | None = None) -> list[dict[str, Any]]:
    """The catalogue (optionally filtered by ``name``)."""
    return run_sync(AsyncEachLabs().list_models(name))


def get_model(slug: str) -> dict[str, Any]:
    """One model with its ``request_schema``."""
    return run_sync(AsyncEachLabs().get_model(slug))
