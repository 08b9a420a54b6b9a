"""``AsyncEachLabs``: the async client. Every other entry point drives this one."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import time
import warnings
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

from ._download import download_all, download_to_file, off_loop, read_staged
from ._exceptions import (
    NotFoundError,
    PredictionCancelledError,
    PredictionError,
    PredictionTimeoutError,
)
from ._generation import Generation, Output
from ._http import HTTP, Sleep, new_client
from ._journal import Journal, default_journal
from ._limiter import PredictionLimiter
from ._limiter import limiter as shared_limiter
from ._media import file_type_of, is_local_media, to_local_media
from ._polling import DurationLearner, PollSchedule
from ._prediction import Prediction
from ._retry import RetryPolicy
from ._schema import choose_seed, properties_of, validate_inputs
from ._settings import Secret, Settings, resolve

__all__ = ["AsyncEachLabs", "learner"]

log = logging.getLogger("eachlabs_widgets")
VERSION = "0.0.1"  # deprecated by the service, always "0.0.1", still sent as its guide does
PAGE_SIZE = 100

#: Each model's typical duration, learned from earlier predictions in this process.
learner = DurationLearner()
_model_cache: dict[tuple[str, str], dict[str, Any]] = {}
OnUpdate = Callable[[Prediction], None]


class AsyncEachLabs:
    """The EachLabs Predictions API, asynchronously.

    ``api_key`` and ``base_url`` override ``EACHLABS_API_KEY`` and ``EACHLABS_BASE_URL``
    (default ``https://api.eachlabs.ai``; ``"emulator"`` selects the embedded emulator). Both
    are read when a call is made. Requests go through one shared ``httpx.AsyncClient`` per
    event loop, unless ``transport=`` is given (tests), which makes a client of its own.
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
    ) -> None:
        self._api_key = Secret(api_key) if api_key else None
        self._base_url = base_url
        self._own_client = new_client(transport) if transport is not None else None
        self._poll = poll or PollSchedule()
        self._sleep = sleep
        self._clock = clock
        self._journal_choice = journal
        self._limiter = limiter or shared_limiter
        self._http = HTTP(
            self.settings,
            retry=retry,
            sleep=sleep,
            client=self._own_client,
            on_throttled=self._limiter.throttled,
        )

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
        """Every model (optionally filtered by ``name``), paging until a short page."""
        models: list[dict[str, Any]] = []
        offset = 0
        while True:
            params: dict[str, Any] = {"limit": PAGE_SIZE, "offset": offset}
            if name:
                params["name"] = name
            page = await self._http.json("GET", "/v1/models", params=params, auth=self._has_key())
            if not isinstance(page, list):
                break
            models.extend(m for m in page if isinstance(m, dict))
            if len(page) < PAGE_SIZE:
                break
            offset += len(page)
        return models

    async def get_model(self, slug: str) -> dict[str, Any]:
        """One model with its ``request_schema`` (cached per base URL for this process)."""
        key = (self.settings().base_url, slug)
        if key in _model_cache:
            return dict(_model_cache[key])
        try:
            model = await self._http.json(
                "GET", "/v1/model", params={"slug": slug}, auth=self._has_key()
            )
        except NotFoundError as exc:
            raise NotFoundError(
                f"unknown model {slug!r}; list them with eachlabs_widgets.list_models()",
                status_code=404,
                details=exc.message,
                method="GET",
                path="/v1/model",
            ) from None
        _model_cache[key] = model
        return dict(model)

    def _has_key(self) -> bool:
        return self.settings().api_key is not None

    # -- predictions ----------------------------------------------------------------------

    async def prepare_input(self, model: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Inputs checked against the model's schema, coerced, with a seed, files uploaded.

        Raises :class:`InputValidationError` before anything is created.
        """
        schema = (await self.get_model(model)).get("request_schema") or {}
        props = properties_of(schema)
        local = {k: v for k, v in inputs.items() if k in props and is_local_media(v)}
        remote = {k: v for k, v in inputs.items() if k not in local}
        # Local files stand in as a name while the rest is checked: nothing is uploaded for
        # inputs that are refused.
        payload = validate_inputs(model, schema, {**remote, **{k: "local-file" for k in local}})
        for name, value in local.items():
            payload[name] = await self.upload(value)
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
        if not prediction_id:
            raise PredictionError(
                f"the create answer holds no prediction id: {answer!r}"[:300], prediction_id=""
            )
        return str(prediction_id)

    async def get_prediction(self, prediction_id: str) -> Prediction:
        body = await self._http.json("GET", f"/v1/prediction/{prediction_id}")
        return Prediction.from_json(body if isinstance(body, dict) else {}, prediction_id)

    async def cancel_prediction(self, prediction_id: str) -> dict[str, Any]:
        """Ask the service to cancel (best effort; a cancelled prediction is not billed)."""
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
    ) -> Prediction:
        """Poll until the prediction ends; returns it on success, raises on any other end.

        The schedule adapts to the model's typical duration once one is known. ``timeout``
        bounds the whole wait (``PredictionTimeoutError``; the prediction may still finish).
        """
        start = self._clock() if started is None else started
        expected = self._expected_duration(model) if model else None
        polls = 0
        previous = start
        while True:
            prediction = await self.get_prediction(prediction_id)
            polls += 1
            now = self._clock()
            if on_update is not None:
                on_update(prediction)
            if prediction.done:
                # The end lies between the last two polls: the midpoint is the best guess.
                duration = (previous + now) / 2 - start
                if prediction.succeeded and model:
                    learner.observe(model, duration)
                prediction = dataclasses.replace(prediction, polls=polls, duration=duration)
                error = prediction.error(model)
                if error is not None:
                    raise error
                return prediction
            elapsed = now - start
            if timeout is not None and elapsed >= timeout:
                raise PredictionTimeoutError(
                    prediction_id=prediction_id, timeout=timeout, model=model
                )
            delay = self._poll.next_delay(elapsed, polls, expected)
            if timeout is not None:
                delay = max(0.0, min(delay, timeout - elapsed))
            previous = now
            await self._sleep(delay)

    def _expected_duration(self, model: str) -> float | None:
        """What this process learned of ``model``; in a new process, what the journal recorded."""
        expected = learner.expected(model)
        journal = self.journal
        if expected is None and journal is not None:
            try:
                recorded = journal.durations(model, self.settings().base_url)
            except Exception:  # the journal is a help here, never a requirement
                recorded = []
            for seconds in reversed(recorded):  # oldest first, so the newest weigh most
                learner.observe(model, seconds)
            expected = learner.expected(model)
        return expected

    # -- files ----------------------------------------------------------------------------

    async def upload(self, data: Any, content_type: str | None = None) -> str:
        """Upload bytes, a path or a PIL image; returns the public URL to pass as an input."""
        media = to_local_media(data)
        ctype = content_type or media.content_type
        presign = await self._http.json(
            "POST",
            "/v1/upload/presign",
            json={"content_type": ctype, "file_type": file_type_of(ctype)},
        )
        headers = {str(k): str(v) for k, v in (presign.get("required_headers") or {}).items()}
        headers["Content-Type"] = ctype
        await self._http.request(
            "PUT", presign["presigned_url"], auth=False, content=media.data, headers=headers
        )
        return str(presign["public_url"])

    async def download(self, url: str, *, deadline: float | None = None) -> bytes:
        """The bytes at ``url`` (an output file or a ``data:`` URI). The API key is never sent
        to file hosts.

        Streamed through a staging file in the system's temp folder, capped at
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
        [data] = await off_loop(read_staged, [staged])
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
    ) -> Generation:
        """Validate, create, record, wait, download (and save): one finished :class:`Generation`.

        With ``reuse=True`` and an explicit seed, an earlier successful run of exactly these
        inputs whose files are still on disk is returned instead (no new spend).
        """
        payload = await self.prepare_input(model, inputs)
        base_url = self.settings().base_url
        if reuse and inputs.get("seed") is not None and self.journal is not None:
            entry = self.journal.find_reusable(model, payload, base_url)
            if entry is not None:
                return Generation.from_entry(entry)
        async with self._limiter.slot():
            create = asyncio.ensure_future(self.create_prediction(model, payload))
            try:
                prediction_id = await asyncio.shield(create)
            except asyncio.CancelledError:
                # Cancelled while the create was on its way: it may still create a
                # prediction. Let it answer, record what it made, and cancel that too.
                with contextlib.suppress(Exception):
                    made = await create
                    self._record(lambda j: j.created(made, model, payload, base_url))
                    await self._cancel_quietly(made)
                    self._record(lambda j: j.update(made, status="cancelled"))
                raise
            started = self._clock()
            created_at = datetime.now(timezone.utc)
            self._record(lambda j: j.created(prediction_id, model, payload, base_url))
            if on_update is not None:
                on_update(Prediction(id=prediction_id, status="created", input=payload))
            return await self.follow(
                prediction_id,
                model,
                payload,
                timeout=timeout,
                on_update=on_update,
                save_to=save_to,
                started=started,
                created_at=created_at,
            )

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
    ) -> Generation:
        """Wait for an existing prediction, download and save its outputs; creates nothing.

        If this task is cancelled (Ctrl+C, a Cancel button), the prediction is cancelled on
        the service too, so it is not billed.
        """
        try:
            prediction = await self.wait(
                prediction_id, timeout, model=model, on_update=on_update, started=started
            )
        except asyncio.CancelledError:
            await self._cancel_quietly(prediction_id)
            self._record(lambda j: j.update(prediction_id, status="cancelled"))
            raise
        except PredictionTimeoutError:
            raise
        except PredictionCancelledError:
            self._record(lambda j: j.update(prediction_id, status="cancelled"))
            raise
        except PredictionError as exc:
            message = str(exc)
            self._record(lambda j: j.update(prediction_id, status="error", error=message))
            raise
        urls = prediction.urls
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
        # An OutputDownloadError leaves the journal at "downloading": resume() fetches again.
        staged = await download_all(
            self._http, urls, folder=folder, prediction_id=prediction_id, deadline=deadline
        )
        try:
            contents = await off_loop(read_staged, staged)
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
                emulated=self.settings().is_emulator or self._http.saw_emulator,
                polls=prediction.polls,
                output=prediction.output,
            )
            notes = []
            if generation.raw_output:
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
                generation._staged = {i: s.path for i, s in enumerate(staged)}
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
        error = "; ".join(notes)  # empty: clears what an earlier, failed attempt noted
        self._record(lambda j: j.update(prediction_id, status="success", files=files, error=error))
        return generation

    async def _cancel_quietly(self, prediction_id: str) -> None:
        try:
            await asyncio.shield(self.cancel_prediction(prediction_id))
        except (asyncio.CancelledError, Exception) as exc:  # best effort, never mask the cancel
            log.warning("could not cancel prediction %s: %s", prediction_id, exc)

    def _record(self, action: Callable[[Journal], None]) -> None:
        journal = self.journal
        if journal is None:
            return
        try:
            action(journal)
        except Exception as exc:  # a full disk must not lose the prediction itself
            log.warning("could not write the journal: %s", exc)
