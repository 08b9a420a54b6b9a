"""How far along a prediction looks, for a progress bar. Pure.

The service reports a status, not a percentage. The bar moves through the status steps and,
while ``processing``, approaches (never reaches) the end along the model's typical duration
(learned in this process; a guess until then), so a long training run visibly moves and a
run that takes longer than usual slows down instead of sitting at 100 %.
"""

from __future__ import annotations

import math

__all__ = ["DEFAULT_EXPECTED", "TRAINING_EXPECTED", "progress_fraction"]

#: Seconds a prediction is assumed to take before one of its model has been seen to finish.
DEFAULT_EXPECTED = 15.0
TRAINING_EXPECTED = 300.0

_STEPS = {"queued": 0.0, "uploading": 0.02, "created": 0.05, "starting": 0.1}


def progress_fraction(status: str, elapsed: float, expected: float | None) -> float:
    """A value in 0..1 for a bar: 1 only at ``success``; failures keep where they were (−1)."""
    if status == "success":
        return 1.0
    if status in ("error", "failed", "cancelled", "timeout"):
        return -1.0
    if status in _STEPS and status != "starting":
        return _STEPS[status]
    typical = expected if expected and expected > 0 else DEFAULT_EXPECTED
    base = _STEPS["starting"]
    return base + (0.95 - base) * (1 - math.exp(-max(0.0, elapsed) / typical * 1.5))
