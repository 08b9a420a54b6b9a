"""A model's ``request_schema`` as field specs, and widget values as a payload. Pure, no widgets.

One :class:`FieldSpec` per property says which widget shows it and how its *raw* value (what
the widget holds) becomes a payload value:

=========  =======================================  =====================================
kind       when                                     raw value
=========  =======================================  =====================================
dropdown   an ``enum`` (or an optional boolean      the chosen option, ``None`` for the
           without default: true / false / blank)   blank "service default" entry
checkbox   a boolean                                ``bool``
seed       a property named ``seed``                text (plus a "randomise" button)
slider     integer/number with both bounds          text (the slider mirrors it)
number     integer/number otherwise                 text
media      a file input (:func:`media_kind`)        URL text or a :class:`LocalMedia`
textarea   a prompt-like string                     text
text       any other string, untyped, unknown type  text
list       an array                                 text: one item per line or a JSON list
json       an object                                text: a JSON object
=========  =======================================  =====================================

Decisions:

* A default outside its ``enum`` is not offered as a choice: the dropdown gets a blank first
  entry ("service default: …") that leaves the key out, so the service applies its own default.
* An empty text (or the blank dropdown entry) leaves the key out of the payload, so the service
  default applies; a required field that is empty is an error. A value that fails validation is
  left out of the payload too, and reported in ``errors``.
* A field is *advanced* (folded away) unless it is required, prompt-like, a media input or one
  of :data:`COMMON_FIELDS`; plumbing (:data:`PLUMBING_FIELDS`: ``sync_mode``, safety toggles,
  webhooks…) is always advanced unless required.
* A text field's value is its text exactly: only an empty text leaves the key out, so a
  default of a single space is sent as a single space. (A required field of only spaces is
  "required".)
* Labels are human: ``num_inference_steps`` is "Inference steps", ``image_url`` "Image URL"
  (a property's ``title`` wins when it has one).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from .._schema.inputs import (
    SEED_MAX,
    check_value,
    coerce_value,
    declared_type,
    default_of,
    enum_of,
    properties_of,
    required_of,
)
from .._schema.media import LocalMedia, media_kind, to_local_media

__all__ = [
    "COMMON_FIELDS",
    "PLUMBING_FIELDS",
    "PROMPT_WORDS",
    "FieldSpec",
    "cleared_raw",
    "field_spec",
    "field_specs",
    "human_label",
    "initial_raw",
    "is_advanced",
    "is_prompt_like",
    "parse_raw",
    "payload_from",
    "same_value",
    "seed_range",
    "to_raw",
    "unknown_keys",
]

COMMON_FIELDS = frozenset(
    {
        "aspect_ratio",
        "height",
        "image_size",
        "negative_prompt",
        "num_images",
        "output_format",
        "prompt",
        "quality",
        "resolution",
        "seed",
        "style",
        "style_type",
        "trigger_phrase",
        "trigger_word",
        "width",
    }
)
"""Optional fields shown outside the "Advanced" section (besides prompt-like and media fields)."""

PLUMBING_FIELDS = frozenset(
    {
        "sync_mode",
        "enable_safety_checker",
        "disable_safety_checker",
        "safety_tolerance",
        "safety_filter_level",
        "webhook_url",
        "limit_generations",
        "acceleration",
        "output_quality",
        "enable_base64_output",
        "return_base64",
    }
)
"""Service plumbing, always under "Advanced" (unless required)."""

_ACRONYMS = {
    "url": "URL",
    "urls": "URLs",
    "id": "ID",
    "lora": "LoRA",
    "loras": "LoRAs",
    "cfg": "CFG",
    "api": "API",
    "hd": "HD",
    "fps": "FPS",
    "ai": "AI",
    "json": "JSON",
    "png": "PNG",
    "jpeg": "JPEG",
}
_NUMBER_OF = {"num", "number", "n"}

PROMPT_WORDS = frozenset({"prompt", "caption", "text", "description"})
"""A string field whose name ends in one of these words (``negative_prompt``) is multi-line."""

SLIDER_MAX_STEPS = 10_000
"""An integer range with more values than this (e.g. 0..2**31-1) gets a plain number box."""

_SLIDER_MAX_SPAN = 1e6
_SLIDER_MAX_ABS = 2**53
_MAX_DECIMALS = 10
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(frozen=True)
class FieldSpec:
    """How one property of a ``request_schema`` is shown and read back."""

    name: str
    kind: str
    """dropdown, checkbox, seed, slider, number, media, textarea, text, list or json."""
    type: str | None
    """The declared JSON Schema type (``None`` when missing or not a string)."""
    default: Any
    """The default coerced to ``type``; ``None`` when there is none usable (or outside the enum)."""
    required: bool
    advanced: bool
    description: str = ""
    options: tuple[Any, ...] = ()
    """Dropdown choices, coerced to ``type`` (``"2"`` stays a string for a string enum)."""
    blank_label: str | None = None
    """Label of the dropdown's leading blank entry (leaves the key out); ``None``: no such entry."""
    minimum: int | float | None = None
    maximum: int | float | None = None
    step: int | float | None = None
    """Slider step (``None`` for other kinds)."""
    media: str | None = None
    """For ``media`` fields: image, audio, video, archive or other."""
    prop: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """The property itself, for validation."""

    @property
    def title(self) -> str:
        """The human label: "Inference steps" for ``num_inference_steps``."""
        return human_label(self.name, self.prop)

    @property
    def label(self) -> str:
        """The human label, with `` *`` when the field is required."""
        return f"{self.title} *" if self.required else self.title

    @property
    def range_text(self) -> str:
        """``1 – 50``, ``≥ 0``, ``≤ 10`` or empty: the bounds a number must keep."""
        if self.kind not in ("slider", "number", "seed"):
            return ""
        lo, hi = self.minimum, self.maximum
        if lo is not None and hi is not None:
            return f"{_bound_text(lo)} – {_bound_text(hi)}"
        if lo is not None:
            return f"≥ {_bound_text(lo)}"
        if hi is not None:
            return f"≤ {_bound_text(hi)}"
        return ""


def _bound_text(value: float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:,}" if isinstance(value, int) and abs(value) >= 100_000 else repr(value)


def human_label(name: str, prop: Mapping[str, Any] | None = None) -> str:
    """A property's label: its ``title`` when it has one, else its name in words.

    ``num_inference_steps`` → "Inference steps", ``num_images`` → "Number of images",
    ``image_url`` → "Image URL", ``loras`` → "LoRAs", ``guidanceScale`` → "Guidance scale".
    """
    title = (prop or {}).get("title") if isinstance(prop, Mapping) else None
    if isinstance(title, str) and title.strip() and title.strip() != name:
        return " ".join(title.split())
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    words = [w for w in re.split(r"[_\-\s.]+", spaced) if w]
    if not words:
        return name
    lowered = [w.lower() for w in words]
    if lowered[0] in _NUMBER_OF and len(words) > 1:
        lowered = (["number", "of", *lowered[1:]]) if len(words) == 2 else lowered[1:]
    out = [_ACRONYMS.get(w, w) for w in lowered]
    first = out[0]
    out[0] = first if first in _ACRONYMS.values() else first[:1].upper() + first[1:]
    return " ".join(out)


def is_prompt_like(name: str) -> bool:
    """True for ``prompt``, ``negative_prompt``, ``caption``, ``default_caption``, ``text``…"""
    return name.lower().rsplit("_", 1)[-1] in PROMPT_WORDS


def is_advanced(name: str, *, required: bool, kind: str) -> bool:
    """Folded away unless required, prompt-like, a media input or in :data:`COMMON_FIELDS`;
    plumbing (:data:`PLUMBING_FIELDS`, anything about safety) always, unless required."""
    if required:
        return False
    lowered = name.lower()
    if lowered in PLUMBING_FIELDS or "safety" in lowered or "webhook" in lowered:
        return True
    if kind in ("media", "textarea"):
        return False
    return not (name.lower() in COMMON_FIELDS or is_prompt_like(name))


def field_specs(schema: Mapping[str, Any] | None) -> list[FieldSpec]:
    """One spec per property, in the schema's order. Never raises on a malformed schema.

    Names in ``required`` that are not properties are ignored; a property that is not an
    object is treated as an untyped one (a text field).
    """
    if not isinstance(schema, Mapping):
        return []
    required = set(required_of(schema))
    return [
        field_spec(name, prop, name in required) for name, prop in properties_of(schema).items()
    ]


def field_spec(name: str, prop: Mapping[str, Any], required: bool = False) -> FieldSpec:
    """The spec of one property (see the module docstring for the rules)."""
    kind_of_type = declared_type(prop)
    description = prop.get("description")
    common: dict[str, Any] = {
        "name": name,
        "type": kind_of_type,
        "required": required,
        "description": description if isinstance(description, str) else "",
        "prop": prop,
    }
    default = default_of(prop)
    lo, hi = (
        _finite_bound(prop, "minimum", kind_of_type),
        _finite_bound(prop, "maximum", kind_of_type),
    )

    options = tuple(o for o in (enum_of(prop) or []) if _self_equal(o))
    if not options and kind_of_type == "boolean" and not required and default is None:
        options = (True, False)
    if options:
        if default is not None and not any(same_value(default, o) for o in options):
            default = None  # a default outside its enum: leave it to the service
        blank: str | None = None
        if default is None:
            blank = _blank_label(prop, required)
        return _spec(common, "dropdown", default, options=options, blank_label=blank)

    if kind_of_type == "boolean":
        return _spec(common, "checkbox", default)
    if name.lower() == "seed" and kind_of_type in ("integer", "number", "string"):
        return _spec(common, "seed", default, minimum=lo, maximum=hi)
    if kind_of_type in ("integer", "number"):
        step = _slider_step(kind_of_type, lo, hi, default)
        kind = "number" if step is None else "slider"
        return _spec(common, kind, default, minimum=lo, maximum=hi, step=step)
    media = media_kind(name, prop)
    if media is not None and kind_of_type in ("string", None):
        # only a URL-like default: a default is never read as a local path
        return _spec(common, "media", default if isinstance(default, str) else None, media=media)
    if kind_of_type == "array":
        return _spec(common, "list", default)
    if kind_of_type == "object":
        return _spec(common, "json", default)
    if kind_of_type in ("string", None) and is_prompt_like(name):
        return _spec(common, "textarea", default)
    return _spec(common, "text", default)


def _spec(common: dict[str, Any], kind: str, default: Any, **extra: Any) -> FieldSpec:
    advanced = is_advanced(common["name"], required=common["required"], kind=kind)
    return FieldSpec(kind=kind, default=default, advanced=advanced, **common, **extra)


def _blank_label(prop: Mapping[str, Any], required: bool) -> str:
    if required:
        return "— choose —"
    raw = prop.get("default")
    if raw is None or isinstance(raw, (dict, list)):
        return "(service default)"
    return f"(service default: {raw})"


def _self_equal(value: Any) -> bool:
    try:
        return bool(value == value)
    except Exception:  # pragma: no cover - exotic __eq__
        return False


def same_value(a: Any, b: Any) -> bool:
    """Equal and of the same kind: ``True`` is not ``1``, ``"1"`` is not ``1``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    try:
        return bool(a == b)
    except Exception:  # pragma: no cover - exotic __eq__
        return False


def _finite_bound(prop: Mapping[str, Any], key: str, kind: str | None) -> int | float | None:
    raw = prop.get(key)
    if raw is None or isinstance(raw, bool):
        return None
    try:
        number = float(raw)
    except (TypeError, ValueError, OverflowError):
        return None
    if not math.isfinite(number):
        return None
    if isinstance(raw, int) and kind == "integer":
        return raw
    if kind == "integer":
        return math.ceil(number) if key == "minimum" else math.floor(number)
    return number


def _slider_step(kind: str, lo: Any, hi: Any, default: Any) -> int | float | None:
    """The slider step, or ``None`` when the range is missing, empty or too large for a slider."""
    if lo is None or hi is None or not lo < hi:
        return None
    if max(abs(lo), abs(hi)) > _SLIDER_MAX_ABS:
        return None
    if kind == "integer":
        return 1 if hi - lo <= SLIDER_MAX_STEPS else None
    span = float(hi) - float(lo)
    if not math.isfinite(span) or span > _SLIDER_MAX_SPAN:
        return None
    exponent = math.floor(math.log10(span / 100)) if span / 100 > 0 else -_MAX_DECIMALS
    for value in (lo, hi, default):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            exponent = min(exponent, -_decimals(value))
    exponent = max(exponent, -_MAX_DECIMALS)
    return 1 if exponent >= 0 else 10.0**exponent


def _decimals(value: float | int) -> int:
    """Digits after the point in ``repr(value)`` (``2.55`` → 2, ``9e-05`` → 5, ``3`` → 0)."""
    try:
        exponent = Decimal(repr(value)).as_tuple().exponent
    except InvalidOperation:  # pragma: no cover - value is finite
        return 0
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def seed_range(spec: FieldSpec) -> tuple[int, int]:
    """The bounds a random seed is drawn from: the schema's, within 0..SEED_MAX by default."""
    lo = math.ceil(spec.minimum) if spec.minimum is not None else 0
    hi = math.floor(spec.maximum) if spec.maximum is not None else SEED_MAX
    if spec.minimum is None and hi < lo:
        lo = hi
    if spec.maximum is None and lo > hi:
        hi = lo
    return lo, max(lo, hi)


# --------------------------------------------------------------------------------------------
# raw widget values <-> payload values


def initial_raw(spec: FieldSpec) -> Any:
    """What the widget holds after a reset: the default, or empty."""
    return to_raw(spec, None)


def cleared_raw(spec: FieldSpec) -> Any:
    """What the widget holds for "no value" (the key left out, the service default applies).

    Empty, except where a field cannot be empty (a checkbox, a dropdown without a blank entry)
    or is required: those take their default.
    """
    if spec.required or spec.kind == "checkbox":
        return initial_raw(spec)
    if spec.kind == "dropdown":
        return None if spec.blank_label is not None else initial_raw(spec)
    return ""


def to_raw(spec: FieldSpec, value: Any) -> Any:
    """The raw widget value that shows ``value``; ``None`` gives the default (or empty).

    Raises :class:`ValueError` for a value the widget cannot hold: a choice that is not offered,
    a value a checkbox cannot show, a file that cannot be read.
    """
    if value is None:
        if spec.kind == "media":  # a default is a URL, never read as a local path
            return spec.default or ""
        value = spec.default
    if spec.kind == "dropdown":
        if value is None:
            if (
                spec.blank_label is None
            ):  # pragma: no cover - a dropdown without blank has a default
                raise ValueError("a value is required")
            return None
        checked, problem = check_value(spec.prop, value)
        if problem is None:
            for option in spec.options:
                if same_value(option, checked):
                    return option
        choices = ", ".join(_label(o) for o in spec.options)
        raise ValueError(f"{value!r} is not one of the choices: {choices}")
    if spec.kind == "checkbox":
        return bool(coerce_value(spec.prop, value)) if value is not None else False
    if spec.kind == "media":
        return _media_raw(value)
    if value is None:
        return ""
    if spec.kind == "list":
        return _list_text(value)
    if spec.kind == "json":
        return _json_text(value, indent=2)
    return _text(value)


def _label(value: Any) -> str:
    return value if isinstance(value, str) else _json_text(value)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return _json_text(value)


def _json_text(value: Any, indent: int | None = None) -> str:
    try:
        return json.dumps(value, indent=indent, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return str(value)


def _list_text(value: Any) -> str:
    """One item per line when every item is a plain one-line string; a JSON list otherwise."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)) and value and all(_plain_line(v) for v in value):
        return "\n".join(value)
    return _json_text(list(value) if isinstance(value, tuple) else value)


def _plain_line(item: Any) -> bool:
    return (
        isinstance(item, str)
        and item != ""
        and item == item.strip()
        and item.splitlines() == [item]
        and not item.startswith(("[", "{"))
    )


def _media_raw(value: Any) -> LocalMedia | str:
    if value is None:
        return ""
    if isinstance(value, LocalMedia):
        return value
    if isinstance(value, str):
        if value == "" or _SCHEME.match(value) or not os.path.isfile(value):
            return value
    elif isinstance(value, (int, float, bool)):
        return _text(value)
    try:
        return to_local_media(value)
    except (TypeError, OSError, ValueError) as exc:
        raise ValueError(f"cannot use {type(value).__name__} as a file: {exc}") from None


def parse_raw(spec: FieldSpec, raw: Any) -> tuple[Any, str | None]:
    """``(value, None)`` or ``(None, message)``; a ``None`` value means "leave the key out"."""
    if spec.kind == "media" and isinstance(raw, LocalMedia):
        return raw, None
    if raw is None or (isinstance(raw, str) and _empty_text(spec, raw)):
        return None, ("required" if spec.required else None)
    value: Any = raw
    if spec.kind == "list":
        try:
            value = _parse_list(raw)
        except ValueError as exc:
            return None, str(exc)
    elif spec.kind == "media" and not _SCHEME.match(str(raw).strip()):
        return None, "expected a URL (https://…) or a file"
    checked, problem = check_value(spec.prop, value)
    if problem is not None:
        return None, str(problem["message"])
    return checked, None


def _empty_text(spec: FieldSpec, raw: str) -> bool:
    """No value: an empty box. A text field's spaces are its value (a default of " " is sent
    as " "), except that a required field of only spaces is still missing."""
    if spec.kind == "dropdown":
        return False
    if spec.kind in ("text", "textarea") and not spec.required:
        return raw == ""
    return raw.strip() == ""


def _parse_list(text: Any) -> Any:
    """A JSON list, or one item per line (a line holding a JSON object or list is parsed)."""
    if not isinstance(text, str):
        return text
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise ValueError(f"invalid JSON list: {exc.msg} (line {exc.lineno})") from None
    items: list[Any] = []
    for line in stripped.splitlines():
        item = line.strip()
        if not item:
            continue
        if item.startswith(("{", "[")):
            try:
                items.append(json.loads(item))
                continue
            except json.JSONDecodeError:
                pass
        items.append(item)
    return items


def payload_from(
    specs: Sequence[FieldSpec], raw_values: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """``(payload, errors)`` from the widgets' raw values, in schema order.

    The payload holds only the specs' names, each coerced to its declared type; empty optional
    fields and invalid ones are left out. ``errors`` maps a field name to its message. A name
    missing from ``raw_values`` counts as an empty field.
    """
    payload: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for spec in specs:
        value, problem = parse_raw(spec, raw_values.get(spec.name))
        if problem is not None:
            errors[spec.name] = problem
        elif value is not None:
            payload[spec.name] = value
    return payload, errors


def unknown_keys(specs: Sequence[FieldSpec], values: Mapping[str, Any]) -> list[str]:
    """The keys of ``values`` that name no field."""
    names = {spec.name for spec in specs}
    return [str(key) for key in values if key not in names]
