"""Inputs against a model's ``request_schema``: coercion, validation and the seed.

Pure functions, no I/O. The catalog's schemas are JSON Schema with a twist: defaults and even
enum values may be written as strings (``"1"``, ``"False"``, ``"2.5"``), so every value is
coerced by the property's declared ``type`` before it is compared or sent.
"""

from __future__ import annotations

import difflib
import json
import math
import random
from collections.abc import Mapping
from typing import Any

from ._exceptions import InputValidationError

__all__ = [
    "SEED_MAX",
    "check_value",
    "choose_seed",
    "coerce_value",
    "declared_type",
    "default_of",
    "enum_of",
    "properties_of",
    "required_of",
    "seed_property",
    "validate_inputs",
]

SEED_MAX = 2**31 - 1
_TRUE = {"true", "1", "yes", "on", "y", "t"}
_FALSE = {"false", "0", "no", "off", "n", "f", "none", ""}


def properties_of(schema: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The schema's properties in their own order; a malformed schema gives ``{}``."""
    props = (schema or {}).get("properties")
    if not isinstance(props, Mapping):
        return {}
    return {str(k): (dict(v) if isinstance(v, Mapping) else {}) for k, v in props.items()}


def required_of(schema: Mapping[str, Any] | None) -> list[str]:
    req = (schema or {}).get("required")
    return [str(r) for r in req] if isinstance(req, list) else []


def declared_type(prop: Mapping[str, Any]) -> str | None:
    """The property's type; for a list of types (``["string", "null"]``) the first non-null."""
    t = prop.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), None)
    return t if isinstance(t, str) else None


def coerce_value(prop: Mapping[str, Any], value: Any) -> Any:
    """``value`` converted to the property's declared type; :class:`ValueError` if it cannot be.

    Accepts the string forms the catalog uses (``"1"`` for 1, ``"False"`` for false) and what
    a command line gives (every value a string).
    """
    kind = declared_type(prop)
    if kind == "integer":
        return _to_int(value)
    if kind == "number":
        return _to_number(value)
    if kind == "boolean":
        return _to_bool(value)
    if kind == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return _format_number(value)
        raise ValueError(f"expected a string, got {type(value).__name__}")
    if kind == "array":
        return _to_array(prop, value)
    if kind == "object":
        return _to_object(value)
    return value


def _format_number(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise ValueError(f"expected an integer, got {value!r}")
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"expected an integer, got {value!r}") from None
        if number.is_integer():
            return int(number)
    raise ValueError(f"expected an integer, got {value!r}")


def _to_number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {value!r}")
        return value
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise ValueError(f"expected a number, got {value!r}") from None
        if not math.isfinite(number):
            raise ValueError(f"expected a finite number, got {value!r}")
        return number
    raise ValueError(f"expected a number, got {type(value).__name__}")


def _to_bool(value: Any) -> bool:
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
    raise ValueError(f"expected true or false, got {value!r}")


def _to_array(prop: Mapping[str, Any], value: Any) -> list[Any]:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f"expected a JSON list: {exc.msg}") from None
        else:
            value = [v.strip() for v in text.split(",")] if text else []
    if isinstance(value, (list, tuple)):
        items = prop.get("items")
        if isinstance(items, Mapping) and declared_type(items):
            return [coerce_value(items, v) for v in value]
        return list(value)
    raise ValueError(f"expected a list, got {type(value).__name__}")


def _to_object(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"expected a JSON object: {exc.msg}") from None
    if isinstance(value, Mapping):
        return dict(value)
    raise ValueError(f"expected an object, got {type(value).__name__}")


def enum_of(prop: Mapping[str, Any]) -> list[Any] | None:
    """The allowed values, coerced to the declared type (members that cannot be are dropped)."""
    raw = prop.get("enum")
    if not isinstance(raw, list):
        return None
    out: list[Any] = []
    for member in raw:
        try:
            value = coerce_value(prop, member)
        except ValueError:
            continue
        if value not in out:
            out.append(value)
    return out


def default_of(prop: Mapping[str, Any]) -> Any:
    """The default coerced to the declared type, or ``None`` when there is none usable."""
    if "default" not in prop or prop["default"] is None:
        return None
    try:
        return coerce_value(prop, prop["default"])
    except ValueError:
        return None


def _bound(prop: Mapping[str, Any], key: str) -> float | None:
    raw = prop.get(key)
    if raw is None or isinstance(raw, bool):
        return None
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None


def _range_problem(prop: Mapping[str, Any], value: Any) -> str | None:
    lo, hi = _bound(prop, "minimum"), _bound(prop, "maximum")
    xlo, xhi = _bound(prop, "exclusiveMinimum"), _bound(prop, "exclusiveMaximum")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        return f"must be between {_fmt(lo)} and {_fmt(hi)}, got {value!r}"
    if (xlo is not None and value <= xlo) or (xhi is not None and value >= xhi):
        return f"must be strictly between {_fmt(xlo)} and {_fmt(xhi)}, got {value!r}"
    return None


def _fmt(bound: float | None) -> str:
    if bound is None:
        return "…"
    return str(int(bound)) if bound.is_integer() else str(bound)


def _length_problem(
    prop: Mapping[str, Any], value: Any, unit: str, lo_key: str, hi_key: str
) -> str | None:
    lo, hi = _bound(prop, lo_key), _bound(prop, hi_key)
    n = len(value)
    if lo is not None and n < lo:
        return f"needs at least {_fmt(lo)} {unit}, got {n}"
    if hi is not None and n > hi:
        return f"allows at most {_fmt(hi)} {unit}, got {n}"
    return None


def check_value(prop: Mapping[str, Any], value: Any) -> tuple[Any, dict[str, Any] | None]:
    """Coerce and check one value: ``(coerced, None)`` or ``(value, problem)``."""
    try:
        coerced = coerce_value(prop, value)
    except ValueError as exc:
        return value, {"message": str(exc)}
    allowed = enum_of(prop)
    if allowed and coerced not in allowed:
        return value, {
            "message": f"{coerced!r} is not allowed; choose one of: "
            + ", ".join(repr(a) for a in allowed),
            "allowed": allowed,
        }
    kind = declared_type(prop)
    problem: str | None = None
    if kind in ("integer", "number"):
        problem = _range_problem(prop, coerced)
    elif kind == "string":
        problem = _length_problem(prop, coerced, "characters", "minLength", "maxLength")
    elif kind == "array":
        problem = _length_problem(prop, coerced, "items", "minItems", "maxItems")
    if problem:
        return value, {"message": problem}
    return coerced, None


def validate_inputs(
    model: str, schema: Mapping[str, Any] | None, inputs: Mapping[str, Any]
) -> dict[str, Any]:
    """The payload to send: ``inputs`` coerced to their declared types, in schema order.

    ``None`` values are dropped (meaning "use the service's default"). A required field that
    is missing but has a default gets it. Every problem is collected before raising one
    :class:`InputValidationError` that names the fields, the allowed values or the nearest name.
    """
    props = properties_of(schema)
    problems: list[dict[str, Any]] = []
    payload: dict[str, Any] = {}
    given = {k: v for k, v in inputs.items() if v is not None}
    for name in given:
        if props and name not in props:
            near = difflib.get_close_matches(name, list(props), n=1, cutoff=0.5)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            problems.append(
                {
                    "field": name,
                    "message": f"unknown parameter {name!r}{hint} Known: {', '.join(props)}",
                    "suggestion": near[0] if near else None,
                }
            )
    for name, prop in props.items():
        if name in given:
            value, problem = check_value(prop, given[name])
            if problem:
                problem["field"] = name
                problem["message"] = f"{name}: {problem['message']}"
                problems.append(problem)
            else:
                payload[name] = value
        elif name in required_of(schema):
            default = default_of(prop)
            if default is None:
                problems.append({"field": name, "message": f"{name}: required, but not given"})
            else:
                payload[name] = default
    if not props:  # a schema without properties: pass inputs through untouched
        payload = dict(given)
    if problems:
        raise InputValidationError(model, problems)
    return payload


def seed_property(schema: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The ``seed`` property when it is an integer, else ``None``."""
    prop = properties_of(schema).get("seed")
    if prop is not None and declared_type(prop) == "integer":
        return prop
    return None


def choose_seed(
    schema: Mapping[str, Any] | None, payload: dict[str, Any], rng: random.Random | None = None
) -> dict[str, Any]:
    """``payload`` with a seed picked when the model takes an integer ``seed`` and none is given.

    The seed is sent and recorded so that every result can be reproduced.
    """
    prop = seed_property(schema)
    if prop is None or payload.get("seed") is not None:
        return payload
    lo = _bound(prop, "minimum")
    hi = _bound(prop, "maximum")
    low = int(lo) if lo is not None else 0
    high = min(int(hi), SEED_MAX) if hi is not None else SEED_MAX
    seed = (rng or random.SystemRandom()).randint(low, max(low, high))
    return {**payload, "seed": seed}
