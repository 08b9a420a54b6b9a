"""What a run costs: per-image prices learned from ``metrics.cost``, the session's spend. Pure.

The catalogue carries no prices. A model's price per image is learned from what the service
reported for a finished run (``metrics.cost`` divided by the images it made): this session's
runs, and the journal's rows of earlier sessions. Until one has been seen the price is unknown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["PriceBook", "format_duration", "format_price", "images_asked"]


def images_asked(inputs: Mapping[str, Any]) -> int:
    """How many images ``inputs`` ask for (``num_images``/``max_images``, else 1)."""
    for key in ("num_images", "max_images", "num_outputs"):
        value = inputs.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return 1


def format_price(dollars: float | None) -> str:
    """``$0.008``, ``$1.20``; ``price unknown`` for ``None``."""
    if dollars is None:
        return "price unknown"
    if dollars < 0.1:
        return f"${dollars:.3f}"
    return f"${dollars:.2f}"


def format_duration(seconds: float | None) -> str:
    """``~4 s``, ``~2 min``; empty for ``None``."""
    if seconds is None or seconds <= 0:
        return ""
    if seconds < 90:
        return f"~{max(1, round(seconds))} s"
    return f"~{round(seconds / 60)} min"


def _cost(metrics: Any) -> float | None:
    value = metrics.get("cost") if isinstance(metrics, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return float(value)


class PriceBook:
    """Per-image prices by model, and what this session spent."""

    def __init__(self) -> None:
        self._per_image: dict[str, float] = {}
        self.spent = 0.0
        self.counted: set[str] = set()

    def learn(
        self, model: str, metrics: Mapping[str, Any], images: int, *, newest: bool = True
    ) -> None:
        """Take the ``metrics.cost`` of a finished run of ``model`` that made ``images``."""
        cost = _cost(metrics)
        if cost is None or cost == 0 or images <= 0:
            return  # a zero is the cost of a failure or a cancel, not a price
        if newest or model not in self._per_image:
            self._per_image[model] = cost / images

    def learn_journal(self, entries: Iterable[Any]) -> None:
        """Prices from journal rows (newest first): the newest row with a cost wins."""
        for entry in entries:
            if getattr(entry, "status", None) != "success":
                continue
            images = len(getattr(entry, "files", []) or getattr(entry, "urls", []) or [])
            images = images or images_asked(getattr(entry, "inputs", {}) or {})
            self.learn(entry.model, entry.metrics, images, newest=False)

    def spend(self, run_id: str, metrics: Mapping[str, Any], images: int, model: str) -> None:
        """Count a finished run of this session once, and learn its price."""
        self.learn(model, metrics, images)
        cost = _cost(metrics)
        if cost is not None and run_id not in self.counted:
            self.counted.add(run_id)
            self.spent += cost

    def per_image(self, model: str) -> float | None:
        return self._per_image.get(model)

    def estimate(self, model: str, inputs: Mapping[str, Any]) -> float | None:
        """The expected cost of one run of ``model`` with ``inputs`` (``None``: unknown)."""
        price = self.per_image(model)
        return None if price is None else price * images_asked(inputs)
