"""One prediction: its timeline, its outcome and how it looks when polled.

A prediction is ``created`` for ``queued`` seconds (the ``created_seconds`` switch; none by
default), then ``starting`` for the first 10 % of its duration, then ``processing``, then
terminal: ``success`` at the full duration, or ``error`` (``failed`` in legacy mode) at the
moment its failure happens — the end of ``starting`` for input validation errors, half-way
for a forced ``failure``, the full duration for content moderation. ``metrics.predict_time``
reports model time (the unscaled duration, so a demo at ``speed=0.01`` still shows realistic
numbers); ``metrics.cost`` is 0 until success and for every failure or cancel. A cancel that
does not take (the ``cancel_completes`` switch) leaves the timeline as it was: the prediction
completes and is billed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .catalog import Model

STARTING_FRACTION = 0.1

CLASSIFICATIONS: dict[str, tuple[str, str, bool]] = {
    # classification: (error_code, error_message, retryable)
    "invalid_user_input": ("INPUT_VALIDATION_ERROR", "The input is invalid.", False),
    "content_moderation": (
        "CONTENT_POLICY_VIOLATION",
        "The request was flagged by the content moderation system.",
        False,
    ),
    "execution_timeout": (
        "EXECUTION_TIMEOUT",
        "The model did not finish within its time limit.",
        True,
    ),
    "invalid_model_config": ("INVALID_MODEL_CONFIG", "The model is misconfigured.", False),
    "provider_auth": (
        "PROVIDER_AUTH_ERROR",
        "The model provider rejected the service's credentials.",
        False,
    ),
    "provider_error": ("PROVIDER_ERROR", "The model provider returned an error.", True),
    "provider_rate_limit": (
        "PROVIDER_RATE_LIMIT",
        "The model provider is rate limiting requests.",
        True,
    ),
    "provider_unavailable": (
        "PROVIDER_UNAVAILABLE",
        "The model provider is temporarily unavailable.",
        True,
    ),
    "internal_error": ("INTERNAL_ERROR", "An internal error occurred.", True),
    "unknown": ("UNKNOWN_ERROR", "An unknown error occurred.", False),
}

#: The record's words for each classification (API.md, "Poll": ``error_code`` and
#: ``classification.category`` come from fixed lists), used with the ``record_categories``
#: switch. The record pairs no code with content moderation or internal errors: those two
#: pairs are inferred.
RECORD_WORDS: dict[str, tuple[str, str]] = {
    "invalid_user_input": ("INPUT_VALIDATION_ERROR", "VALIDATION"),
    "content_moderation": ("PROVIDER_REJECTED", "PROVIDER"),
    "execution_timeout": ("EXECUTION_TIMEOUT", "TIMEOUT"),
    "invalid_model_config": ("PROVIDER_BAD_REQUEST", "INTERNAL"),
    "provider_auth": ("PROVIDER_AUTH_ERROR", "AUTH"),
    "provider_error": ("PROVIDER_FAILED", "PROVIDER"),
    "provider_rate_limit": ("PROVIDER_RATE_LIMIT", "RATE_LIMIT"),
    "provider_unavailable": ("PROVIDER_SERVER_ERROR", "PROVIDER"),
    "internal_error": ("PROVIDER_SERVER_ERROR", "INTERNAL"),
    "unknown": ("PROVIDER_FAILED", "UNKNOWN"),
}

FAILURE_FRACTION = {"invalid_user_input": STARTING_FRACTION, "content_moderation": 1.0}
FORCED_FAILURE_FRACTION = 0.5


@dataclass
class Failure:
    classification: str
    message: str | None = None  # None: the classification's standard message
    fraction: float = FORCED_FAILURE_FRACTION  # of the duration, when the failure happens
    #: The record's own words (API.md, "Poll"), for failures modelled on it: they replace the
    #: classification's error_code and category (e.g. ``PROVIDER_BAD_REQUEST``, ``PROVIDER``).
    error_code: str | None = None
    category: str | None = None

    def envelope(self, model_slug: str, *, record_words: bool = False) -> dict[str, Any]:
        """The failure envelope; ``record_words``: the record's ``error_code`` and category
        words (:data:`RECORD_WORDS`) instead of the classification's own."""
        code, standard, retryable = CLASSIFICATIONS.get(
            self.classification, CLASSIFICATIONS["unknown"]
        )
        category = self.classification
        if record_words:
            code, category = RECORD_WORDS.get(self.classification, RECORD_WORDS["unknown"])
        return {
            "error": "Execution failed",
            "error_code": self.error_code or code,
            "error_message": self.message or standard,
            "classification": {"category": self.category or category},
            "retryable": retryable,
            "model_slug": model_slug,
            "success": False,
        }


@dataclass
class Prediction:
    id: str
    model: Model
    input: Any  # as sent, echoed by polls
    values: dict[str, Any]  # coerced, defaults filled in
    api_key: str
    created: float  # clock reading at create
    duration: float  # clock seconds from create to the natural end (after speed scaling)
    model_time: float  # seconds reported as predict_time at the natural end
    seed: int
    count: int = 1
    fmt: str = "png"
    size: tuple[int, int] = (1024, 1024)
    palette_seed: int = 0
    visual_key: int = 0  # seeds the pixels (see inputs.visual_key)
    loras: list[tuple[str, float]] = field(default_factory=list)  # (digest, scale)
    lora_key: str | None = None  # trainers: what their weights are made from
    failure: Failure | None = None
    never_finish: bool = False
    queued: float = 0.0  # clock seconds it stays ``created`` before starting
    cancelled_at: float | None = None
    cancel_requested_at: float | None = None  # an accepted cancel, whether or not it took
    polls: int = 0  # GET /v1/prediction/{id} answered
    seen_end_at: float | None = None  # when a poll first answered with the end

    def ended_at(self) -> float | None:
        """The clock reading at which the prediction ended (or will end); None: never."""
        if self.cancelled_at is not None:
            return self.cancelled_at
        if self.never_finish:
            return None
        return self.created + self.queued + self.duration * self._end_fraction()

    def record(self, account: str) -> dict[str, Any]:
        """What the control plane reports of this prediction (clock readings, seconds)."""
        return {
            "id": self.id,
            "model": self.model.slug,
            "account": account,
            "created_at": self.created,
            "duration": self.duration,
            "ended_at": self.ended_at(),
            "seen_end_at": self.seen_end_at,
            "polls": self.polls,
            "cancel_requested_at": self.cancel_requested_at,
        }

    def _fraction(self, now: float) -> float:
        """How far along (0..1+) the prediction is at ``now``."""
        elapsed = max(0.0, now - self.created - self.queued)
        if self.duration <= 0:
            return float("inf")
        return elapsed / self.duration

    def _end_fraction(self) -> float:
        return self.failure.fraction if self.failure else 1.0

    def status(self, now: float, *, legacy_failed: bool = False) -> str:
        if self.cancelled_at is not None:
            return "cancelled"
        if now < self.created + self.queued:
            return "created"
        fraction = self._fraction(now)
        if not self.never_finish and fraction >= self._end_fraction():
            if self.failure:
                return "failed" if legacy_failed else "error"
            return "success"
        return "starting" if fraction < STARTING_FRACTION else "processing"

    def is_terminal(self, now: float) -> bool:
        return self.status(now) in ("success", "error", "cancelled")

    def succeeded(self, now: float) -> bool:
        return self.status(now) == "success"

    def predict_time(self, now: float) -> float:
        at = self.cancelled_at if self.cancelled_at is not None else now
        fraction = min(self._fraction(at), self._end_fraction())
        if self.never_finish:
            fraction = min(self._fraction(at), 1.0)
        return round(self.model_time * fraction, 3)

    def cost(self) -> float:
        per_unit = self.model.profile.cost
        units = 1 if self.model.is_trainer else self.count
        return round(per_unit * units, 6)

    def output_names(self) -> list[str]:
        """File names under ``/files/{id}/`` that the output links to."""
        if self.model.is_trainer:
            return ["0.safetensors", "1.json"]
        return [f"{i}.{self.fmt}" for i in range(self.count)]

    def output(self, base_url: str, file_sizes: dict[str, int], *, as_string: bool = False) -> Any:
        """The ``output`` value at success, in the model's shape (see the package docstring);
        ``as_string``: a trainer's object as a JSON string (the record allows both)."""
        urls = [f"{base_url}/files/{self.id}/{name}" for name in self.output_names()]
        shape = self.model.profile.shape
        if shape == "lora":
            weights, config = self.output_names()
            files = {
                "diffusers_lora_file": {
                    "url": urls[0],
                    "content_type": "application/octet-stream",
                    "file_name": "pytorch_lora_weights.safetensors",
                    "file_size": file_sizes.get(weights, 0),
                },
                "config_file": {
                    "url": urls[1],
                    "content_type": "application/json",
                    "file_name": "config.json",
                    "file_size": file_sizes.get(config, 0),
                },
            }
            return json.dumps(files) if as_string else files
        if shape == "string" and len(urls) == 1:
            return urls[0]
        if shape == "images_object":
            return {"images": urls, "seed": self.seed}
        return urls

    def body(
        self,
        now: float,
        base_url: str,
        *,
        legacy_failed: bool,
        file_sizes: dict[str, int],
        trainer_output_string: bool = False,
        record_categories: bool = False,
    ) -> dict[str, Any]:
        """The ``GET /v1/prediction/{id}`` body."""
        status = self.status(now, legacy_failed=legacy_failed)
        output: Any = None
        cost: float = 0
        if status == "success":
            output = self.output(base_url, file_sizes, as_string=trainer_output_string)
            cost = self.cost()
        elif status in ("error", "failed") and self.failure:
            output = self.failure.envelope(self.model.slug, record_words=record_categories)
        return {
            "id": self.id,
            "input": self.input,
            "status": status,
            "output": output,
            "logs": None,
            "metrics": {"predict_time": self.predict_time(now), "cost": cost},
            "urls": {
                "get": f"{base_url}/v1/prediction/{self.id}",
                "cancel": f"{base_url}/v1/prediction/{self.id}/cancel",
            },
        }
