"""Create, poll and cancel predictions."""

from __future__ import annotations

import json
from typing import Any

from . import admission, inputs, loras
from .api_files import trainer_file
from .catalog import Model, models_by_slug
from .messages import Request, Response
from .predictions import FAILURE_FRACTION, Failure, Prediction
from .state import State, unauthorized
from .validation import Checked, check_input

MAX_PREDICTIONS = 5000  # beyond this, the oldest terminal predictions are forgotten
JITTER = 0.1  # ± fraction of a model's typical duration, fixed per prediction


def create(state: State, request: Request, args: list[str]) -> Response:
    """``POST /v1/prediction`` (API.md, "Create").

    Refused before anything is made: a body that is not a JSON object (400), no ``model``
    (400 ``model field is required``), an unknown model (404), an ``input`` that is not an
    object, lacks a required input, or gives a ``data:`` URI to a file input (400 ``Invalid
    input for model``, ``details`` naming the field), then :mod:`.admission` (429, 402). Every
    other input problem is accepted here and ends the prediction in ``error``.
    """
    with state.lock:
        key = state.authorize(request)
        if key is None:
            return unauthorized()
        try:
            body = json.loads(request.body) if request.body.strip() else None
        except ValueError:
            return Response.error(400, "Invalid request body")
        if not isinstance(body, dict):
            return Response.error(400, "Invalid request body")
        slug = body.get("model")
        if not isinstance(slug, str) or not slug.strip():
            return Response.error(400, "model field is required")
        model = models_by_slug().get(slug.strip())
        if model is None:
            return Response.error(404, "Failed to create prediction: model not found")
        given = body.get("input")
        if not isinstance(given, dict):
            return Response.error(
                400, "Invalid input for model", details="input: expected an object"
            )
        refused = inputs.refused_at_create(model.schema, given)
        if refused:
            return Response.error(400, "Invalid input for model", details="; ".join(refused))
        checked = check_input(model.schema, given)
        now = state.now()
        units = 1 if model.is_trainer else inputs.image_count(checked)
        refusal = admission.refusal(state, key, round(model.profile.cost * units, 6), now)
        if refusal is not None:
            return refusal
        prediction = _new_prediction(state, model, given, checked, key, now, request.base_url)
        state.predictions[prediction.id] = prediction
        state.created.append(prediction.id)
        _prune(state, now)
        return Response.json(
            200,
            {
                "status": "success",
                "message": "Prediction created successfully",
                "predictionID": prediction.id,
            },
        )


def _new_prediction(
    state: State,
    model: Model,
    given: dict[str, Any],
    checked: Checked,
    key: str,
    now: float,
    base_url: str,
) -> Prediction:
    pid = state.new_id()
    lora_refs, lora_problems, lora_mismatch = loras.resolve(state, model, checked, base_url, now)
    problems = [
        *checked.errors,
        *inputs.size_problems(checked),
        *_url_problems(state, checked, base_url, now),
        *lora_problems,
    ]
    seed = inputs.seed_value(checked.values.get("seed"))
    if seed is None:
        seed = state.rng.randrange(2**31)
    ranges = state.settings.durations or {}
    if model.slug in ranges:
        low, high = ranges[model.slug]
        model_time = round(state.rng.uniform(low, high), 3)
    else:
        jitter = 1 + JITTER * (2 * (inputs.digest_int(pid) % 10_000) / 10_000 - 1)
        model_time = round(model.profile.duration * jitter, 2)
    failure: Failure | None = None
    if problems:
        message = "; ".join(problems)
        failure = Failure("invalid_user_input", message, FAILURE_FRACTION["invalid_user_input"])
    elif lora_mismatch:
        # The provider refuses weights it cannot load: a record-shaped envelope.
        failure = Failure(
            "invalid_user_input",
            "; ".join(lora_mismatch),
            FAILURE_FRACTION["invalid_user_input"],
            error_code="PROVIDER_BAD_REQUEST",
            category="PROVIDER",
        )
    elif inputs.wants_moderation(checked):
        failure = Failure("content_moderation", None, FAILURE_FRACTION["content_moderation"])
    elif state.settings.failure is not None:
        failure = Failure(state.settings.failure)
    prediction = Prediction(
        id=pid,
        model=model,
        input=given,
        values=checked.values,
        api_key=key,
        created=now,
        duration=model_time * state.settings.speed,
        model_time=model_time,
        seed=seed,
        count=inputs.image_count(checked),
        fmt=inputs.output_format(model, checked),
        failure=failure,
        never_finish=state.settings.never_finish,
        queued=state.settings.created_seconds,
        loras=lora_refs,
    )
    if model.is_trainer:
        prediction.lora_key = f"{model.slug}:{pid}:{inputs.digest_int(checked.values)}"
    else:
        prediction.size = inputs.size(checked)
        prediction.palette_seed = inputs.palette_key(checked, lora_refs)
        prediction.visual_key = inputs.visual_key(model, checked, seed, lora_refs)
    return prediction


def _url_problems(state: State, checked: Checked, base_url: str, now: float) -> list[str]:
    """URL inputs must be URLs (``data:`` URIs were refused at create); this emulator's own
    upload URLs must point to a live file."""
    problems = []
    for name in sorted(checked.given):
        value = checked.values.get(name)
        if not inputs.is_url_field(name) or not isinstance(value, str):
            continue
        if not value.startswith(("http://", "https://")):
            problems.append(f"{name}: expected a URL, got {value[:60]!r}")
            continue
        upload_id = inputs.upload_id_from(value, base_url)
        if upload_id is not None:
            upload = state.uploads.get(upload_id)
            if upload is None or upload.data is None or upload.expired(now):
                problems.append(f"{name}: could not download {value}")
    return problems


def _prune(state: State, now: float) -> None:
    excess = len(state.predictions) - MAX_PREDICTIONS
    if excess > 0:
        old = [p.id for p in state.predictions.values() if p.is_terminal(now)][:excess]
        for pid in old:
            del state.predictions[pid]


def _find(state: State, request: Request, pid: str) -> Prediction | Response:
    if state.authorize(request) is None:
        return unauthorized()
    prediction = state.predictions.get(pid)
    if prediction is None:
        return Response.error(404, "Prediction not found")
    return prediction


def poll(state: State, request: Request, args: list[str]) -> Response:
    with state.lock:
        found = _find(state, request, args[0])
        if isinstance(found, Response):
            return found
        now = state.now()
        found.polls += 1
        if found.seen_end_at is None and found.is_terminal(now):
            found.seen_end_at = now
        sizes: dict[str, int] = {}
        if found.model.is_trainer and found.succeeded(now):
            sizes = {name: len(trainer_file(found, name)) for name in found.output_names()}
        body = found.body(
            now,
            request.base_url,
            legacy_failed=state.settings.legacy_failed_status,
            file_sizes=sizes,
            trainer_output_string=state.settings.trainer_output_string,
            record_categories=state.settings.record_categories,
        )
        return Response.json(200, body)


def cancel(state: State, request: Request, args: list[str]) -> Response:
    """``POST /v1/prediction/{id}/cancel`` (API.md, "Cancel"): 200 means accepted, not done.

    The answer is the spec's ``{"status": "cancelled", "message": "Prediction canceled
    successfully", "predictionID": id}`` (``"status": "success"`` with the
    ``cancel_status_success`` switch). The prediction then polls ``cancelled`` with cost 0,
    unless ``cancel_completes`` is on: then it runs on, succeeds and is billed. A terminal
    prediction cannot be cancelled (400).
    """
    with state.lock:
        found = _find(state, request, args[0])
        if isinstance(found, Response):
            return found
        now = state.now()
        if found.is_terminal(now):
            status = found.status(now, legacy_failed=state.settings.legacy_failed_status)
            return Response.error(400, f"Prediction cannot be canceled: it is already {status}")
        found.cancel_requested_at = now
        if not state.settings.cancel_completes:
            found.cancelled_at = now
        return Response.json(
            200,
            {
                "status": "success" if state.settings.cancel_status_success else "cancelled",
                "message": "Prediction canceled successfully",
                "predictionID": found.id,
            },
        )
