"""The emulator's model catalog: the 26 models of ``models.json`` plus how each one behaves.

``models.json`` is package data (a copy of the project's record of the EachLabs catalog). Each
model gets a :class:`Profile`: a typical duration (seconds of model time before ``speed``
scaling), a price per image, the format it writes when the schema has no ``output_format``,
and the shape of its ``output`` (see the package docstring for which model uses which).
"""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

OutputShape = Literal["list", "string", "images_object", "lora"]

TRAINING = "Training"


@dataclass(frozen=True)
class Profile:
    """How the emulator runs one model."""

    duration: float  # typical seconds of model time, before ``speed`` scaling
    cost: float  # USD per image (per training run for trainers)
    shape: OutputShape = "list"
    native_format: str = "png"  # the format written when the schema has no output_format


_PROFILES: dict[str, Profile] = {
    "flux-2-turbo-text-to-image": Profile(1.5, 0.008),
    "flux-2-flash-text-to-image": Profile(1.2, 0.005),
    "flux-2-max-text-to-image": Profile(20.0, 0.07),
    "flux-2-klein-9b-base-text-to-image": Profile(6.0, 0.012),
    "flux-2-pro": Profile(16.0, 0.05, shape="string"),
    "flux-2-flex": Profile(9.0, 0.06, shape="string"),
    "flux-2-lora": Profile(8.0, 0.035),
    "xai-grok-imagine-text-to-image": Profile(7.0, 0.04),
    "gpt-image-v1-5-text-to-image": Profile(22.0, 0.08),
    "bytedance-seedream-v4-5-text-to-image": Profile(9.0, 0.04),
    "gemini-3-pro-image-preview": Profile(18.0, 0.08),
    # Both make one image and answer one plain URL string (API.md, "Models").
    "imagen4-preview": Profile(8.0, 0.04, shape="string"),
    "imagen-4-fast": Profile(3.0, 0.02, shape="string"),
    "reve-text-to-image": Profile(7.0, 0.04),
    "hunyuan-image-v3-text-to-image": Profile(10.0, 0.05, shape="images_object"),
    "ideogram-v3-turbo": Profile(3.0, 0.03),
    "minimax-text-to-image": Profile(6.0, 0.035, native_format="jpeg"),
    "wan-v2-6-text-to-image": Profile(9.0, 0.03),
    "p-image-text-to-image": Profile(2.0, 0.005, native_format="jpeg"),
    "nano-banana-pro": Profile(18.0, 0.075),
    "vidu-q2-text-to-image": Profile(8.0, 0.03),
    "z-image-trainer": Profile(180.0, 2.0, shape="lora"),
    "flux-lora-portrait-trainer": Profile(300.0, 2.4, shape="lora"),
    "flux-turbo-trainer": Profile(120.0, 1.5, shape="lora"),
    "bfl-flux-lora": Profile(6.0, 0.035),
    "z-image-turbo-lora": Profile(2.0, 0.01),
}

_SHAPE_OUTPUT_TYPE: dict[str, str] = {
    "list": "array",
    "string": "image",
    "images_object": "object",
    "lora": "object",
}


@functools.lru_cache(maxsize=1)
def _raw_catalog() -> tuple[dict[str, Any], ...]:
    text = resources.files(__package__).joinpath("models.json").read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, list):
        raise ValueError("models.json must hold a list of models")
    return tuple(data)


def load_catalog() -> list[dict[str, Any]]:
    """The models of ``models.json`` (a fresh deep copy each call)."""
    return copy.deepcopy(list(_raw_catalog()))


@dataclass(frozen=True)
class Model:
    """One catalog model as the emulator serves and runs it."""

    slug: str
    title: str
    category: str
    version: str
    output_type: str
    schema: dict[str, Any]  # the catalog's request_schema, typed defaults, ``x-`` keys kept
    profile: Profile

    @property
    def is_trainer(self) -> bool:
        return self.category == TRAINING

    def detail(self, *, string_defaults: bool = False) -> dict[str, Any]:
        """The body of ``GET /v1/model``, and an item of ``GET /v1/models`` (API.md,
        "Endpoints": the same objects, with ``request_schema`` and no category)."""
        return {
            "title": self.title,
            "slug": self.slug,
            "version": self.version,
            "output_type": self.output_type,
            "request_schema": served_schema(self.schema, string_defaults=string_defaults),
        }


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def served_schema(schema: dict[str, Any], *, string_defaults: bool = False) -> dict[str, Any]:
    """``schema`` without the record's ``x-`` annotations.

    With ``string_defaults`` the defaults become the catalog's literals (``"1"``, ``"False"``)
    and ``minimum``/``maximum`` and numeric ``enum`` members become strings, the way the
    catalog prints them.
    """
    out: dict[str, Any] = {k: copy.deepcopy(v) for k, v in schema.items() if k != "properties"}
    props: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        served = {k: copy.deepcopy(v) for k, v in prop.items() if not k.startswith("x-")}
        if string_defaults:
            if "default" in served:
                served["default"] = prop.get("x-source-default-literal", _literal(prop["default"]))
            for key in ("minimum", "maximum"):
                if key in served:
                    served[key] = _literal(served[key])
            if "enum" in served:
                served["enum"] = [
                    _literal(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
                    for v in served["enum"]
                ]
        props[name] = served
    out["properties"] = props
    return out


def _model(raw: dict[str, Any]) -> Model:
    slug = str(raw["slug"])
    profile = _PROFILES.get(slug, Profile(8.0, 0.04))
    output_type = raw.get("output_type") or _SHAPE_OUTPUT_TYPE[profile.shape]
    return Model(
        slug=slug,
        title=str(raw.get("title") or slug),
        category=str(raw.get("category") or "Text to Image"),
        version=str(raw.get("version") or "0.0.1"),
        output_type=str(output_type),
        schema=raw.get("request_schema") or {"type": "object", "properties": {}},
        profile=profile,
    )


@functools.lru_cache(maxsize=1)
def models() -> tuple[Model, ...]:
    """Every model, in catalog order."""
    return tuple(_model(raw) for raw in _raw_catalog())


@functools.lru_cache(maxsize=1)
def models_by_slug() -> dict[str, Model]:
    return {m.slug: m for m in models()}
