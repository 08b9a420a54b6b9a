"""The model catalogue for the picker: a session cache and the text filter (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

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


# Inputs that make a model start from an image (a required one: an image-to-image model).
_IMAGE_INPUTS = frozenset({"image", "images", "image_url", "image_urls", "input_image"})


def model_category(model: Mapping[str, Any]) -> str:
    """A short category for the picker: ``Training``, ``Video``, ``LoRA``, ``Image to Image``,
    ``Text to Image``, or ``""`` when nothing tells.

    The service's list carries no category (API.md, "Endpoints"), so it is read from what the
    list does carry: the slug and title (trainers), the output type (video) and the
    ``request_schema`` (a ``loras`` input; a required image; a prompt). A ``category`` that a
    listing does carry wins."""
    given = model.get("category")
    if isinstance(given, str) and given.strip():
        return given.strip()
    words = f"{model.get('slug') or ''} {model.get('title') or ''}".lower()
    if "trainer" in words or "training" in words:
        return "Training"
    if "video" in str(model.get("output_type") or "").lower():
        return "Video"
    schema = model.get("request_schema")
    properties = schema.get("properties") if isinstance(schema, Mapping) else None
    if not isinstance(properties, Mapping):
        return ""
    if "loras" in properties:
        return "LoRA"
    required = schema.get("required") if isinstance(schema, Mapping) else None
    if isinstance(required, list) and _IMAGE_INPUTS & set(map(str, required)):
        return "Image to Image"
    return "Text to Image" if "prompt" in properties else ""


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
