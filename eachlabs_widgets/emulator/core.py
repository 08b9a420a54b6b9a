"""The emulator's core: a framework-free request handler over thread-safe state.

:meth:`Emulator.handle` takes a :class:`~.messages.Request` and returns a
:class:`~.messages.Response`; the in-process transport and the loopback server both call it.
Time comes from the injectable ``clock`` so tests can move it forward instantly.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import api_catalog, api_files, api_predictions, api_uploads, faults
from .control import PREFIX, handle_control
from .messages import Request, Response, body_limit
from .state import Clock, State, validate_settings

if TYPE_CHECKING:
    from .server import EmulatorServer
    from .transport import EmulatorTransport

log = logging.getLogger(__name__)

Handler = Callable[[State, Request, list[str]], Response]

# (path pattern, {method: (endpoint name, handler)}); "*" matches one path segment.
ROUTES: list[tuple[tuple[str, ...], dict[str, tuple[str, Handler]]]] = [
    (("v1", "models"), {"GET": ("models", api_catalog.list_models)}),
    (("v1", "model"), {"GET": ("model", api_catalog.get_model)}),
    (("v1", "prediction"), {"POST": ("create", api_predictions.create)}),
    (("v1", "prediction", "*"), {"GET": ("poll", api_predictions.poll)}),
    (("v1", "prediction", "*", "cancel"), {"POST": ("cancel", api_predictions.cancel)}),
    (("v1", "upload", "presign"), {"POST": ("presign", api_uploads.presign)}),
    (("v1", "files", "*"), {"DELETE": ("delete", api_uploads.delete)}),
    (("_uploads", "*"), {"PUT": ("put", api_uploads.put)}),
    (("files", "*", "*"), {"GET": ("files", api_files.output_file)}),
    (("uploads", "*"), {"GET": ("files", api_uploads.uploaded_file)}),
]


@dataclass(frozen=True)
class EmulatorStats:
    """A snapshot of what the emulator has seen since it started (or was reset)."""

    requests: dict[str, int] = field(default_factory=dict)  # by endpoint name
    predictions_created: int = 0
    prediction_ids: list[str] = field(default_factory=list)
    faults_pending: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            "predictions_created": self.predictions_created,
            "prediction_ids": list(self.prediction_ids),
            "faults_pending": [dict(f) for f in self.faults_pending],
        }


#: The default bound of the cache of generated files: a few dozen 1024² PNGs.
DEFAULT_CACHE_BYTES = 32 * 1024 * 1024


def account_of(api_key: str) -> str:
    """A short digest naming the account of ``api_key`` in records (never the key)."""
    return hashlib.sha256(api_key.encode()).hexdigest()[:12]


class _Setting:
    """An ``Emulator`` attribute stored in its state's settings, validated on assignment."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Emulator | None, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        return getattr(obj._state.settings, self.name)

    def __set__(self, obj: Emulator, value: Any) -> None:
        obj.configure(**{self.name: value})


def route(request: Request) -> tuple[str, Handler, list[str]] | Response:
    """The endpoint name, handler and path arguments for ``request`` (or a 404/405)."""
    parts = [p for p in request.path.split("/") if p]
    for pattern, methods in ROUTES:
        if len(pattern) == len(parts) and all(
            p in ("*", q) for p, q in zip(pattern, parts, strict=True)
        ):
            if request.method not in methods:
                return Response.error(405, "Method not allowed")
            name, handler = methods[request.method]
            args = [q for p, q in zip(pattern, parts, strict=True) if p == "*"]
            return name, handler, args
    return Response.error(404, "Not found")


class Emulator:
    """A local, deterministic stand-in for the EachLabs Predictions API.

    Persistent switches are attributes, also settable through :meth:`configure` (each is
    described on :class:`~.state.Settings`): ``speed``, ``api_key``, ``account_cap``,
    ``failure``, ``legacy_failed_status``, ``never_finish``, ``output_404``,
    ``string_defaults``, ``durations``; the record's variants ``balance``,
    ``starts_per_second``, ``created_seconds``, ``cancel_completes``,
    ``cancel_status_success``, ``trainer_output_string``, ``files_delete_404``,
    ``files_processing_seconds``, ``presign_without_id``, ``record_categories``. One-shot faults come from
    :meth:`inject`. ``cache_bytes`` bounds the cache of generated files (so a long run's
    memory stays flat). :meth:`records` tells, per prediction, when it ended and when a poll
    first saw the end.
    :meth:`reset` restores the constructor's settings and forgets everything else.
    """

    speed = _Setting()
    api_key = _Setting()
    account_cap = _Setting()
    failure = _Setting()
    legacy_failed_status = _Setting()
    never_finish = _Setting()
    output_404 = _Setting()
    string_defaults = _Setting()
    durations = _Setting()
    balance = _Setting()
    starts_per_second = _Setting()
    created_seconds = _Setting()
    cancel_completes = _Setting()
    cancel_status_success = _Setting()
    trainer_output_string = _Setting()
    files_delete_404 = _Setting()
    files_processing_seconds = _Setting()
    presign_without_id = _Setting()
    record_categories = _Setting()

    def __init__(
        self,
        *,
        speed: float = 1.0,
        api_key: str | None = None,
        clock: Clock = time.monotonic,
        account_cap: int | None = 10,
        seed: int | None = None,
        failure: str | None = None,
        legacy_failed_status: bool = False,
        never_finish: bool = False,
        output_404: bool = False,
        string_defaults: bool = False,
        durations: dict[str, tuple[float, float]] | None = None,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        balance: float | None = None,
        starts_per_second: int | None = None,
        created_seconds: float = 0.0,
        cancel_completes: bool = False,
        cancel_status_success: bool = False,
        trainer_output_string: bool = False,
        files_delete_404: bool = False,
        files_processing_seconds: float = 0.0,
        presign_without_id: bool = False,
        record_categories: bool = False,
    ) -> None:
        self._state = State(clock, seed, cache_bytes)
        self._initial = self.configure(
            speed=speed,
            api_key=api_key,
            account_cap=account_cap,
            failure=failure,
            legacy_failed_status=legacy_failed_status,
            never_finish=never_finish,
            output_404=output_404,
            string_defaults=string_defaults,
            durations=durations,
            balance=balance,
            starts_per_second=starts_per_second,
            created_seconds=created_seconds,
            cancel_completes=cancel_completes,
            cancel_status_success=cancel_status_success,
            trainer_output_string=trainer_output_string,
            files_delete_404=files_delete_404,
            files_processing_seconds=files_processing_seconds,
            presign_without_id=presign_without_id,
            record_categories=record_categories,
        )

    # ----------------------------------------------------------------- settings and faults

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change persistent switches; ``ValueError`` on a bad name or value. Returns all."""
        checked = validate_settings(settings)
        with self._state.lock:
            for name, value in checked.items():
                setattr(self._state.settings, name, value)
            return self._state.settings.to_dict()

    def settings(self) -> dict[str, Any]:
        with self._state.lock:
            return self._state.settings.to_dict()

    def inject(
        self, kind: str, *, endpoint: str = "any", times: int | None = 1, **options: Any
    ) -> None:
        """Make the next ``times`` requests to ``endpoint`` go through fault ``kind``.

        Kinds and options are listed in :mod:`.faults`; ``times=None`` lasts until
        :meth:`clear_faults` or :meth:`reset`. Faults queue in order; a request takes the first
        pending one matching its endpoint.
        """
        fault = faults.make_fault(kind, endpoint, times, **options)
        with self._state.lock:
            self._state.faults.append(fault)

    def clear_faults(self) -> None:
        with self._state.lock:
            self._state.faults.clear()

    @property
    def stats(self) -> EmulatorStats:
        state = self._state
        with state.lock:
            return EmulatorStats(
                requests=dict(state.requests),
                predictions_created=len(state.created),
                prediction_ids=list(state.created),
                faults_pending=[f.to_dict() for f in state.faults],
            )

    def records(self) -> list[dict[str, Any]]:
        """Per prediction still held, in creation order: when it was created, when it ended
        (or will), when a poll first saw the end, and how many polls it answered (clock
        readings in seconds; ``account`` is a digest of the key, never the key)."""
        state = self._state
        with state.lock:
            return [p.record(account_of(p.api_key)) for p in state.predictions.values()]

    def reset(self) -> None:
        """Forget predictions, uploads, faults, stats and cached files; restore settings."""
        with self._state.lock:
            self.configure(**self._initial)
            self._state.clear()

    def now(self) -> float:
        """The emulator's clock reading."""
        return self._state.now()

    # ------------------------------------------------------------------------ entry points

    def transport(self) -> EmulatorTransport:
        """An httpx transport (sync and async) answering from this emulator, in process."""
        from .transport import EmulatorTransport

        return EmulatorTransport(self)

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> EmulatorServer:
        """This emulator on a real socket; see :func:`eachlabs_widgets.emulator.serve`."""
        from .server import serve

        return serve(self, host=host, port=port)

    def request(
        self,
        method: str,
        path: str,
        *,
        query: str | Mapping[str, Any] = "",
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        json_body: Any = None,
        base_url: str = "http://emulator.eachlabs.invalid",
    ) -> Response:
        """:meth:`handle` without building a :class:`Request` by hand."""
        scheme, _, host = base_url.partition("://")
        all_headers = {"Host": host}
        all_headers.update(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        request = Request.build(
            method, path, query=query, headers=all_headers, body=body, scheme=scheme
        )
        return self.handle(request)

    def handle(self, request: Request) -> Response:
        """Answer one HTTP request. Never raises: an unexpected error answers 500."""
        request_id = request.header("x-request-id") or str(uuid.uuid4())
        head = request.method == "HEAD"
        if head:
            request = Request(
                "GET", request.path, request.query, request.headers, request.body, request.scheme
            )
        try:
            response = self._dispatch(request)
        except Exception:
            log.exception("emulator failed on %s %s", request.method, request.path)
            response = Response.error(500, "Internal server error")
        response.headers["X-Request-Id"] = request_id
        # Lets a client label what the emulator made, however it was reached.
        response.headers["X-EachLabs-Emulator"] = "1"
        if head:
            response.headers["Content-Length"] = str(len(response.body))
            response.body = b""
        return response

    def _dispatch(self, request: Request) -> Response:
        if request.path.startswith(PREFIX):
            return handle_control(self, request)
        limit, too_large = body_limit(request.path)
        if len(request.body) > limit:
            return too_large
        state = self._state
        routed = route(request)
        endpoint = routed[0] if isinstance(routed, tuple) else "other"
        with state.lock:
            state.requests[endpoint] = state.requests.get(endpoint, 0) + 1
            fault = faults.take(state.faults, endpoint) if isinstance(routed, tuple) else None
        if isinstance(routed, Response):
            return routed
        if fault is not None:
            rejected = faults.rejection(fault, endpoint)
            if rejected is not None:
                return rejected
        _, handler, args = routed
        return faults.apply_after(fault, handler(state, request, args))
