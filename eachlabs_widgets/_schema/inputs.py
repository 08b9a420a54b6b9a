"""Inputs against a model's ``request_schema``: coercion, validation and the seed.

The catalogue's schemas are JSON Schema with a twist: defaults and even enum values may be
written as strings (``"1"``, ``"False"``, ``"2.5"``), so every value is first coerced by the
property's declared ``type`` (:mod:`.coerce`). The coerced inputs are then checked against
every rule the schema states, by ``jsonschema``'s validator for the schema's draft
(:mod:`.rules`), and against what JSON can carry (:mod:`.jsonsafe`). A file input given a
local path that names no file is refused here too (:mod:`.media`), so nothing is sent.

No network I/O; the only other I/O is looking up a local path given to a file input.
"""

from __future__ import annotations

import difflib
import random
from collections.abc import Mapping, Sequence
from typing import Any

from .._exceptions import InputValidationError
from .coerce import (
    coerce_value,
    coerced_default,
    declared_type,
    enum_of,
    number_of,
    properties_of,
    required_of,
)
from .jsonsafe import Unsendable, json_ready
from .lora import resolve_loras
from .media import media_kind, missing_file_problem
from .rules import RuleProblem, rules_for

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
    "shared_seed",
    "validate_inputs",
]

SEED_MAX = 2**31 - 1
_SUGGESTED = 20  # unknown names for which the nearest known name is looked up
_KNOWN_LISTED = 40  # known names listed in an "unknown parameter" message


def _where(path: list[str | int]) -> str:
    out = []
    for part in path:
        out.append(f"[{part}]" if isinstance(part, int) else f".{part}")
    return "".join(out)


def check_value(prop: Mapping[str, Any], value: Any) -> tuple[Any, dict[str, Any] | None]:
    """Coerce and check one value: ``(coerced, None)`` or ``(value, problem)``.

    ``problem`` holds ``message`` (without the field's name) and, for an enum, ``allowed``
    and ``suggestion`` (the nearest allowed value, or ``None``); ``path`` says where inside
    the value the problem lies (``""`` for the value itself, else like ``[0].scale``).
    """
    try:
        coerced = json_ready(coerce_value(prop, value))
    except Unsendable as exc:
        return value, _message(exc.what, exc.where)
    except (ValueError, RecursionError) as exc:
        return value, {"message": str(exc) or "cannot be read", "path": ""}
    rules = rules_for(prop)
    for problem in rules.problems(coerced) if rules is not None else []:
        return value, _from_rule(problem, problem.path)
    return coerced, None


def _message(text: str, where: str, **extra: Any) -> dict[str, Any]:
    shown = f"{where.lstrip('.')}: {text}" if where else text
    return {"message": shown, "path": where, "detail": text, **extra}


def _from_rule(problem: RuleProblem, path: list[str | int]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if problem.allowed is not None:
        extra["allowed"] = problem.allowed
        extra["suggestion"] = problem.suggestion
    return _message(problem.message, _where(path), **extra)


def _blank(value: Any) -> bool:
    """An empty text given for a required input counts as not given (whitespace is a value)."""
    return isinstance(value, str) and value == ""


def validate_inputs(
    model: str, schema: Mapping[str, Any] | None, inputs: Mapping[str, Any]
) -> dict[str, Any]:
    """The payload to send: ``inputs`` coerced to their declared types, in schema order.

    ``None`` values are dropped (meaning "use the service's default"). A required input
    that is missing, or given as ``""``, gets its default, or is a problem when it has none.
    Every rule the schema states (types, ``enum``, bounds, lengths, ``pattern``,
    ``anyOf``/``oneOf``/``allOf``…) is checked, each value must be sendable as JSON, and a
    file input given a local path must name an existing file. Every problem is collected
    before raising one :class:`InputValidationError` that names the fields, the allowed
    values or the nearest name. A schema without properties passes inputs through (checked
    only for JSON).

    :class:`~.lora.Lora` objects in ``loras`` are sent as ``{"path", "scale"}`` and their
    trigger phrase is added to the prompt; one of another model family is a problem that names
    the model that loads it (:func:`~.lora.resolve_loras`).
    """
    props = properties_of(schema)
    required = set(required_of(schema))
    inputs, lora_problems = resolve_loras(model, inputs)
    given = {str(k): v for k, v in inputs.items() if v is not None}
    problems: list[dict[str, Any]] = [
        {"field": "loras", "message": p.message} for p in lora_problems
    ]
    if problems:  # nothing else matters: the LoRA would load into nothing
        raise InputValidationError(model, problems)
    payload: dict[str, Any] = {}
    if props:
        problems += _unknown_names([n for n in given if n not in props], props)
    else:
        for name, value in given.items():
            try:
                payload[name] = json_ready(value)
            except Unsendable as exc:
                problems.append(_field_problem(name, _message(exc.what, exc.where)))
    for name, prop in props.items():
        value = given.get(name)
        if name in required and (value is None or _blank(value)):
            default = default_of(prop)
            if default is not None:
                payload[name] = default
            else:
                why = "required, but not given" if value is None else "required, but empty"
                problems.append({"field": name, "message": f"{name}: {why}"})
            continue
        if value is None:
            continue
        missing_file = missing_file_problem(value) if media_kind(name, prop) else None
        if missing_file is not None:
            problems.append({"field": name, "message": f"{name}: {missing_file}"})
            continue
        checked, problem = _coerce_only(prop, value)
        if problem is not None:
            problems.append(_field_problem(name, problem))
        else:
            payload[name] = checked
    problems += _rule_problems(schema, payload, props, {p["field"] for p in problems})
    if problems:
        order = {name: i for i, name in enumerate(props)}
        problems.sort(key=lambda p: order.get(p["field"], -1 if p.get("unknown") else len(order)))
        for p in problems:
            p.pop("unknown", None)
        raise InputValidationError(model, problems)
    return payload


def _coerce_only(prop: Mapping[str, Any], value: Any) -> tuple[Any, dict[str, Any] | None]:
    """Coercion and JSON readiness; the schema's rules are checked for all inputs at once."""
    try:
        return json_ready(coerce_value(prop, value)), None
    except Unsendable as exc:
        return value, _message(exc.what, exc.where)
    except (ValueError, RecursionError) as exc:
        return value, _message(str(exc) or "cannot be read", "")


def default_of(prop: Mapping[str, Any]) -> Any:
    """The default coerced to the declared type, or ``None`` when there is none usable: none
    given, one that cannot be coerced, or one the property's own rules refuse (a default
    outside its enum or bounds is left to the service, never sent or shown as ours)."""
    if coerced_default(prop) is None:
        return None
    checked, problem = check_value(prop, prop["default"])
    return None if problem is not None else checked


def _field_problem(name: str, problem: dict[str, Any]) -> dict[str, Any]:
    out = {"field": name, "message": f"{name}{problem['path']}: {problem['detail']}"}
    for key in ("allowed", "suggestion"):
        if key in problem:
            out[key] = problem[key]
    return out


def _rule_problems(
    schema: Mapping[str, Any] | None,
    payload: dict[str, Any],
    props: Mapping[str, Any],
    reported: set[str],
) -> list[dict[str, Any]]:
    """The schema's rules over the whole payload: one problem per field not yet reported."""
    rules = rules_for(schema, root=True) if schema is not None else None
    out: list[dict[str, Any]] = []
    for problem in rules.problems(payload) if rules is not None else []:
        path = problem.path
        if path:
            name, rest = str(path[0]), path[1:]
        else:  # a rule about the inputs together (anyOf of required names, dependencies …)
            name = next((n for n in problem.missing if n in props), None) or (
                problem.missing[0] if problem.missing else "inputs"
            )
            rest = []
        if name in reported:
            continue
        reported.add(name)
        detail = _from_rule(problem, rest)
        prefix = name if path else "inputs"
        out.append(
            {
                "field": name,
                "message": f"{prefix}{detail['path']}: {detail['detail']}",
                **{k: detail[k] for k in ("allowed", "suggestion") if k in detail},
            }
        )
    return out


def _unknown_names(unknown: list[str], props: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One problem per name the schema does not know, with the nearest known name."""
    names = list(props)
    known = ", ".join(names[:_KNOWN_LISTED])
    if len(names) > _KNOWN_LISTED:
        known += f", … and {len(names) - _KNOWN_LISTED} more"
    comparable = [n for n in names if len(n) <= 100]
    out = []
    for index, name in enumerate(unknown):
        near: list[str] = []
        if index < _SUGGESTED and len(name) <= 100:
            near = difflib.get_close_matches(name, comparable, n=1, cutoff=0.5)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        shown = name if len(name) <= 100 else name[:99] + "…"
        out.append(
            {
                "field": name,
                "message": f"unknown parameter {shown!r}{hint}; known: {known}",
                "suggestion": near[0] if near else None,
                "unknown": True,
            }
        )
    return out


def _bound(prop: Mapping[str, Any], key: str) -> float | None:
    number = number_of(prop.get(key))
    if number is None:
        return None
    try:
        return float(number)
    except OverflowError:
        return None


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

    The seed is sent and recorded so that every result can be reproduced. It lies within the
    schema's bounds, and at most ``SEED_MAX``.
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


def shared_seed(
    schemas: Sequence[Mapping[str, Any] | None], rng: random.Random | None = None
) -> int | None:
    """One seed every model of ``schemas`` that takes an integer ``seed`` accepts (within all
    their bounds, at most ``SEED_MAX``), for a grid whose cells should differ only by what it
    sweeps; None when none of them takes a seed, or their bounds do not meet."""
    props = [p for p in (seed_property(s) for s in schemas) if p is not None]
    if not props:
        return None
    lows = [_bound(p, "minimum") for p in props]
    highs = [_bound(p, "maximum") for p in props]
    low = max([0, *(int(lo) for lo in lows if lo is not None)])
    high = min([SEED_MAX, *(int(hi) for hi in highs if hi is not None)])
    if high < low:
        return None
    return (rng or random.SystemRandom()).randint(low, high)
