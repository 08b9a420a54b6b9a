"""EachLabs image generation in Jupyter: a cell magic, a widget panel and a Python API.

Importing this package has no side effects: no network, no client, no registration.
"""

from __future__ import annotations

from typing import Any

from ._api import agenerate, aresume, generate, get_model, history, list_models, resume
from ._client import AsyncEachLabs
from ._exceptions import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    EachLabsError,
    InputValidationError,
    NotFoundError,
    PaymentRequiredError,
    PredictionCancelledError,
    PredictionError,
    PredictionFailedError,
    PredictionTimeoutError,
    RateLimitError,
    ServerError,
    TransportError,
)
from ._generation import Generation, Output
from ._journal import JournalEntry
from ._media import LocalMedia
from ._prediction import Prediction
from ._render import Results
from ._settings import configure
from ._sync_client import EachLabs
from ._version import __version__

__all__ = [
    "APIError",
    "AsyncEachLabs",
    "AuthenticationError",
    "ConfigurationError",
    "EachLabs",
    "EachLabsError",
    "Generation",
    "InputValidationError",
    "JournalEntry",
    "LocalMedia",
    "ModelForm",
    "NotFoundError",
    "Output",
    "Panel",
    "PaymentRequiredError",
    "Prediction",
    "PredictionCancelledError",
    "PredictionError",
    "PredictionFailedError",
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
    "generate",
    "get_model",
    "history",
    "list_models",
    "load_ipython_extension",
    "resume",
    "unload_ipython_extension",
]


# Loaded on first use, so importing the package stays cheap (the widgets import ipywidgets).
_LAZY = {"ModelForm": ".forms", "Panel": ".panel", "batch": "._batch"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext eachlabs_widgets``: registers ``%%eachgen`` and ``%eachgen``."""
    from .magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from .magics import unload_ipython_extension as unload

    unload(ipython)
