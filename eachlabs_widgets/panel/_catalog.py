"""The model catalogue for the picker: a session cache and the text filter (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._schema.category import model_category

if TYPE_CHECKING:
    from .._service.client import AsyncEachLabs

__all__ = [
    "clear_catalogue",
    "filter_models",
    "load_catalogue",
    "model_category",
    "model_label",
    "picker_options",
]

#: base URL -> every model the service listed, fetched once per session (process).
_catalogue: dict[str, list[dict[str, Any]]] = {}


async def load_catalogue(client: AsyncEachLabs) -> list[dict[str, Any]]:
    """Every model (``list_models`` paging), fetched once per base URL for this process."""
    base_url = client.settings().base_url
    if base_url not in _catalogue:
        models = await client.list_models()
        _catalogue[base_url] = [m for m in models if isinstance(m.get("slug"), str)]
    return _catalogue[base_url]


def clear_catalogue() -> None:
    """Forget the cached catalogues (the next picker lists the models again)."""
    _catalogue.clear()


def model_label(model: Mapping[str, Any]) -> str:
    """``slug — Title`` (just the slug when the title is missing or says the same). The slug
    comes first: it is what ``%%eachgen`` takes, and a long label is cut at its end."""
    slug = str(model.get("slug") or "")
    title = " ".join(str(model.get("title") or "").split())
    if not title or title.lower() == slug.lower():
        return slug
    return f"{slug} — {title}"


def _haystack(model: Mapping[str, Any]) -> str:
    parts = (model.get("slug"), model.get("title"), model_category(model), model.get("output_type"))
    return " ".join(str(p) for p in parts if p).lower()


def filter_models(models: Sequence[Mapping[str, Any]], query: str) -> list[Mapping[str, Any]]:
    """The models whose slug, title, category (:func:`model_category`) or output type hold
    every word of ``query`` (any case).

    ``"flux lora"`` finds ``flux-2-lora`` and ``flux-lora-portrait-trainer``; an empty query
    keeps everything; the catalogue's order is kept.
    """
    words = query.lower().split()
    if not words:
        return list(models)
    return [m for m in models if all(w in _haystack(m) for w in words)]


def picker_options(
    models: Sequence[Mapping[str, Any]], query: str, current: str | None = None
) -> list[tuple[str, str]]:
    """``(label, slug)`` pairs for the dropdown: the matches, and the current model first when
    the filter hides it (so filtering never changes the chosen model)."""
    matches = filter_models(models, query)
    options = [(model_label(m), str(m["slug"])) for m in matches]
    if current and all(slug != current for _, slug in options):
        known = next((m for m in models if m.get("slug") == current), {"slug": current})
        options.insert(0, (model_label(known), current))
    return options
