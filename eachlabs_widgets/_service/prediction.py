"""A poll answer as an object. Pure parsing, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._exceptions import PredictionCancelledError, PredictionError, PredictionFailedError
from .status import (
    CANCELLED,
    FAILED,
    SUCCEEDED,
    Failure,
    normalise_status,
    output_urls,
    parse_failure,
)

__all__ = ["Prediction"]


@dataclass(frozen=True)
class Prediction:
    """One prediction as the service last described it."""

    id: str
    status: str
    output: Any = None
    input: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    logs: str | None = None
    polls: int = 0
    #: Seconds from create to the end, as the client saw it (set by ``wait``).
    duration: float | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, body: Mapping[str, Any], prediction_id: str | None = None) -> Prediction:
        metrics = body.get("metrics")
        inp = body.get("input")
        logs = body.get("logs")
        return cls(
            id=str(body.get("id") or prediction_id or ""),
            status=normalise_status(body.get("status")),
            output=body.get("output"),
            input=dict(inp) if isinstance(inp, Mapping) else {},
            metrics=dict(metrics) if isinstance(metrics, Mapping) else {},
            logs=logs if isinstance(logs, str) else None,
            raw=dict(body),
        )

    @property
    def done(self) -> bool:
        return self.succeeded or self.failed or self.cancelled

    @property
    def succeeded(self) -> bool:
        return self.status == SUCCEEDED

    @property
    def failed(self) -> bool:
        return self.status in FAILED

    @property
    def cancelled(self) -> bool:
        return self.status in CANCELLED

    @property
    def urls(self) -> list[str]:
        return output_urls(self.output) if self.succeeded else []

    @property
    def failure(self) -> Failure | None:
        return parse_failure(self.raw) if self.failed else None

    def error(self, model: str | None = None) -> PredictionError | None:
        """The exception this prediction's end calls for; ``None`` on success or while running."""
        if self.failed:
            f = parse_failure(self.raw)
            return PredictionFailedError(
                prediction_id=self.id,
                model=model,
                message=f.message,
                code=f.code,
                classification=f.classification,
                retryable=f.retryable,
                status=self.status,
            )
        if self.cancelled:
            return PredictionCancelledError(prediction_id=self.id, model=model)
        return None
