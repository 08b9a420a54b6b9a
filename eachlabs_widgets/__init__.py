"""EachLabs image generation in Jupyter: a cell magic, a widget panel and a Python API.

Importing this package has no side effects: no network, no client, no registration.

Code structure, by concern, each wing's ``__init__`` saying what it holds; imports flow down
this list, never up:

- base modules: ``_exceptions``, ``_settings``, ``_version``, ``_embedded`` (with ``emulator``,
  which imports nothing of the rest);
- ``_schema``: a model's ``request_schema`` and the inputs checked against it;
- ``_journal``: what is kept: the journal and the output files;
- ``_display``: how results look (pure presentation);
- ``_generation``: ``Generation``, a finished prediction, which draws itself through ``_display``;
- ``_service``: talking to EachLabs, up to the clients that make ``Generation`` s;
- ``_notebook``: predictions run in a notebook cell, with live cards;
- front ends: ``_api``, ``_doctor``, ``_login``, ``_library`` (find, stars and tags, recall,
  export), ``forms``, ``panel``, ``magics``, ``_batch``, ``demo`` and this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._exceptions import (
    APIError,
    AuthenticationError,
    BudgetExceededError,
    CertificateError,
    ConfigurationError,
    EachLabsError,
    InputValidationError,
    NotFoundError,
    OutputDownloadError,
    PaymentRequiredError,
    PredictionCancelledError,
    PredictionError,
    PredictionFailedError,
    PredictionTimeoutError,
    RateLimitError,
    ServerError,
    TransportError,
)
from ._settings import configure
from ._version import __version__

if TYPE_CHECKING:
    from ._api import (
        Lora,
        agenerate,
        aresume,
        atrain,
        delete_upload,
        generate,
        get_model,
        history,
        lineage,
        list_models,
        resume,
        train,
    )
    from ._batch import batch
    from ._display.render import Results
    from ._doctor import doctor
    from ._generation import Generation, Output
    from ._journal.journal import JournalEntry, JournalWarning, PredictionNotFound
    from ._journal.store import JournalCorruptError, JournalError
    from ._library.export import export
    from ._library.finding import find, star, tag, untag
    from ._library.recall import Recalled, recall
    from ._login import login
    from ._schema.media import LocalMedia
    from ._service.client import AsyncEachLabs
    from ._service.prediction import Prediction
    from ._service.sync_client import EachLabs
    from .forms import ModelForm
    from .panel import Panel

__all__ = [
    "APIError",
    "AsyncEachLabs",
    "AuthenticationError",
    "BudgetExceededError",
    "CertificateError",
    "ConfigurationError",
    "EachLabs",
    "EachLabsError",
    "Generation",
    "InputValidationError",
    "JournalCorruptError",
    "JournalEntry",
    "JournalError",
    "JournalWarning",
    "LocalMedia",
    "Lora",
    "ModelForm",
    "NotFoundError",
    "Output",
    "OutputDownloadError",
    "Panel",
    "PaymentRequiredError",
    "Prediction",
    "PredictionCancelledError",
    "PredictionError",
    "PredictionFailedError",
    "PredictionNotFound",
    "PredictionTimeoutError",
    "RateLimitError",
    "Recalled",
    "Results",
    "ServerError",
    "TransportError",
    "__version__",
    "agenerate",
    "aresume",
    "atrain",
    "batch",
    "configure",
    "delete_upload",
    "doctor",
    "export",
    "find",
    "generate",
    "get_model",
    "history",
    "lineage",
    "list_models",
    "load_ipython_extension",
    "login",
    "recall",
    "resume",
    "star",
    "tag",
    "train",
    "unload_ipython_extension",
    "untag",
]


# Everything else is loaded on first use: `%load_ext eachlabs_widgets` and `import
# eachlabs_widgets` stay cheap (no HTTP stack, no imaging, no widgets until they are needed).
_LAZY = {
    **dict.fromkeys(
        (
            "agenerate",
            "aresume",
            "atrain",
            "delete_upload",
            "generate",
            "get_model",
            "history",
            "lineage",
            "list_models",
            "Lora",
            "resume",
            "train",
        ),
        "._api",
    ),
    "AsyncEachLabs": "._service.client",
    "PredictionNotFound": "._journal.journal",
    "JournalWarning": "._journal.journal",
    "JournalError": "._journal.store",
    "JournalCorruptError": "._journal.store",
    "EachLabs": "._service.sync_client",
    "Generation": "._generation",
    "Output": "._generation",
    "JournalEntry": "._journal.journal",
    "LocalMedia": "._schema.media",
    "Prediction": "._service.prediction",
    "Results": "._display.render",
    "batch": "._batch",
    "doctor": "._doctor",
    "login": "._login",
    "ModelForm": ".forms",
    "Panel": ".panel",
    **dict.fromkeys(("Recalled", "export", "find", "recall", "star", "tag", "untag"), "._library"),
}


#: Private modules of earlier releases, now in a wing: ``from eachlabs_widgets import _http``
#: (scripts that reached into them) keeps working.
_MOVED_MODULES = {
    **{name: f"._service.{name}" for name in ("coalesce", "download", "http", "limiter")},
    **{name: f"._service.{name}" for name in ("polling", "prediction", "retry", "status")},
    **{name: f"._service.{name}" for name in ("client", "sync", "sync_client", "warm")},
    **{name: f"._schema.{name}" for name in ("coerce", "jsonsafe", "jsonschema", "media", "rules")},
    **{name: f"._display.{name}" for name in ("card", "cellsyntax", "render", "tables", "tiles")},
    **{name: f"._notebook.{name}" for name in ("runs", "run_display")},
    "files": "._journal.files",
    "journal_store": "._journal.store",
    "ticket": "._journal.ticket",
}


def __getattr__(name: str) -> Any:
    if name.startswith("_") and name[1:] in _MOVED_MODULES:
        import importlib

        return importlib.import_module(_MOVED_MODULES[name[1:]], __name__)
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        _give_generations_a_runner()
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


class _DefaultRunner:
    """How ``vary()``/``remix()`` run for a Generation made without a client (rebuilt from
    the journal by ``find()``, ``Generation.from_entry``…): as ``generate()`` runs. The front
    end that does it (``_api``) is imported only when one runs."""

    async def arun_all(self, model: str, runs: Any, *, parent: str, timeout: float | None) -> Any:
        from ._api import RUNNER

        return await RUNNER.arun_all(model, runs, parent=parent, timeout=timeout)

    def wait(self, work: Any) -> Any:
        from ._api import RUNNER

        return RUNNER.wait(work)


def _give_generations_a_runner() -> None:
    """Once ``Generation`` is loaded, register the default runner (unless ``_api`` did)."""
    import sys

    if f"{__name__}._generation" in sys.modules:
        from ._generation import set_default_runner

        set_default_runner(_DefaultRunner(), replace=False)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext eachlabs_widgets``: registers ``%%eachgen`` and ``%eachgen``."""
    from ._service import warm as _warm
    from .magics import load_ipython_extension as load

    load(ipython)
    _warm.start()  # the TLS context is built in the background, not by the first request


def unload_ipython_extension(ipython: Any) -> None:
    from .magics import unload_ipython_extension as unload

    unload(ipython)
