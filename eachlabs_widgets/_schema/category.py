"""What kind of model a catalogue entry is, read from what the service's list carries.

The list carries no category (API.md, "Endpoints"); the slug, title, output type and
``request_schema`` tell enough for the picker and ``%eachgen models``. Pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["model_category"]

# Inputs that make a model start from an image (a required one: an image-to-image model).
_IMAGE_INPUTS = frozenset({"image", "images", "image_url", "image_urls", "input_image"})


def model_category(model: Mapping[str, Any]) -> str:
    """A short category for the picker and ``%eachgen models``: ``Training``, ``Video``, ``LoRA``, ``Image to Image``,
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
