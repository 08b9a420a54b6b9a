"""Lightweight input checks, as lenient as the service.

A create is never rejected for its input's contents: the checks here decide whether the
prediction later ends in ``error`` (``INPUT_VALIDATION_ERROR``). Values are coerced by the
declared ``type`` and string forms are accepted (``"1"`` for an integer, ``"False"`` for a
boolean, ``2`` for a string enum of ``"1".."5"``). ``null`` counts as "not given", and keys the
schema does not declare are ignored.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

_INT_RE = re.compile(r"^[+-]?\d+$")
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
# Count fields with no ``maximum`` in the catalog still have one at the service.
_IMPLICIT_MAXIMUM = {"num_images": 8, "max_images": 8}


class _Invalid(Exception):
    pass


@dataclass
class Checked:
    """The outcome of checking one input against a ``request_schema``."""

    values: dict[str, Any] = field(default_factory=dict)  # coerced, defaults filled in
    given: set[str] = field(default_factory=set)  # names the caller actually sent
    errors: list[str] = field(default_factory=list)


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def coerce(value: Any, declared: str | None) -> Any:
    """``value`` as the declared JSON type, or raise ``_Invalid``."""
    if declared == "integer":
        if isinstance(value, bool):
            raise _Invalid
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            text = value.strip()
            if _INT_RE.match(text):
                return int(text)
            try:
                number = float(text)
            except ValueError:
                raise _Invalid from None
            if number.is_integer():
                return int(number)
        raise _Invalid
    if declared == "number":
        if isinstance(value, bool):
            raise _Invalid
        if isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value.strip())
            except ValueError:
                raise _Invalid from None
        else:
            raise _Invalid
        if not math.isfinite(number):
            raise _Invalid
        return int(number) if isinstance(value, int) else number
    if declared == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            text = value.strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
        raise _Invalid
    if declared == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise _Invalid
    if declared == "array":
        if isinstance(value, list):
            return value
        raise _Invalid
    if declared == "object":
        if isinstance(value, dict):
            return value
        raise _Invalid
    return value


def _enum_key(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _bound(raw: Any) -> float | None:
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None


def _check_one(name: str, prop: dict[str, Any], raw: Any) -> Any:
    declared = prop.get("type")
    try:
        value = coerce(raw, declared if isinstance(declared, str) else None)
    except _Invalid:
        raise _Invalid(f"{name}: expected {declared}, got {_kind(raw)} {_describe(raw)}") from None
    enum = prop.get("enum")
    if isinstance(enum, list) and enum:
        keys = {_enum_key(member): member for member in enum}
        key = _enum_key(value)
        if key not in keys:
            allowed = ", ".join(repr(m) for m in enum)
            raise _Invalid(f"{name}: {_describe(raw)} is not one of [{allowed}]")
        member = keys[key]
        try:
            value = coerce(member, declared if isinstance(declared, str) else None)
        except _Invalid:
            value = member
    if isinstance(value, int | float) and not isinstance(value, bool):
        low = _bound(prop.get("minimum"))
        high = _bound(prop.get("maximum"))
        if high is None:
            implicit = _IMPLICIT_MAXIMUM.get(name)
            high = float(implicit) if implicit is not None else None
        if low is not None and value < low:
            raise _Invalid(f"{name}: must be greater than or equal to {_enum_key(low)}")
        if high is not None and value > high:
            raise _Invalid(f"{name}: must be less than or equal to {_enum_key(high)}")
        if name in _IMPLICIT_MAXIMUM and value < 1:
            raise _Invalid(f"{name}: must be greater than or equal to 1")
    if isinstance(value, str):
        low = _bound(prop.get("minLength"))
        high = _bound(prop.get("maxLength"))
        if low is not None and len(value) < low:
            raise _Invalid(f"{name}: must be at least {int(low)} characters")
        if high is not None and len(value) > high:
            raise _Invalid(f"{name}: must be at most {int(high)} characters")
        pattern = prop.get("pattern")
        if isinstance(pattern, str) and re.search(pattern, value) is None:
            raise _Invalid(f"{name}: {_describe(value)} does not match the pattern {pattern!r}")
    return value


def check_input(schema: dict[str, Any], given: dict[str, Any]) -> Checked:
    """Coerce ``given`` by ``schema``; problems go to ``errors`` rather than raising."""
    result = Checked()
    properties = schema.get("properties") or {}
    for name, prop in properties.items():
        raw = given.get(name)
        if raw is None:
            if "default" in prop:
                try:
                    result.values[name] = _check_one(name, prop, prop["default"])
                except _Invalid:
                    result.values[name] = prop["default"]
            continue
        result.given.add(name)
        try:
            result.values[name] = _check_one(name, prop, raw)
        except _Invalid as exc:
            result.errors.append(str(exc))
    for name in schema.get("required") or ():
        value = given.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            result.errors.append(f"{name}: field required")
    return result
