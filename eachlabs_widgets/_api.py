"""The high-level API: ``generate``/``agenerate``, ``resume``, ``history``, the catalogue."""

from __future__ import annotations

from typing import Any

from ._client import AsyncEachLabs
from ._generation import Generation
from ._journal import default_journal
from ._polling import PollSchedule
from ._settings import output_dir
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

    ``save_to`` is the output folder (default: the ``output_dir`` setting; None: do not save);
    ``poll`` the polling schedule (the ``%eachgen`` magic passes its own settings).
    """
    entry = default_journal().get(prediction_id)
    if entry is None and model is None:
        raise KeyError(
            f"prediction {prediction_id!r} is not in the journal; pass model= to resume it anyway"
        )
    client = AsyncEachLabs(base_url=entry.base_url if entry else None, poll=poll)
    return await client.follow(
        prediction_id,
        model or (entry.model if entry else ""),
        entry.inputs if entry else {},
        timeout=timeout,
        save_to=output_dir() if isinstance(save_to, _Default) else save_to,
        created_at=entry.created_at if entry else None,
    )


def resume(
    prediction_id: str, *, model: str | None = None, timeout: float | None = None
) -> Generation:
    """Synchronous :func:`aresume`."""
    return run_sync(aresume(prediction_id, model=model, timeout=timeout))


def history(
    limit: int | None = 50, *, model: str | None = None, status: str | None = None
) -> History:
    """Recorded predictions, newest first (each with ``.id``, ``.model``, ``.status``, ``.inputs``,
    ``.created_at``); a list that shows as a table in a notebook."""
    return History(default_journal().entries(limit=limit, model=model, status=status))


def list_models(name: str | None = None) -> list[dict[str, Any]]:
    """The catalogue (optionally filtered by ``name``)."""
    return run_sync(AsyncEachLabs().list_models(name))


def get_model(slug: str) -> dict[str, Any]:
    """One model with its ``request_schema``."""
    return run_sync(AsyncEachLabs().get_model(slug))
