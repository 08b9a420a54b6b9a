"""Reading a ``request_schema``'s properties, and values converted to a property's type.

The catalogue's schemas are JSON Schema with a twist: defaults, bounds and even enum members
may be written as strings (``"1"``, ``"False"``, ``"2.5"``), and a command line gives every
value as a string, so each value is converted by the property's declared ``type`` before it is
compared or sent. Pure functions, no I/O; each is linear in the size of what it reads.
"""

from __future__ import annotations

import json
import math
import numbers
import operator
from collections.abc import Mapping
from typing import Any

__all__ = [
    "coerce_value",
    "coerced_default",
    "declared_type",
    "enum_of",
    "number_of",
    "properties_of",
    "required_of",
]

_TRUE = {"true", "1", "yes", "on", "y", "t"}
_FALSE = {"false", "0", "no", "off", "n", "f", "none", ""}


def properties_of(schema: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The schema's properties in their own order; a malformed schema gives ``{}``."""
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    if not isinstance(props, Mapping):
        return {}
    return {
        str(k): (nullable_collapsed(v) if isinstance(v, Mapping) else {}) for k, v in props.items()
    }


def nullable_collapsed(prop: Mapping[str, Any]) -> dict[str, Any]:
    """A property written as "this, or null" read as "this": Pydantic and FastAPI publish an
    optional integer as ``{"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]}``.
    When ``anyOf``/``oneOf`` holds one schema besides ``{"type": "null"}``, that schema's
    keywords join the property's own (which win: ``default``, ``title``, ``description``),
    and ``nullable`` is set; anything else is returned as it is (copied)."""
    out = dict(prop)
    for key in ("anyOf", "oneOf"):
        branches = out.get(key)
        if not isinstance(branches, list):
            continue
        others = [b for b in branches if not _is_null_schema(b)]
        if len(others) == len(branches) or len(others) != 1 or not isinstance(others[0], Mapping):
            continue
        del out[key]
        return {**others[0], **out, "nullable": True}
    return out


def _is_null_schema(branch: Any) -> bool:
    return isinstance(branch, Mapping) and (
        branch.get("type") == "null" or branch.get("type") == ["null"] or branch == {"const": None}
    )


def required_of(schema: Mapping[str, Any] | None) -> list[str]:
    """The names the schema lists as ``required`` (as strings); ``[]`` when malformed."""
    req = schema.get("required") if isinstance(schema, Mapping) else None
    return [str(r) for r in req] if isinstance(req, list) else []


def declared_type(prop: Mapping[str, Any]) -> str | None:
    """The property's type; for a list of types (``["string", "null"]``) the first non-null."""
    t = prop.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), None)
    return t if isinstance(t, str) else None


def coerce_value(prop: Mapping[str, Any], value: Any) -> Any:
    """``value`` converted to the property's declared type; :class:`ValueError` if it cannot be.

    Accepts the string forms the catalog uses (``"1"`` for 1, ``"False"`` for false), what a
    command line gives (every value a string) and numbers of other libraries (any
    ``numbers.Integral`` or ``numbers.Real``). Non-finite numbers are refused: JSON has none.
    """
    kind = declared_type(prop)
    if kind == "integer":
        return _to_int(value)
    if kind == "number":
        return _to_number(value)
    if kind == "boolean":
        return _to_bool(value)
    if kind == "string":
        return _to_string(value)
    if kind == "array":
        return _to_array(prop, value)
    if kind == "object":
        return _to_object(value)
    return value


def _to_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Real):
        number = _to_number(value)
        if isinstance(number, float) and number.is_integer():
            return str(int(number))
        return str(number)
    raise ValueError(f"expected a string, got {type(value).__name__}")


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expected an integer, got a boolean")
    if isinstance(value, int):
        return value
    number: Any = value
    if isinstance(value, str):
        text = value.strip().replace("_", "")
        try:
            return int(text)
        except ValueError:  # "2.0", "1e3", or more digits than Python converts
            pass
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"expected an integer, got {_short(value)}") from None
    elif isinstance(value, numbers.Integral):
        return operator.index(value)
    elif isinstance(value, numbers.Real):
        number = float(value)
    if isinstance(number, float) and number.is_integer():
        return int(number)
    raise ValueError(f"expected an integer, got {_short(value)}")


def _to_number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, numbers.Integral):
        return operator.index(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise ValueError(f"expected a number, got {_short(value)}") from None
    elif isinstance(value, numbers.Real):
        number = float(value)
    else:
        raise ValueError(f"expected a number, got {type(value).__name__}")
    if not math.isfinite(number):
        raise ValueError(f"expected a finite number, got {_short(value)}")
    return number


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
    raise ValueError(f"expected true or false, got {_short(value)}")


def _to_array(prop: Mapping[str, Any], value: Any) -> list[Any]:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except (json.JSONDecodeError, RecursionError) as exc:
                raise ValueError(f"expected a JSON list: {_json_error(exc)}") from None
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
        except (json.JSONDecodeError, RecursionError) as exc:
            raise ValueError(f"expected a JSON object: {_json_error(exc)}") from None
    if isinstance(value, Mapping):
        return dict(value)
    raise ValueError(f"expected an object, got {type(value).__name__}")


def _json_error(exc: Exception) -> str:
    return exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"


def _short(value: Any, limit: int = 60) -> str:
    """A repr short enough for a message (a huge integer has no cheap repr at all)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"an integer of {value.bit_length()} bits"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def enum_of(prop: Mapping[str, Any]) -> list[Any] | None:
    """The allowed values, coerced to the declared type, first occurrence kept, in order.

    Members that cannot be coerced are dropped. ``None`` when the property has no enum list.
    Linear in the enum's size: duplicates are found by a hashable key, not list scans.
    """
    raw = prop.get("enum")
    if not isinstance(raw, list):
        return None
    out: list[Any] = []
    seen: set[Any] = set()
    for member in raw:
        try:
            value = coerce_value(prop, member)
        except ValueError:
            continue
        try:
            key = identity(value)
        except RecursionError:  # a member that holds itself
            key = ("?", id(value))
        if key not in seen:
            seen.add(key)
            out.append(value)
    return out


def identity(value: Any) -> Any:
    """A hashable key under which JSON-equal values are equal: ``1`` and ``1.0`` alike, but
    ``True`` apart from ``1`` (as JSON Schema compares them)."""
    if isinstance(value, bool) or value is None:
        return ("b", value)
    if isinstance(value, (int, float)):
        return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    if isinstance(value, Mapping):
        return ("o", frozenset((str(k), identity(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return ("a", tuple(identity(v) for v in value))
    try:
        hash(value)
    except TypeError:
        return ("?", id(value))
    return ("x", value)


def coerced_default(prop: Mapping[str, Any]) -> Any:
    """The default coerced to the declared type, or ``None`` when there is none or it cannot
    be coerced (its rules unchecked: see ``_schema.default_of``)."""
    if "default" not in prop or prop["default"] is None:
        return None
    try:
        return coerce_value(prop, prop["default"])
    except (ValueError, RecursionError):
        return None


def number_of(raw: Any) -> int | float | None:
    """A finite number from a schema keyword (``3``, ``"2.5"``); ``None`` when it is not one."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str):
        text = raw.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            raw = float(text)
        except ValueError:
            return None
    if isinstance(raw, float) and math.isfinite(raw):
        return raw
    return None
