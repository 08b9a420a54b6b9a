"""``AsyncEachLabs``: the async client. Every other entry point drives this one."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import statistics
import time
import warnings
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

from .._exceptions import (
    APIError,
    InputValidationError,
    NotFoundError,
    PredictionCancelledError,
    PredictionError,
    PredictionFailedError,
    PredictionTimeoutError,
)
from .._generation import Generation, Output
from .._journal.journal import CANCEL_REQUESTED, Journal, default_journal, finished_after_cancel
from .._schema.inputs import choose_seed, properties_of, validate_inputs
from .._schema.lora import TRAINERS, lora_from_output, set_default_fetcher
from .._schema.media import (
    LocalMedia,
    data_uri_media,
    existing_local_file,
    file_type_of,
    is_local_media,
    is_loopback_url,
    media_kind,
    to_local_media,
)
from .._schema.trainset import UPLOAD_LIMIT
from .._settings import EMULATOR, Secret, Settings, resolve, upload_expiry
from . import cancels
from . import uploads as upload_registry
from .budget import Budget, Reservation, images_of
from .budget import session as session_budget
from .coalesce import SingleFlight
from .download import download_all, download_to_file, off_loop, read_all
from .http import HTTP, DeadlineReached, Sleep, new_client
from .limiter import PredictionLimiter, capacity_aware
from .limiter import limiter as shared_limiter
from .polling import DurationLearner, PollSchedule, observed_duration
from .prediction import Prediction
from .rerun import ClientRunner
from .retry import RetryPolicy
from .status import StatusWatch, is_known
from .timeouts import within
from .uploads import Progress, Uploaded, file_id_of, show_progress

__all__ = ["AsyncEachLabs", "learner"]

log = logging.getLogger("eachlabs_widgets")
VERSION = "0.0.1"  # deprecated by the service, always "0.0.1", still sent as its guide does
PAGE_SIZE = 100
#: At most this many catalogue pages are read (the catalogue holds well under 1,000 models).
MAX_PAGES = 50
#: How long an interrupt waits for a create in flight to answer, so it can cancel what it made.
CREATE_HOLD = 10.0
#: How long cancelling a prediction may take before it is left in the journal for resume().
CANCEL_HOLD = 10.0
#: How long a prediction whose cancel was accepted is followed in the background until the
#: service says how it ended (seconds); past it, ``resume(id)`` settles it.
SETTLE_LIMIT = 900.0
#: How long a wait may spend reading the journal's durations for a model, once per process.
SEED_WAIT = 1.0
#: How long deleting a trainer's uploads may hold up the end of its run.
DELETE_HOLD = 10.0
#: The size cap of LoRA weights fetched on request (they are not images: hundreds of MB).
LORA_MAX_BYTES = 10_000_000_000

#: Each model's durations per service, learned in this process and seeded from the journal.
learner = DurationLearner()
_model_cache: dict[tuple[str, str], dict[str, Any]] = {}
_model_lookups: SingleFlight[dict[str, Any]] = SingleFlight()
OnUpdate = Callable[[Prediction], None]


class AsyncEachLabs:
    """The EachLabs Predictions API, asynchronously.

    ``api_key`` and ``base_url`` override ``EACHLABS_API_KEY`` and ``EACHLABS_BASE_URL``
    (default ``https://api.eachlabs.ai``; ``"emulator"`` selects the embedded emulator). Both
    are read when a call is made. Requests go through one shared ``httpx.AsyncClient`` per
    event loop, unless ``transport=`` is given (tests), which makes a client of its own.
    Every create reserves its estimate against ``budget`` (default: the session's, set with
    ``configure(budget=)``; see :mod:`.budget`).
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        poll: PollSchedule | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        journal: Journal | bool = True,
        limiter: PredictionLimiter | None = None,
        budget: Budget | None = None,
    ) -> None:
        self._api_key = Secret(api_key) if api_key else None
        self._base_url = base_url
        self._own_client = new_client(transport) if transport is not None else None
        self._poll = poll or PollSchedule()
        self._sleep = sleep
        self._clock = clock
        self._journal_choice = journal
        self._limiter = limiter or shared_limiter
        self._budget = budget or session_budget
        self._http = HTTP(
            self.settings,
            retry=capacity_aware(retry),
            sleep=sleep,
            client=self._own_client,
            on_throttled=self._limiter.throttled,
        )

    @property
    def limiter(self) -> PredictionLimiter:
        """What bounds this client's predictions in flight (shared by the process unless
        ``limiter=`` was given)."""
        return self._limiter

    @property
    def budget(self) -> Budget:
        """What this client's creates reserve against: the session's budget (the process's,
        :func:`~eachlabs_widgets.configure` ``budget=``) unless ``budget=`` was given."""
        return self._budget

    @property
    def emulated(self) -> bool:
        """Whether this client talks to an emulator: the embedded one, or one on a URL whose
        answers said so (``X-EachLabs-Emulator``; known after the first answer)."""
        return self.settings().is_emulator or self._http.saw_emulator

    def settings(self) -> Settings:
        return resolve(self._api_key, self._base_url)

    @property
    def journal(self) -> Journal | None:
        if isinstance(self._journal_choice, Journal):
            return self._journal_choice
        return default_journal() if self._journal_choice else None

    def __repr__(self) -> str:
        return f"<AsyncEachLabs base_url={self.settings().base_url!r}>"

    async def __aenter__(self) -> AsyncEachLabs:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client made for ``transport=``; the shared client stays open for others."""
        if self._own_client is not None:
            await self._own_client.aclose()

    # -- models ---------------------------------------------------------------------------

    async def list_models(self, name: str | None = None) -> list[dict[str, Any]]:
        """Every model (optionally filtered by ``name``), paging until a short page.

        Paging stops, with what was gathered, when a page repeats the previous one (a service
        or proxy that ignores ``offset``) or after :data:`MAX_PAGES` pages (API.md, "List
        models"). Raises :class:`APIError` when a page is not a JSON list.
        """
        models: list[dict[str, Any]] = []
        seen: set[str] = set()
        offset = 0
        previous: list[Any] | None = None
        for _page in range(MAX_PAGES):
            params: dict[str, Any] = {"limit": PAGE_SIZE, "offset": offset}
            if name:
                params["name"] = name
            page = await self._http.json("GET", "/v1/models", params=params, auth=self._has_key())
            if not isinstance(page, list):
                raise APIError(
                    f"the model list is not a JSON list but {type(page).__name__}",
                    status_code=200,
                    method="GET",
                    path="/v1/models",
                )
            if page == previous:
                log.warning("the model list repeated a page at offset %d: stopped there", offset)
                break
            for model in page:
                slug = model.get("slug") if isinstance(model, dict) else None
                if isinstance(slug, str) and slug not in seen:
                    seen.add(slug)
                    models.append(model)
            if len(page) < PAGE_SIZE:
                break
            previous = page
            offset += len(page)
        else:
            log.warning("the model list has more than %d pages: stopped there", MAX_PAGES)
        return models

    async def get_model(self, slug: str) -> dict[str, Any]:
        """One model with its ``request_schema`` (API.md, "Get model"), cached per base URL for
        this process once the answer is known to be well formed.

        Raises :class:`NotFoundError` for an unknown slug and :class:`APIError` for an answer
        that is not a model (a detail that is not an object, a ``request_schema`` that is not
        an object).
        """
        base_url = self.settings().base_url
        key = (base_url, slug)
        if key in _model_cache:
            return dict(_model_cache[key])
        # Concurrent lookups of one model share one request.
        return dict(await _model_lookups.run(key, lambda: self._fetch_model(key)))

    async def _fetch_model(self, key: tuple[str, str]) -> dict[str, Any]:
        base_url, slug = key
        try:
            model = await self._http.json(
                "GET", "/v1/model", params={"slug": slug}, auth=self._has_key()
            )
        except NotFoundError as exc:
            path = httpx.URL(base_url).path if base_url != EMULATOR else ""
            hint = (
                f" (is the base URL right? Its path {path!r} comes before /v1/…; the service's "
                "own address has none, e.g. https://api.eachlabs.ai)"
                if path.strip("/")
                else ""
            )
            raise NotFoundError(
                f"unknown model {slug!r} at {base_url}{hint}; list them with "
                "eachlabs_widgets.list_models()",
                status_code=404,
                details=exc.message,
                method="GET",
                path="/v1/model",
            ) from None
        problem = _model_problem(model)
        if problem:
            raise APIError(
                f"the service's description of model {slug!r} is malformed: {problem}",
                status_code=200,
                method="GET",
                path="/v1/model",
            )
        _model_cache[key] = model
        return model

    def _has_key(self) -> bool:
        return self.settings().api_key is not None

    # -- predictions ----------------------------------------------------------------------

    async def prepare_input(
        self, model: str, inputs: Mapping[str, Any], *, progress: bool | None = None
    ) -> dict[str, Any]:
        """Inputs checked against the model's schema, coerced, with a seed, files uploaded.

        A file input takes an ``http(s)://`` URL (sent as it is) or a local file: bytes, a PIL
        image, a :class:`~pathlib.Path`, a :class:`LocalMedia`, a ``data:`` URI (the service
        rejects those: API.md "Upload"), or a string that names an existing file
        (``"cat.png"``, ``"~/x.jpg"``, ``"file:///…"``, quoted or not). Local files are read,
        then uploaded (API.md "Upload") only once every input passed, asking the retention of
        the ``upload_expiry`` setting (a day by default); large ones show ``progress`` (a bar
        in a terminal when None). A trainer's uploads are deleted when its run ends (see
        :meth:`run`).

        Raises :class:`InputValidationError` naming the field before anything is uploaded or
        created: for a local path that names no file, a file or data: URI that cannot be read,
        a ``localhost`` URL while the service is not on this machine (it cannot fetch it), or
        any input the schema refuses.
        """
        schema = (await self.get_model(model)).get("request_schema") or {}
        props = properties_of(schema)
        local: dict[str, Any] = {}
        problems: list[dict[str, Any]] = []
        remote = not _on_this_machine(self.settings().base_url)
        for name, value in inputs.items():
            if name not in props:
                continue
            if is_local_media(value):
                local[name] = value
            elif media_kind(name, props[name]) is not None:
                path = existing_local_file(value)
                if path is not None:
                    local[name] = path
                elif isinstance(value, str) and value[:5].lower() == "data:":
                    local[name] = value
                elif remote and is_loopback_url(value) and value.strip() not in _service_urls:
                    problems.append({"field": name, "message": _loopback_message(name, value)})
        if problems:
            raise InputValidationError(model, problems)
        # Local files stand in as a name while the rest is checked: nothing is read or
        # uploaded for inputs that are refused.
        payload = validate_inputs(model, schema, {**inputs, **{k: "local-file" for k in local}})
        files: dict[str, LocalMedia] = {}
        for name, value in local.items():
            try:  # off the event loop: a large file or image must not freeze the notebook
                files[name] = await asyncio.to_thread(_read_local, value)
            except (OSError, TypeError, ValueError) as exc:
                problems.append({"field": name, "message": f"{name}: cannot read the file: {exc}"})
                continue
            if len(files[name].data) > UPLOAD_LIMIT:
                problems.append({"field": name, "message": _too_large(name, model, files[name])})
        if problems:
            raise InputValidationError(model, problems)
        training = model in TRAINERS or any(
            media_kind(name, props[name]) == "archive" for name in files
        )
        for name, media in files.items():
            made = await self._upload(media, expires_in_seconds=upload_expiry(), progress=progress)
            payload[name] = made.url
            if training:
                if made.id is None:
                    warnings.warn(_NO_ID_WARNING.format(url=made.url), stacklevel=2)
                upload_registry.register(made, _delete_left_at_exit)
        return choose_seed(schema, payload)

    async def create_prediction(
        self,
        model: str,
        input: Mapping[str, Any],
        *,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> str:
        """Create a prediction with ``input`` as given; returns its id."""
        body: dict[str, Any] = {"model": model, "version": VERSION, "input": dict(input)}
        if webhook_url:
            body["webhook_url"] = webhook_url
        if webhook_secret:
            body["webhook_secret"] = webhook_secret
        answer = await self._http.json("POST", "/v1/prediction", kind="create", json=body)
        prediction_id = None
        if isinstance(answer, dict):
            prediction_id = (
                answer.get("predictionID") or answer.get("prediction_id") or answer.get("id")
            )
        if not isinstance(prediction_id, (str, int)) or isinstance(prediction_id, bool):
            raise APIError(
                "the create answer holds no prediction id, so the prediction (if one was made) "
                "cannot be followed; look for it on the EachLabs dashboard before trying again: "
                + repr(answer)[:200],
                status_code=200,
                method="POST",
                path="/v1/prediction",
            )
        return str(prediction_id)

    async def get_prediction(
        self, prediction_id: str, *, deadline: float | None = None
    ) -> Prediction:
        """The prediction as the service describes it now (API.md, "Get prediction").

        Raises :class:`APIError` when the answer is not a JSON object."""
        body = await self._http.json("GET", f"/v1/prediction/{prediction_id}", deadline=deadline)
        if not isinstance(body, dict):
            raise APIError(
                f"the answer for prediction {prediction_id} is not a JSON object but "
                f"{type(body).__name__}",
                status_code=200,
                method="GET",
                path=f"/v1/prediction/{prediction_id}",
            )
        return Prediction.from_json(body, prediction_id)

    async def cancel_prediction(self, prediction_id: str) -> dict[str, Any]:
        """Ask the service to cancel; returns its answer (a JSON object).

        The answer means the cancel was accepted, not that it happened (API.md, "Cancel"):
        the prediction may still complete or fail, and is billed if it completes. Only a
        prediction that then polls as ``cancelled`` is not billed. Raises :class:`APIError`
        (e.g. for a prediction that already ended)."""
        body = await self._http.json("POST", f"/v1/prediction/{prediction_id}/cancel")
        return body if isinstance(body, dict) else {}

    async def wait(
        self,
        prediction_id: str,
        timeout: float | None = None,
        *,
        model: str | None = None,
        on_update: OnUpdate | None = None,
        started: float | None = None,
        deadline: float | None = None,
    ) -> Prediction:
        """Poll until the prediction ends; returns it on success, raises on any other end.

        The schedule adapts to the model's typical duration once one is known. ``timeout``
        (seconds) bounds the whole wait, polls in flight included: it raises
        :class:`PredictionTimeoutError` (the prediction goes on running on the service: resume
        it by id, or cancel it).
        ``deadline`` is the same bound as a ``time.monotonic()`` instant, for a caller whose
        own ``timeout`` started earlier.

        Every spelling of an end ends the wait at once (API.md, "Poll": ``succeeded``,
        ``completed``; ``failed``, ``aborted``, ``timeout``, ``canceled``, …). A status word that
        is no known end counts as running; with neither ``timeout`` nor ``deadline``, one that
        stands unchanged for :data:`~.status.STALL_LIMIT` seconds (ten minutes) raises
        :class:`PredictionTimeoutError` naming it. The prediction stays in the journal.
        """
        start = self._clock() if started is None else started
        if timeout is not None:
            own = time.monotonic() + max(0.0, timeout - (self._clock() - start))
            deadline = own if deadline is None else min(deadline, own)
        base_url = self.settings().base_url
        if model:
            await self._seed_learner(model, base_url)
        polls = 0
        last_poll: float | None = None  # when the last poll went out, seconds after start
        running_until = 0.0  # when the last poll that saw it running went out
        watch, status, stalled = StatusWatch(), "starting", False
        queued = False  # the last answer said "created": held in the provider's queue
        scout = False  # one of the few polling a model whose durations are unknown
        learner.polling(+1)
        try:
            while True:
                elapsed = self._clock() - start
                # Asked each time: a same-model prediction that just ended re-plans this one.
                support = learner.support(model, base_url) if model else None
                if model and support is None and not scout:
                    scout = learner.enlist(model, base_url, self._poll.crowd_free)
                elif scout and support is not None:
                    learner.discharge(model or "", base_url)
                    scout = False
                round_trip = learner.round_trip(base_url)
                target = self._poll.next_poll(
                    elapsed,
                    last_poll,
                    support,
                    round_trip,
                    crowd=learner.crowd,
                    queued=queued,
                    held=bool(model) and support is None and not scout,
                )
                if timeout is not None:
                    target = min(target, timeout)
                if deadline is not None:
                    target = min(target, elapsed + max(0.0, deadline - time.monotonic()))
                if target > elapsed:
                    # Woken by an end of the same model only while its durations are being
                    # learned; after that a plain sleep is cheaper (no task per poll).
                    if model and learner.learning(model, base_url):
                        woken = await learner.sleep(model, base_url, target - elapsed, self._sleep)
                        if woken:
                            continue
                    else:
                        await self._sleep(target - elapsed)
                sent = self._clock() - start
                prediction = await self.get_prediction(prediction_id, deadline=deadline)
                learner.observe_round_trip(base_url, self._clock() - start - sent)
                polls += 1
                if on_update is not None:
                    on_update(prediction)
                if prediction.done:
                    duration = observed_duration(
                        prediction.metrics.get("predict_time"),
                        running_until,
                        self._clock() - start,
                    )
                    if prediction.succeeded and model:
                        learner.observe(model, duration, base_url)
                    prediction = dataclasses.replace(prediction, polls=polls, duration=duration)
                    error = prediction.error(model)
                    if error is not None:
                        raise error
                    return prediction
                last_poll = running_until = sent
                status = prediction.status
                queued = status == "created"
                if timeout is not None and self._clock() - start >= timeout:
                    raise DeadlineReached("the wait's timeout passed")
                if deadline is not None and time.monotonic() >= deadline:
                    raise DeadlineReached("the call's deadline passed")
                # An unknown status word, unchanged for long, ends a wait that has no deadline.
                if deadline is None and watch.stalled(status, prediction.logs, self._clock()):
                    stalled = True
                    raise DeadlineReached("an unknown status stood still")
        except DeadlineReached:
            waited = timeout if timeout is not None else self._clock() - start
            raise PredictionTimeoutError(
                prediction_id=prediction_id,
                timeout=waited,
                model=model,
                status=None if is_known(status) else status,
                stalled=stalled,
            ) from None
        finally:
            learner.polling(-1)
            if scout:
                learner.discharge(model or "", base_url)

    async def _seed_learner(self, model: str, base_url: str) -> None:
        """Once per process and model: what the journal recorded seeds what was learned. Read
        off the loop, and never waited for long: the journal is a help here, not a need."""
        if learner.is_seeded(model, base_url):
            return
        journal = self.journal
        recorded: list[float] = []
        if journal is not None:
            try:
                recorded = await within(SEED_WAIT, journal.adurations(model, base_url, limit=50))
            except (asyncio.TimeoutError, Exception):
                recorded = journal.durations_nowait(model, base_url)
        learner.seed(model, base_url, reversed(recorded))  # oldest first

    # -- files ----------------------------------------------------------------------------

    async def upload(
        self,
        data: Any,
        content_type: str | None = None,
        *,
        expires_in_seconds: int | None = None,
        progress: bool | None = None,
    ) -> str:
        """Upload bytes, a path or a PIL image; returns the public URL to pass as an input.

        The file is public until it expires (``expires_in_seconds``, 60 s to 365 days; the
        service's default is 180 days) or :meth:`delete_upload` removes it (API.md "Upload").
        ``progress`` shows a bar (default: for large files, in a terminal).
        """
        made = await self._upload(
            to_local_media(data),
            content_type,
            expires_in_seconds=expires_in_seconds,
            progress=progress,
        )
        return made.url

    async def _upload(
        self,
        media: LocalMedia,
        content_type: str | None = None,
        *,
        expires_in_seconds: int | None = None,
        progress: bool | None = None,
    ) -> Uploaded:
        ctype = content_type or media.content_type
        body: dict[str, Any] = {"content_type": ctype, "file_type": file_type_of(ctype)}
        if expires_in_seconds is not None:
            body["expires_in_seconds"] = int(expires_in_seconds)
        presign = await self._http.json("POST", "/v1/upload/presign", json=body)
        problem = _presign_problem(presign)
        if problem:
            raise APIError(
                f"the upload answer is malformed: {problem}",
                status_code=200,
                method="POST",
                path="/v1/upload/presign",
            )
        headers = {str(k): str(v) for k, v in (presign.get("required_headers") or {}).items()}
        headers["Content-Type"] = ctype
        content: Any = media.data
        if show_progress(len(media.data), progress):
            content = Progress(media.data, media.filename, True)
            headers["Content-Length"] = str(len(media.data))  # a presigned PUT is never chunked
        await self._http.request(
            "PUT", presign["presigned_url"], auth=False, content=content, headers=headers
        )
        url = str(presign["public_url"])
        if is_loopback_url(url):
            _service_urls.add(url)
        file_id = presign.get("id")
        settings = self.settings()
        return Uploaded(
            url=url,
            id=str(file_id) if isinstance(file_id, (str, int)) and str(file_id) else None,
            base_url=settings.base_url,
            api_key=settings.api_key,
        )

    async def delete_upload(self, url_or_id: str) -> None:
        """Delete an uploaded file (``DELETE /v1/files/{id}``, API.md "Upload"), by its public
        URL or its id. A file already gone (204 or 404) is fine.

        Raises :class:`APIError` when the service still processes the file (409: try again
        in a moment) or refuses otherwise, and ``ValueError`` for empty text.
        """
        file_id = file_id_of(url_or_id)
        try:
            await self._http.request("DELETE", f"/v1/files/{file_id}")
        except NotFoundError:
            pass  # never existed or already deleted: gone either way
        except APIError as exc:
            if exc.status_code == 409:
                raise APIError(
                    f"upload {file_id} is still being processed by the service, so it cannot "
                    "be deleted yet; try again in a moment",
                    status_code=409,
                    details=exc.message,
                    method="DELETE",
                    path=f"/v1/files/{file_id}",
                ) from None
            raise
        upload_registry.forget([u for u in upload_registry.pending() if u.id == file_id])

    async def download(self, url: str, *, deadline: float | None = None) -> bytes:
        """The bytes at ``url`` (an output file or a ``data:`` URI). The API key is never sent
        to file hosts.

        Kept in memory while small, else streamed through a staging file in the system's
        temp folder; capped at
        ``EACHLABS_MAX_DOWNLOAD_MB``; ``deadline`` (``time.monotonic()`` seconds) bounds it.
        Raises :class:`OutputDownloadError`.
        """
        return (await self._download_output(url, deadline=deadline)).data

    async def _download_output(
        self, url: str, *, prediction_id: str | None = None, deadline: float | None = None
    ) -> Output:
        staged = await download_to_file(
            self._http, url, folder=None, prediction_id=prediction_id, deadline=deadline
        )
        [data] = await read_all([staged])
        staged.discard()
        return Output(
            url="data:" if url.startswith("data:") else url,
            data=data,
            content_type=staged.content_type,
        )

    # -- the whole flow -------------------------------------------------------------------

    async def run(
        self,
        model: str,
        inputs: Mapping[str, Any],
        *,
        timeout: float | None = None,
        on_update: OnUpdate | None = None,
        save_to: str | None = None,
        reuse: bool = False,
        keep_uploads: bool = False,
        parent: str | None = None,
    ) -> Generation:
        """Validate, create, record, wait, download (and save): one finished :class:`Generation`.

        ``parent``: the prediction id of the run this one is made from (a variation, a remix,
        an image used as input…), recorded in the journal with the create and kept in the
        generation's ``parent``. The generation can make runs from itself on this client
        (``g.vary()``, ``g.remix()``).

        Files uploaded for a trainer (here or by an earlier :meth:`prepare_input`) are
        deleted once its run ends in success, failure or cancel, before this returns, unless
        ``keep_uploads``; a run left running at ``timeout`` keeps them (the trainer still needs
        them; they expire with the ``upload_expiry`` setting) and says so.

        ``timeout`` (seconds) is a deadline for the whole call, requests in flight included,
        except the create itself: abandoning a create could leave a paid prediction nobody
        knows of. With ``reuse=True`` and an explicit seed, an earlier successful run of exactly
        these inputs whose files are still on disk is returned instead (no new spend).

        The prediction id reaches ``on_update`` (status ``created``) as soon as the create
        answers, before any journal write. If the call is cancelled (Ctrl+C, a Cancel button)
        while it still waits for a slot under the account's cap, it ends at once and nothing
        is created; while the create is in flight, the create is given up to
        :data:`CREATE_HOLD` seconds to answer and what it made is cancelled on the service; a
        prediction that cannot be cancelled stays in the journal for
        :func:`~eachlabs_widgets.resume`.

        Before the create is sent, its estimate (the price per image learned from the
        ``metrics.cost`` the service reported, API.md "Poll", × the images asked) is reserved
        against the client's budget; :class:`~eachlabs_widgets.BudgetExceededError` is raised,
        with nothing sent, when it would pass it (a run of unknown price: once the spend
        reached it). The reservation is settled with the reported cost when the run ends.
        """
        payload: dict[str, Any] = dict(inputs)
        try:
            generation = await self._run(
                model, inputs, payload, timeout, on_update, save_to, reuse, parent
            )
        except PredictionTimeoutError as exc:
            kept = upload_registry.registered_in(payload.values())
            upload_registry.forget(kept)
            if kept:
                warnings.warn(
                    f"prediction {exc.prediction_id} still runs, so its {len(kept)} upload(s) "
                    "are kept; delete them once it ends: "
                    + ", ".join(f"eachlabs_widgets.delete_upload({u.url!r})" for u in kept),
                    stacklevel=2,
                )
            raise
        finally:
            done = upload_registry.registered_in(payload.values())
            if done:
                upload_registry.forget(done)
                if not keep_uploads:
                    await _settle(asyncio.ensure_future(self._delete_all(done)), DELETE_HOLD)
        if generation._runner is None:
            generation._runner = ClientRunner(self, save_to)
        return generation

    async def _delete_all(self, uploads: list[Uploaded]) -> None:
        """Delete ``uploads``, each on its own: one failure is logged, the rest go on."""
        for upload in uploads:
            if upload.id is None:
                continue
            try:
                await self.delete_upload(upload.id)
            except Exception as exc:
                log.warning("could not delete upload %s: %s", upload.url, exc)
                warnings.warn(
                    f"could not delete the upload {upload.url} ({exc}); it stays public until "
                    f"it expires: eachlabs_widgets.delete_upload({upload.url!r}) tries again",
                    stacklevel=2,
                )

    async def _run(
        self,
        model: str,
        inputs: Mapping[str, Any],
        payload: dict[str, Any],
        timeout: float | None,
        on_update: OnUpdate | None,
        save_to: str | None,
        reuse: bool,
        parent: str | None,
    ) -> Generation:
        deadline = time.monotonic() + timeout if timeout is not None else None
        # Waiting for capacity is bounded by the same deadline, on the client's own clock.
        clock_deadline = self._clock() + timeout if timeout is not None else None
        # The ticket comes first: creation follows the order of the calls, not of lookups.
        async with self._limiter.place() as place:
            # Filled in place, so that run() sees what was uploaded whatever happens next.
            prepared = await self.prepare_input(model, inputs)
            payload.clear()
            payload.update(prepared)
            base_url = self.settings().base_url
            journal = self.journal
            if reuse and inputs.get("seed") is not None and journal is not None:
                entry = await journal.afind_reusable(model, payload, base_url)
                if entry is not None:
                    return Generation.from_entry(entry)
            # Held before the create is sent: runs racing for the last dollar cannot both pass.
            reservation = await self._reserve(model, payload, base_url, journal)
            withdrawn = False

            def told(prediction: Prediction) -> None:
                reservation.prediction_id = prediction.id  # "created": what it paid for
                if on_update is not None:
                    on_update(prediction)

            def withdraw() -> bool:
                nonlocal withdrawn
                withdrawn = place.withdraw()
                return withdrawn

            try:
                prediction_id = await self._create(
                    lambda: place.create(
                        lambda: self.create_prediction(model, payload),
                        clock_deadline,
                        clock=self._clock,
                        sleep=self._sleep,
                    ),
                    model,
                    payload,
                    base_url,
                    told,
                    withdraw=withdraw,
                    parent=parent,
                )
            except BaseException as exc:
                # An answered error or a create never sent made nothing; anything else may
                # have (a lost answer, an interrupt mid-create): its estimate stays held.
                if withdrawn or isinstance(exc, APIError):
                    reservation.release()
                else:
                    reservation.settle(None)
                raise
            started = self._clock()
            created_at = datetime.now(timezone.utc)

            def update(prediction: Prediction) -> None:
                if prediction.done:
                    place.ended()  # the slot is free now, not after download and save
                if on_update is not None:
                    on_update(prediction)

            try:
                generation = await self.follow(
                    prediction_id,
                    model,
                    payload,
                    timeout=timeout,
                    on_update=update,
                    save_to=save_to,
                    started=started,
                    created_at=created_at,
                    deadline=deadline,
                    recorded=True,
                    parent=parent,
                )
            except BaseException as exc:
                reservation.settle(_cost_of_failure(prediction_id, exc))
                raise
            reservation.settle(generation.metrics.get("cost"))
            return generation

    async def _reserve(
        self, model: str, payload: Mapping[str, Any], base_url: str, journal: Journal | None
    ) -> Reservation:
        """This run's hold on the budget: the journal's learned price per image (the median
        of what the service reported, as the cost estimate before a grid uses) × the images
        asked. Raises :class:`BudgetExceededError` when it does not fit."""
        price = None
        if self._budget.limit is not None and self._budget.price(model) is None:
            costs: list[float] = []
            if journal is not None:
                try:
                    costs = await journal.acosts(model, base_url)
                except Exception:  # the journal is a help here, never a requirement
                    costs = []
            price = statistics.median(costs) if costs else None
        return await self._budget.reserve(model, images_of(payload), price)

    async def _create(
        self,
        send: Callable[[], Awaitable[str]],
        model: str,
        payload: dict[str, Any],
        base_url: str,
        on_update: OnUpdate | None,
        withdraw: Callable[[], bool] = lambda: False,
        parent: str | None = None,
    ) -> str:
        """Create the prediction in a task of its own, so that nothing can abandon it half-way.

        The id is told to ``on_update`` first, then journaled (off the loop). On a
        cancellation, ``withdraw()`` is asked whether ``send`` has sent nothing yet (it still
        waits for a slot): then the wait ends at once and nothing is created.
        """

        def created(prediction_id: str) -> None:
            if on_update is not None:
                on_update(Prediction(id=prediction_id, status="created", input=payload))
            self._record(
                lambda j: j.created(prediction_id, model, payload, base_url, parent=parent)
            )

        create = asyncio.ensure_future(send())
        try:
            prediction_id = await asyncio.shield(create)
        except asyncio.CancelledError:
            if not create.done() and withdraw():
                # Still waiting for a slot or for capacity: nothing was sent, nothing to hold.
                create.cancel()
                # Should a create slip through anyway, it is recorded and cancelled.
                create.add_done_callback(
                    lambda task: self._late_create(task, created, model, payload)
                )
                raise
            made = await _settle(create, CREATE_HOLD)
            if made is not None:
                created(made)
                await self._cancel_and_record(made, model=model, inputs=payload)
            elif not create.done():
                # Still unanswered: whenever it answers, record and cancel what it made.
                create.add_done_callback(
                    lambda task: self._late_create(task, created, model, payload)
                )
            raise
        created(prediction_id)
        return prediction_id

    def _late_create(
        self,
        task: asyncio.Future[str],
        created: Callable[[str], None],
        model: str,
        payload: dict[str, Any],
    ) -> None:
        if task.cancelled() or task.exception() is not None:
            return
        prediction_id = task.result()
        created(prediction_id)
        _in_background(self._cancel_and_record(prediction_id, model=model, inputs=payload))

    async def follow(
        self,
        prediction_id: str,
        model: str,
        inputs: dict[str, Any],
        *,
        timeout: float | None = None,
        on_update: OnUpdate | None = None,
        save_to: str | None = None,
        started: float | None = None,
        created_at: datetime | None = None,
        deadline: float | None = None,
        recorded: bool = False,
        after_cancel: bool = False,
        parent: str | None = None,
    ) -> Generation:
        """Wait for an existing prediction, download and save its outputs; creates nothing.

        Unless ``recorded`` (the caller journaled it), the journal gets a row for it if it has
        none yet (made by another process killed before its row reached the disk, say), so
        its end and files are in ``history()``. If this task is cancelled (Ctrl+C, a Cancel
        button), a cancel is asked of the service too (see :meth:`_cancel_and_record`).
        ``after_cancel``: its cancel was accepted earlier; a success is then noted as
        "finished before the cancel took effect" with its cost. ``parent``: the run it was
        made from (see :meth:`run`), kept in the generation (and in a row made here).
        """
        if not recorded:
            base_url = self.settings().base_url
            self._record(
                lambda j: j.created(
                    prediction_id, model, inputs, base_url, if_missing=True, parent=parent
                )
            )
        try:
            prediction = await self.wait(
                prediction_id,
                timeout,
                model=model,
                on_update=on_update,
                started=started,
                deadline=deadline,
            )
        except asyncio.CancelledError:
            if not after_cancel:  # a settling follow is not asked to cancel again
                await self._cancel_and_record(
                    prediction_id,
                    model=model,
                    inputs=inputs,
                    save_to=save_to,
                    on_update=on_update,
                )
            raise
        except PredictionTimeoutError as exc:
            # Still resumable (its status stays as last seen); the note says why it was left.
            if after_cancel:
                note = CANCEL_REQUESTED
            elif exc.status:
                note = f"left at the unknown status {exc.status!r}; resume it by id"
            else:
                note = f"left running after {exc.timeout:g} s (timeout=); resume it by id"
            self._record(lambda j: j.update(prediction_id, error=note))
            raise
        except PredictionCancelledError:
            # The service says so: "cancelled (not billed)" is its word, not ours.
            cancels.record(prediction_id, cancels.CANCELLED)
            self._budget.ended(prediction_id, 0)
            self._record(lambda j: j.update(prediction_id, status="cancelled", error=""))
            raise
        except PredictionError as exc:
            message = str(exc)
            self._record(lambda j: j.update(prediction_id, status="error", error=message))
            self._budget.ended(prediction_id, 0)  # a failure is not billed (API.md, "Poll")
            raise
        urls = prediction.urls
        # Held by a run that ended before this outcome was known (resume, a settling cancel).
        self._budget.ended(prediction_id, prediction.metrics.get("cost"))
        self._record(
            lambda j: j.update(
                prediction_id,
                status="downloading",
                urls=urls,
                metrics=prediction.metrics,
                duration=prediction.duration,
            )
        )
        deadline = None
        if timeout is not None:  # what is left of the call's timeout bounds the downloads
            spent = self._clock() - started if started is not None else 0.0
            deadline = time.monotonic() + max(0.0, timeout - spent)
        folder = Path(save_to).expanduser() if save_to else None
        # Only those on this machine matter (see prepare_input); few, and only from a local
        # service, so the set stays small.
        _service_urls.update(u for u in urls if is_loopback_url(u))
        # A trainer's weights are not fetched (the URL is all a LoRA model needs, and they can
        # be larger than any image cap): only Generation.lora.download() fetches them.
        lora = lora_from_output(model, prediction.output, inputs)
        weights = {u for u in urls if _is_weights(u)} | ({lora.url} if lora else set())
        fetched = [u for u in urls if u not in weights]
        # An OutputDownloadError leaves the journal at "downloading": resume() fetches again.
        staged = await download_all(
            self._http, fetched, folder=folder, prediction_id=prediction_id, deadline=deadline
        )
        try:
            contents = await read_all(staged)
            outputs = [
                Output(url=item.url, data=data, content_type=item.content_type)
                for item, data in zip(staged, contents, strict=True)
            ]
            if not outputs:  # a success that names no file: keep what the service answered
                outputs = [Output.from_raw(prediction.output)]
            generation = Generation(
                id=prediction_id,
                model=model,
                status=prediction.status,
                inputs=dict(inputs),
                urls=urls,
                metrics=prediction.metrics,
                outputs=outputs,
                created_at=created_at or datetime.now(timezone.utc),
                elapsed=(self._clock() - started) if started is not None else None,
                emulated=self.emulated,
                polls=prediction.polls,
                output=prediction.output,
                parent=parent,
                _runner=ClientRunner(self, save_to),
            )
            notes = []
            if generation.raw_output and not weights:
                raw = json.dumps(prediction.output, default=str)
                notes.append(f"the answer held no output file; raw output: {raw[:2000]}")
                warnings.warn(
                    f"prediction {prediction_id} ({model}) succeeded but its output names no file "
                    f"this client recognises; the raw output is kept in the Generation's .output "
                    f"(and saved as JSON): {raw[:200]}",
                    stacklevel=2,
                )
            files = None
            if save_to:
                # Each finished download is completed in place and moved to its name.
                generation._staged = {i: s.path for i, s in enumerate(staged) if s.path is not None}
                try:
                    files = [str(p) for p in await off_loop(generation.save, save_to)]
                except OSError as exc:
                    files = [str(p) for p in generation.paths]
                    generation.save_error = f"{exc.strerror or exc} ({save_to})"
                    notes.append(f"files not saved: {generation.save_error}")
                    warnings.warn(
                        f"prediction {prediction_id} ({model}) succeeded, but its files could not "
                        f"be saved to {save_to}: {exc}. The result is in the returned Generation "
                        "(save it elsewhere with .save(folder)); the journal records it.",
                        stacklevel=2,
                    )
        finally:  # whatever was not moved into place (nothing, normally) goes
            for item in staged:
                item.discard()
        if after_cancel:
            notice = finished_after_cancel(prediction.metrics.get("cost"))
            notes.insert(0, notice)
            cancels.record(prediction_id, cancels.FINISHED)
            log.warning("prediction %s (%s) %s", prediction_id, model, notice)
        error = "; ".join(notes)  # empty: clears what an earlier, failed attempt noted
        self._record(lambda j: j.update(prediction_id, status="success", files=files, error=error))
        return generation

    async def _cancel_and_record(
        self,
        prediction_id: str,
        *,
        model: str = "",
        inputs: dict[str, Any] | None = None,
        save_to: str | None = None,
        on_update: OnUpdate | None = None,
    ) -> str:
        """Ask the service to cancel, absorbing further interrupts for up to
        :data:`CANCEL_HOLD` seconds, and journal what the service says; returns the outcome
        (a word of :mod:`.cancels`).

        An accepted cancel is a request (API.md, "Cancel"): the prediction is polled once at
        once. If the service says ``cancelled``, the row says so before this returns.
        Otherwise the row keeps the service's last status with the :data:`CANCEL_REQUESTED`
        note, and the prediction is followed in the background (at most
        :data:`SETTLE_LIMIT` seconds, on this event loop) until the service says how it
        ended: cancelled, failed, or completed (then its files are saved to ``save_to`` and
        its cost recorded, with a one-line notice). A cancel that fails leaves the row
        resumable.
        """
        cancel = asyncio.ensure_future(self.cancel_prediction(prediction_id))
        answered = await _settle(cancel, CANCEL_HOLD)
        if answered is None and not cancel.done():
            cancel.cancel()
        # Accepted is not done: ask at once how it stands. Refused, it may have ended already
        # (only a running prediction can be cancelled, API.md "Cancel"): then it is settled
        # below as an accepted cancel whose prediction ended (its files saved if it
        # succeeded), not left as "may still run".
        accepted = answered is not None
        seen = await self._poll_within(prediction_id) if accepted or _answered(cancel) else None
        if not accepted and not (seen is not None and seen.done):
            return self._cancel_refused(prediction_id, cancel)
        if seen is not None and on_update is not None:
            on_update(seen)
        if seen is not None and seen.cancelled:
            cancels.record(prediction_id, cancels.CANCELLED)
            self._record(lambda j: j.update(prediction_id, status="cancelled", error=""))
            return cancels.CANCELLED
        # The row keeps the service's last word (an end not yet downloaded is left to the
        # settling follow, which records it with its files).
        status = seen.status if seen is not None and not seen.done else None
        cancels.record(prediction_id, cancels.REQUESTED)
        self._record(lambda j: j.update(prediction_id, status=status, error=CANCEL_REQUESTED))
        _in_background(
            self._settle_cancel(prediction_id, model, dict(inputs or {}), save_to, on_update)
        )
        return cancels.REQUESTED

    def _cancel_refused(self, prediction_id: str, cancel: asyncio.Future[Any]) -> str:
        """A cancel that failed, or was not answered: said, and left resumable."""
        problem = "no answer" if not cancel.done() or cancel.cancelled() else cancel.exception()
        log.warning(
            "could not cancel prediction %s (%s); it may still run and be billed: "
            "eachlabs_widgets.resume(%r) picks it up",
            prediction_id,
            problem,
            prediction_id,
        )
        message = f"could not be cancelled ({problem}); resume it by id"
        self._record(lambda j: j.update(prediction_id, error=message))
        cancels.record(prediction_id, cancels.REFUSED)
        return cancels.REFUSED

    async def _poll_within(self, prediction_id: str) -> Prediction | None:
        """The prediction as one poll sees it, waiting at most :data:`CANCEL_HOLD` (absorbing
        interrupts); ``None`` when that poll failed or did not answer."""
        poll = asyncio.ensure_future(self.get_prediction(prediction_id))
        seen: Prediction | None = await _settle(poll, CANCEL_HOLD)
        return seen

    async def _settle_cancel(
        self,
        prediction_id: str,
        model: str,
        inputs: dict[str, Any],
        save_to: str | None,
        on_update: OnUpdate | None,
    ) -> None:
        """Follow a prediction whose cancel was accepted until the service says how it ended
        (see :meth:`_cancel_and_record`); never raises."""
        try:
            await self.follow(
                prediction_id,
                model,
                inputs,
                timeout=SETTLE_LIMIT,
                on_update=on_update,
                save_to=save_to,
                recorded=True,
                after_cancel=True,
            )
        except PredictionCancelledError:
            pass  # recorded by follow: "cancelled", the service's word
        except PredictionTimeoutError:
            log.warning(
                "prediction %s: its cancel was accepted, but after %g s the service still has "
                "not said how it ended; eachlabs_widgets.resume(%r) settles it",
                prediction_id,
                SETTLE_LIMIT,
                prediction_id,
            )
        except PredictionError:
            cancels.record(prediction_id, cancels.FAILED)
        except asyncio.CancelledError:
            pass  # the loop is ending: the journal keeps "cancel requested" for resume()
        except Exception as exc:  # in the background: said in the log, kept in the journal
            log.warning("prediction %s: settling its cancel failed: %s", prediction_id, exc)

    def _record(self, action: Callable[[Journal], None]) -> None:
        journal = self.journal
        if journal is None:
            return
        emulated = self.emulated
        try:
            # Submitted to the journal's thread: returns at once, written in order, retried
            # while another process holds the file locked.
            action(journal.deferring(emulator=emulated))
        except Exception as exc:  # a full disk must not lose the prediction itself
            log.warning("could not write the journal: %s", exc)


_background: set[asyncio.Future[Any]] = set()


def _cost_of_failure(prediction_id: str, error: BaseException) -> float | None:
    """What a created prediction that did not end in a saved success is known to cost:
    ``0`` for a failure or a cancel the service confirmed (API.md, "Poll" and "Cancel"),
    ``None`` when it may still be billed (left running, a cancel not confirmed, a success whose
    files did not download)."""
    if isinstance(error, (PredictionCancelledError, PredictionFailedError)):
        return 0.0
    if isinstance(error, asyncio.CancelledError):
        return 0.0 if cancels.outcome(prediction_id) == cancels.CANCELLED else None
    return None


def _in_background(work: Awaitable[Any]) -> None:
    """Run ``work`` on this loop, kept alive until it ends (the loop holds tasks weakly)."""
    task = asyncio.ensure_future(work)
    _background.add(task)
    task.add_done_callback(_background.discard)


def _answered(request: asyncio.Future[Any]) -> bool:
    """Whether ``request`` ended in an error answer of the service (an :class:`APIError`)."""
    return request.done() and not request.cancelled() and isinstance(request.exception(), APIError)


async def settle_background(limit: float) -> None:
    """Before a process that ran this loop exits: let its background work end (a create
    answered after its caller gave up, recorded and cancelled; a cancel followed until the
    service says how it ended), waiting at most ``limit`` seconds and absorbing interrupts
    meanwhile. What is still running then is cancelled and ends quietly: those predictions
    stay in the journal as "cancel requested", for :func:`~eachlabs_widgets.resume`. (Left
    pending, asyncio would destroy them at exit, with a "Task was destroyed" line each, and
    their cancels would never be sent.)"""
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while True:
        mine = {task for task in _background if task.get_loop() is loop and not task.done()}
        remaining = end - loop.time()
        if not mine or remaining <= 0:
            break
        try:
            await asyncio.wait(mine, timeout=remaining)
        except asyncio.CancelledError:
            continue
    for task in mine:
        task.cancel()
    if mine:
        await asyncio.wait(mine)


async def _settle(task: asyncio.Future[Any], limit: float) -> Any:
    """``task``'s result once it ends, waiting at most ``limit`` seconds and absorbing any
    cancellation meanwhile (a second Ctrl+C must not abandon a create or a cancel in flight).
    ``None`` when it failed or did not end in time."""
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while not task.done():
        remaining = end - loop.time()
        if remaining <= 0:
            break
        try:
            await asyncio.wait({task}, timeout=remaining)
        except asyncio.CancelledError:
            continue
    if task.done() and not task.cancelled() and task.exception() is None:
        return task.result()
    return None


def _model_problem(model: Any) -> str | None:
    """What is wrong with a model detail answer, or ``None``."""
    if not isinstance(model, dict):
        return f"expected a JSON object, got {type(model).__name__}"
    schema = model.get("request_schema")
    if schema is not None and not isinstance(schema, dict):
        return f"its request_schema is {type(schema).__name__}, not a JSON object"
    if isinstance(schema, dict):
        props = schema.get("properties")
        if props is not None and not isinstance(props, dict):
            return f"its request_schema.properties is {type(props).__name__}, not an object"
    return None


def _presign_problem(presign: Any) -> str | None:
    if not isinstance(presign, dict):
        return f"expected a JSON object, got {type(presign).__name__}"
    for name in ("presigned_url", "public_url"):
        if not isinstance(presign.get(name), str) or not presign[name]:
            return f"it has no {name}"
    if not isinstance(presign.get("required_headers") or {}, dict):
        return "its required_headers is not an object"
    return None


#: URLs on this machine that a service gave (outputs, uploads): always sent as they are.
_service_urls: set[str] = set()

_NO_ID_WARNING = (
    "the service gave no id for the upload {url}, so it cannot be deleted after training; it "
    "stays public until it expires (the upload_expiry setting)"
)


def _is_weights(url: str) -> bool:
    """LoRA weights (``.safetensors``), from any trainer: never an image to show."""
    return url.split("?", 1)[0].lower().endswith(".safetensors")


def _on_this_machine(base_url: str) -> bool:
    """The embedded emulator, or a service on a loopback address: it can fetch localhost."""
    return base_url == EMULATOR or is_loopback_url(base_url)


def _loopback_message(name: str, value: str) -> str:
    return (
        f"{name}: {value!r} is on this machine, which the service cannot fetch; give the "
        "file itself (a path, bytes or a PIL image: it is uploaded), or a public https URL"
    )


def _too_large(name: str, model: str, media: LocalMedia) -> str:
    hint = (
        f"; el.train({model!r}, images) scales a training set's photos down to fit"
        if model in TRAINERS
        else ""
    )
    return (
        f"{name}: the file is {len(media.data) / 1e6:.1f} MB, over the service's "
        f"{UPLOAD_LIMIT / 1e6:g} MB upload limit{hint}"
    )


def _read_local(value: Any) -> LocalMedia:
    found = data_uri_media(value)
    return found if found is not None else to_local_media(value)


def _delete_left_at_exit(left: list[Uploaded]) -> None:
    """At exit: delete the uploads of trainer runs that did not end in this process."""
    from .sync import run_sync

    async def delete() -> None:
        for upload in left:
            key = upload.api_key.reveal() if isinstance(upload.api_key, Secret) else None
            client = AsyncEachLabs(api_key=key, base_url=upload.base_url, journal=False)
            await within(DELETE_HOLD, client._delete_all([upload]))

    run_sync(delete())
    upload_registry.forget(left)


def _fetch_weights(url: str, target: Path) -> Path:
    """Download LoRA weights into ``target`` (for :meth:`Lora.download`)."""
    from .sync import run_sync

    async def fetch() -> Path:
        client = AsyncEachLabs(journal=False)
        target.parent.mkdir(parents=True, exist_ok=True)
        staged = await download_to_file(
            client._http, url, folder=target.parent, max_bytes=LORA_MAX_BYTES
        )
        try:
            if staged.path is not None:
                await off_loop(staged.path.replace, target)
            else:  # small enough to have stayed in memory
                await off_loop(target.write_bytes, staged.data or b"")
        finally:
            staged.discard()
        return target

    return run_sync(fetch())


set_default_fetcher(_fetch_weights)
