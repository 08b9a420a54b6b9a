"""The emulator's mutable state, shared by the endpoint modules under one re-entrant lock."""

from __future__ import annotations

import random
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from .faults import Fault
from .messages import Request, Response
from .predictions import CLASSIFICATIONS, Prediction
from .uploads import Upload

Clock = Callable[[], float]


@dataclass
class Settings:
    """The persistent switches (see the package docstring)."""

    speed: float = 1.0
    api_key: str | None = None
    account_cap: int | None = 10
    failure: str | None = None
    legacy_failed_status: bool = False
    never_finish: bool = False
    output_404: bool = False
    string_defaults: bool = False
    #: The account's balance in USD (None: not modelled). At most $10, the account is held to
    #: ``account_cap`` (10 when None) predictions in flight; above $10 there is no cap; creates
    #: whose estimated cost, with what is in flight, exceeds what is left answer 402 (API.md,
    #: "Limits and errors in general", "Create"). Successful predictions are spent from it.
    balance: float | None = None
    #: More creates than this within one second of the account's clock answer the second 429
    #: ("too many executions were started at once"); None: no such limit.
    starts_per_second: int | None = None
    #: Seconds (clock time, not scaled by ``speed``) a prediction stays ``created`` before it
    #: starts, as while a provider's capacity holds it.
    created_seconds: float = 0.0
    #: An accepted cancel that does not take: the prediction completes and is billed.
    cancel_completes: bool = False
    #: The cancel answer says ``"status": "success"`` (one doc page's variant).
    cancel_status_success: bool = False
    #: Trainers answer their output as a JSON string holding the object.
    trainer_output_string: bool = False
    #: ``DELETE /v1/files/{id}`` of a file it does not hold answers 404 (instead of 204).
    files_delete_404: bool = False
    #: Seconds after its PUT a file is "processing": a delete then answers 409.
    files_processing_seconds: float = 0.0
    #: The presign answer carries no ``id`` (the file cannot be deleted later).
    presign_without_id: bool = False
    #: Failure envelopes say the record's ``error_code`` and ``classification.category``
    #: words (``VALIDATION``, ``PROVIDER``, …) instead of the lowercase classifications,
    #: which the record gives as ``GET /v1/executions`` filter values.
    record_categories: bool = False
    #: Per-model duration ranges: slug -> [low, high] seconds of model time; each prediction
    #: draws uniformly in its model's range (instead of the model's typical duration ±10 %).
    durations: dict[str, tuple[float, float]] | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        if self.durations is not None:
            out["durations"] = {k: list(v) for k, v in self.durations.items()}
        return out


SETTING_NAMES = tuple(f.name for f in fields(Settings))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def validate_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` checked and normalised; ``ValueError`` names the first bad one."""
    unknown = set(settings) - set(SETTING_NAMES)
    if unknown:
        raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    out: dict[str, Any] = {}
    for name, value in settings.items():
        if name == "speed":
            if not _is_number(value) or value < 0:
                raise ValueError("speed must be a non-negative number")
            value = float(value)
        elif name == "api_key":
            if value is not None and (not isinstance(value, str) or not value):
                raise ValueError("api_key must be a non-empty string or None")
        elif name in ("account_cap", "starts_per_second"):
            if value is not None and (not _is_number(value) or int(value) != value or value < 0):
                raise ValueError(f"{name} must be a non-negative integer or None")
            value = None if value is None else int(value)
        elif name == "balance":
            if value is not None and (not _is_number(value) or value < 0):
                raise ValueError("balance must be a non-negative number (USD) or None")
            value = None if value is None else float(value)
        elif name in ("created_seconds", "files_processing_seconds"):
            if not _is_number(value) or value < 0:
                raise ValueError(f"{name} must be a non-negative number of seconds")
            value = float(value)
        elif name == "durations":
            value = _duration_ranges(value)
        elif name == "failure":
            if value is not None and value not in CLASSIFICATIONS:
                choices = ", ".join(sorted(CLASSIFICATIONS))
                raise ValueError(f"failure must be None or one of: {choices}")
        elif not isinstance(value, bool):
            raise ValueError(f"{name} must be a boolean")
        out[name] = value
    return out


def _duration_ranges(value: Any) -> dict[str, tuple[float, float]] | None:
    if value is None:
        return None
    from .catalog import models_by_slug

    if not isinstance(value, dict):
        raise ValueError("durations must be an object of model slug -> [low, high] seconds")
    known = models_by_slug()
    ranges: dict[str, tuple[float, float]] = {}
    for slug, bounds in value.items():
        if slug not in known:
            raise ValueError(f"durations: unknown model {slug!r}")
        if (
            not isinstance(bounds, list | tuple)
            or len(bounds) != 2
            or not all(_is_number(b) for b in bounds)
            or not 0 <= bounds[0] <= bounds[1]
        ):
            raise ValueError(f"durations[{slug!r}] must be [low, high] with 0 <= low <= high")
        ranges[slug] = (float(bounds[0]), float(bounds[1]))
    return ranges


class ByteLRU:
    """A least-recently-used cache of generated files, bounded by total bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[Any, bytes] = OrderedDict()
        self._size = 0

    def get(self, key: Any) -> bytes | None:
        data = self._items.get(key)
        if data is not None:
            self._items.move_to_end(key)
        return data

    def put(self, key: Any, data: bytes) -> None:
        if key in self._items:
            self._size -= len(self._items.pop(key))
        self._items[key] = data
        self._size += len(data)
        while self._size > self.max_bytes and len(self._items) > 1:
            _, old = self._items.popitem(last=False)
            self._size -= len(old)

    def clear(self) -> None:
        self._items.clear()
        self._size = 0

    @property
    def size(self) -> int:
        return self._size


def request_keys(request: Request) -> list[str]:
    """The API keys a request carries (``X-API-Key`` and/or ``Authorization: Bearer``)."""
    keys = []
    header = (request.header("x-api-key") or "").strip()
    if header:
        keys.append(header)
    auth = request.header("authorization") or ""
    if auth[:7].lower() == "bearer " and auth[7:].strip():
        keys.append(auth[7:].strip())
    return keys


class State:
    """Everything the endpoints read and change. Hold ``lock`` while touching it."""

    def __init__(self, clock: Clock, seed: int | None, cache_bytes: int) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.seed = seed
        self.settings = Settings()
        self.cache = ByteLRU(cache_bytes)
        self.clear()

    def clear(self) -> None:
        with self.lock:
            # Without a seed, ids differ from one process to the next like the service's do
            # (a journal keyed by id must never see the same id twice).
            self.rng = random.Random(self.seed) if self.seed is not None else random.Random()
            self.predictions: dict[str, Prediction] = {}
            self.uploads: dict[str, Upload] = {}
            self.faults: list[Fault] = []
            self.requests: dict[str, int] = {}
            self.created: list[str] = []
            self.starts: dict[str, list[float]] = {}  # account key -> recent create times
            self.cache.clear()

    def now(self) -> float:
        return self.clock()

    def new_id(self) -> str:
        """A UUID from the generator (deterministic when the emulator was given a ``seed``)."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def authorize(self, request: Request) -> str | None:
        """The accepted API key of ``request``, or None."""
        for key in request_keys(request):
            if self.settings.api_key is None or key == self.settings.api_key:
                return key
        return None


def unauthorized() -> Response:
    return Response.error(401, "Invalid or missing API key")
