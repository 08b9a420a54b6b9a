"""EachLabs image generation in Jupyter: a cell magic, a widget panel and a Python API.

Importing this package has no side effects: no network, no client, no registration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._exceptions import (
    APIError,
    AuthenticationError,
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
    from ._api import agenerate, aresume, generate, get_model, history, list_models, resume
    from ._batch import batch
    from ._client import AsyncEachLabs
    from ._doctor import doctor
    from ._generation import Generation, Output
    from ._journal import JournalEntry, JournalWarning, PredictionNotFound
    from ._journal_store import JournalCorruptError, JournalError
    from ._login import login
    from ._media import LocalMedia
    from ._prediction import Prediction
    from ._render import Results
    from ._sync_client import EachLabs
    from .forms import ModelForm
    from .panel import Panel

__all__ = [
    "APIError",
    "AsyncEachLabs",
    "AuthenticationError",
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
    "Results",
    "ServerError",
    "TransportError",
    "__version__",
    "agenerate",
    "aresume",
    "batch",
    "configure",
    "doctor",
    "generate",
    "get_model",
    "history",
    "list_models",
    "load_ipython_extension",
    "login",
    "resume",
    "unload_ipython_extension",
]


# Everything else is loaded on first use: `%load_ext eachlabs_widgets` and `import
# eachlabs_widgets` stay cheap (no HTTP stack, no imaging, no widgets until they are needed).
_LAZY = {
    **dict.fromkeys(
        ("agenerate", "aresume", "generate", "get_model", "history", "list_models", "resume"),
        "._api",
    ),
    "AsyncEachLabs": "._client",
    "PredictionNotFound": "._journal",
    "JournalWarning": "._journal",
    "JournalError": "._journal_store",
    "JournalCorruptError": "._journal_store",
    "EachLabs": "._sync_client",
    "Generation": "._generation",
    "Output": "._generation",
    "JournalEntry": "._journal",
    "LocalMedia": "._media",
    "Prediction": "._prediction",
    "Results": "._render",
    "batch": "._batch",
    "doctor": "._doctor",
    "login": "._login",
    "ModelForm": ".forms",
    "Panel": ".panel",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext eachlabs_widgets``: registers ``%%eachgen`` and ``%eachgen``."""
    from . import _warm
    from .magics import load_ipython_extension as load

    load(ipython)
    _warm.start()  # the TLS context is built in the background, not by the first request


def unload_ipython_extension(ipython: Any) -> None:
    from .magics import unload_ipython_extension as unload

    unload(ipython)
