"""``ModelPicker``: one searchable combobox over the catalogue (an anywidget, ``static/picker.js``).

Each entry shows the model's slug, title, category (:func:`model_category`: the service's list
has none) and, where known, its price per image and typical duration. Typing filters (every word must match, see :func:`filter_models`), the
arrows move, Enter picks; ``value`` is the chosen slug.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import anywidget
import traitlets

from ._catalog import filter_models, model_category
from ._keys import STATIC

__all__ = ["ModelPicker"]

Describe = Callable[[str], dict[str, str]]


class ModelPicker(anywidget.AnyWidget):
    """``value``: the chosen slug; ``models``: the entries the browser lists."""

    _esm = STATIC / "picker.js"

    value = traitlets.Unicode(None, allow_none=True, help="The chosen model's slug.").tag(sync=True)
    models: Any = traitlets.List(help="Entries: slug, title, category, price, duration.").tag(
        sync=True
    )
    status = traitlets.Unicode("loading models…", help="Shown while there is no list.").tag(
        sync=True
    )

    def __init__(self, describe: Describe | None = None) -> None:
        super().__init__()
        self.describe = describe or (lambda _slug: {})
        self.catalogue: list[dict[str, Any]] = []

    def set_models(self, models: Sequence[Mapping[str, Any]]) -> None:
        """List ``models`` (the catalogue's entries), each with its price and duration."""
        self.catalogue = [dict(m) for m in models]
        self.refresh()

    def refresh(self) -> None:
        """Recompute the prices and durations shown (after a run taught a new one)."""
        entries = []
        for model in self.catalogue:
            slug = str(model.get("slug") or "")
            title = " ".join(str(model.get("title") or "").split())
            entry = {
                "slug": slug,
                "title": title,
                "category": model_category(model),
                "output_type": str(model.get("output_type") or ""),
                "price": "",
                "duration": "",
            }
            entry.update(self.describe(slug))
            entries.append(entry)
        self.models = entries

    def matches(self, query: str) -> list[str]:
        """The slugs the list shows for ``query`` (the same rule as the browser's)."""
        return [str(m["slug"]) for m in filter_models(self.catalogue, query)]

    def entry(self, slug: str) -> dict[str, Any] | None:
        return next((m for m in self.models if m.get("slug") == slug), None)
