"""The rules a ``request_schema`` states, checked by ``jsonschema`` with our messages.

A schema from the service is first made fit for a validator: string-written numbers, bounds
and enum members are converted by the declared type (see :mod:`.coerce`), annotations are
dropped, and any keyword that the schema's own draft (its ``$schema``, else 2020-12) says is
malformed is left out rather than allowed to crash or refuse everything. The validator for
that draft then checks the (already coerced) value, and each of its errors becomes one
problem: the path inside the value, the message in this package's style, and where it helps
the allowed values and the nearest of them.

Compiled rules are cached by the schema's content, so a form that checks a field on every
keystroke does not rebuild them; the metaschema's verdict on each property's schema is kept by
content too, so models that share inputs (most do) do not pay for them again. Everything here
is linear in the schema's size and the value's size (``uniqueItems`` included: jsonschema's
own check is quadratic for objects).
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import logging
import re
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .coerce import coerce_value, enum_of, identity, number_of
from .jsonsafe import MAX_DEPTH
from .jsonschema import (
    Draft202012Validator,
    ValidationError,
    Validator,
    best_match,
    extend,
    validator_for,
)

__all__ = ["RuleProblem", "Rules", "rules_for"]

log = logging.getLogger("eachlabs_widgets")

_ANNOTATIONS = frozenset(
    {"default", "description", "title", "examples", "$comment", "readOnly", "writeOnly"}
)
_NUMBERS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"})
_COUNTS = frozenset(
    {
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
        "minContains",
        "maxContains",
    }
)
_ONE_SCHEMA = frozenset(
    {
        "additionalItems",
        "additionalProperties",
        "contains",
        "else",
        "if",
        "not",
        "propertyNames",
        "then",
        "unevaluatedItems",
        "unevaluatedProperties",
    }
)
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_SCHEMA_MAPS = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
)
_LISTED = 30  # allowed values shown in a message; the problem's "allowed" holds them all
_NEAR_LENGTH = 100  # longer names are not compared for a nearest match
_NEAR_COMPARED = 2000  # candidates difflib compares for a nearest match


@dataclass(frozen=True)
class RuleProblem:
    """One broken rule: ``path`` inside the checked value (``[]`` for the value itself)."""

    path: list[str | int]
    message: str
    allowed: list[Any] | None = None
    suggestion: Any = None
    missing: list[str] = field(default_factory=list)


class Rules:
    """A compiled schema: :meth:`problems` lists what a value breaks, never raises."""

    def __init__(self, validator: Validator) -> None:
        self._validator = validator
        self._warned = False

    def problems(self, value: Any) -> list[RuleProblem]:
        out: list[RuleProblem] = []
        try:
            for error in self._validator.iter_errors(value):
                out.append(_problem(error))
        except Exception as exc:  # an unresolvable $ref, a pathological pattern …
            # A rule that cannot be evaluated is left to the service, which states it; said
            # once per schema, not on every keystroke of a form.
            if not self._warned:
                self._warned = True
                log.warning("could not apply the model's schema rules: %.300s", exc)
        return out


# -- making a schema fit for a validator ------------------------------------------------------


def _unique_items(
    validator: Validator, unique: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """``uniqueItems`` in linear time (jsonschema's own falls back to comparing all pairs)."""
    if not unique or not validator.is_type(instance, "array"):
        return
    seen: set[Any] = set()
    for item in instance:
        try:
            key = identity(item)
        except RecursionError:
            return
        if key in seen:
            yield ValidationError(f"{_short(item)} appears more than once")
            return
        seen.add(key)


_CLASSES: dict[type[Validator], type[Validator]] = {}


def _validator_class(schema: Mapping[str, Any]) -> type[Validator]:
    """The validator for the schema's ``$schema`` draft (2020-12 when it names none)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            base: type[Validator] = validator_for(schema, default=Draft202012Validator)
        except Exception:  # a $schema that is not even a string
            base = Draft202012Validator
    if base not in _CLASSES:
        _CLASSES[base] = extend(base, validators={"uniqueItems": _unique_items})
    return _CLASSES[base]


def _normalized(node: Any, depth: int = 0) -> Any:
    """A copy of a (sub)schema with string-written values in their declared type and the
    annotations dropped; what is not a schema becomes ``{}`` (no rule)."""
    if isinstance(node, bool):
        return node
    if not isinstance(node, Mapping) or depth > MAX_DEPTH:
        return {}
    out: dict[str, Any] = {}
    for key, raw in node.items():
        if not isinstance(key, str) or key in _ANNOTATIONS or key.startswith("x-"):
            continue
        if key == "enum":
            allowed = enum_of(node)
            if allowed:  # an enum none of whose members fits the type states no rule
                out[key] = allowed
        elif key == "const":
            try:
                out[key] = coerce_value(node, raw)
            except (ValueError, RecursionError):
                out[key] = raw
        elif key in _NUMBERS:
            number = raw if isinstance(raw, bool) else number_of(raw)  # draft 4 booleans
            if number is not None:
                out[key] = number
        elif key in _COUNTS:
            count = number_of(raw)
            # A whole count; an int beyond a float's range (10**400) is whole too.
            whole = isinstance(count, int) or (isinstance(count, float) and count.is_integer())
            if count is not None and count >= 0 and whole:
                out[key] = int(count)
        elif key == "items":
            if isinstance(raw, list):  # the tuple form of drafts before 2020-12
                out[key] = [_normalized(s, depth + 1) for s in raw]
            else:
                out[key] = _normalized(raw, depth + 1)
        elif key in _ONE_SCHEMA:
            out[key] = _normalized(raw, depth + 1)
        elif key in _SCHEMA_LISTS:
            if isinstance(raw, list):
                out[key] = [_normalized(s, depth + 1) for s in raw]
        elif key in _SCHEMA_MAPS:
            if isinstance(raw, Mapping):
                out[key] = {str(k): _normalized(s, depth + 1) for k, s in raw.items()}
        else:
            out[key] = raw
    return out


def _drop(schema: dict[str, Any], path: list[Any]) -> bool:
    """Remove the keyword a metaschema error points at (the whole keyword for a bad list
    member). False when the error is about the schema as a whole."""
    while path and not isinstance(path[-1], str):
        path = path[:-1]
    if not path:
        return False
    node: Any = schema
    for part in path[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return True  # already removed with a parent
    if isinstance(node, dict):
        node.pop(path[-1], None)
    return True


def _usable(cls: type[Validator], schema: dict[str, Any]) -> dict[str, Any] | None:
    """``schema`` without the keywords its draft's metaschema finds malformed, or ``None``.

    Each property's schema is checked on its own: inside the whole, the metaschema checks it
    against itself all the same (every draft's ``properties`` holds schemas of its own draft),
    so the outcome is the same, and a property whose schema is malformed as a whole is left
    out as before. Checked pieces are remembered by content (:func:`_checked`): models share
    most of theirs once annotations are dropped (a prompt, a seed, on/off switches, formats),
    and a form's field after its model's inputs is then checked already.
    """
    props = schema.get("properties")
    if not isinstance(props, dict) or not props:
        return _checked(cls, schema)
    rest = _checked(cls, {k: v for k, v in schema.items() if k != "properties"})
    if rest is None:
        return None
    pieces = {name: _checked(cls, sub) for name, sub in props.items()}
    return {**rest, "properties": {n: p for n, p in pieces.items() if p is not None}}


_CHECKED: OrderedDict[tuple[type[Validator], bytes], Any] = OrderedDict()
_CHECKED_SIZE = 1024
_UNCHECKED = object()


def _checked(cls: type[Validator], piece: Any) -> Any:
    """:func:`_cleaned`, once per distinct piece and draft (by a hash of its content): the
    metaschema check costs about a quarter of a millisecond per property, on the event loop,
    before a call's first request. The pieces kept are never changed afterwards."""
    if isinstance(piece, bool):  # ``true`` and ``false`` are schemas in every draft that has them
        return piece
    try:
        text = json.dumps(piece, sort_keys=True, default=repr)
    except (TypeError, ValueError, RecursionError):
        return _cleaned(cls, piece)  # keys of mixed types, or a value that holds itself
    key = (cls, hashlib.sha256(text.encode()).digest())  # ASCII: json.dumps escapes the rest
    usable = _CHECKED.get(key, _UNCHECKED)
    if usable is not _UNCHECKED:
        with contextlib.suppress(KeyError):  # dropped meanwhile by another thread: still good
            _CHECKED.move_to_end(key)
        return usable
    usable = _cleaned(cls, piece)
    _CHECKED[key] = usable
    if len(_CHECKED) > _CHECKED_SIZE:
        _CHECKED.popitem(last=False)
    return usable


def _cleaned(cls: type[Validator], schema: Any) -> Any:
    """``schema`` (changed in place) without what the metaschema finds malformed, or ``None``
    when the schema is malformed as a whole."""
    meta = cls(cls.META_SCHEMA, format_checker=cls.FORMAT_CHECKER)
    for _ in range(8):  # each round drops at least one keyword; nesting rarely needs two
        try:
            errors = list(meta.iter_errors(schema))
        except Exception as exc:  # pragma: no cover - the metaschemas are bundled
            log.warning("could not read the model's schema: %s", exc)
            return None
        if not errors:
            return schema
        for error in errors:
            if not _drop(schema, list(error.absolute_path)):
                return None
    return None


_CACHE: OrderedDict[str, Rules | None] = OrderedDict()
_CACHE_SIZE = 128


def rules_for(schema: Any, *, root: bool = False) -> Rules | None:
    """The compiled rules of a property's schema, or of a whole ``request_schema`` when
    ``root`` (whose ``required``, ``type`` and extra names are left to the caller: a required
    input with a default is filled in, an empty text counts as missing, and an unknown name
    gets the nearest known one). ``None``: no usable rules."""
    if not isinstance(schema, Mapping):
        return None
    try:
        key = ("R" if root else "P") + json.dumps(schema, sort_keys=True, default=repr)
    except (TypeError, ValueError, RecursionError):
        key = ""  # keys of mixed types, or a value that holds itself: compile, do not keep
    if key and key in _CACHE:
        _CACHE.move_to_end(key)
        return _CACHE[key]
    rules = _compile(schema, root=root)
    if key:
        _CACHE[key] = rules
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return rules


def _compile(schema: Mapping[str, Any], *, root: bool) -> Rules | None:
    cls = _validator_class(schema)
    try:
        normalized = _normalized(schema)
    except RecursionError:
        return None
    normalized.pop("$schema", None)  # chosen above; an unknown one must not confuse the class
    if root:  # the caller fills defaults, reads "" as missing and names unknown inputs
        for key in ("required", "type", "additionalProperties", "unevaluatedProperties"):
            normalized.pop(key, None)
    usable = _usable(cls, normalized)
    if not usable:
        return None
    try:
        return Rules(cls(usable))
    except Exception as exc:  # pragma: no cover - the schema passed its metaschema
        log.warning("could not read the model's schema: %s", exc)
        return None


# -- errors as messages -----------------------------------------------------------------------


def _short(value: Any, limit: int = 60) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"an integer of {value.bit_length()} bits"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return str(value)


def listing(allowed: list[Any]) -> str:
    """``'a', 'b', 'c'`` (at most 30 shown, then how many more)."""
    shown = ", ".join(_short(a) for a in allowed[:_LISTED])
    more = len(allowed) - _LISTED
    return shown + (f", … and {more} more" if more > 0 else "")


_PUNCTUATION = re.compile(r"[\W_]+")


def _folded(text: str) -> str:
    return _PUNCTUATION.sub("", text.casefold())


def nearest(value: Any, candidates: list[Any]) -> Any:
    """The candidate closest to ``value`` when both are short text, else ``None``.

    The same text up to case and punctuation wins outright (``Square-HD`` for ``square_hd``);
    otherwise difflib compares at most :data:`_NEAR_COMPARED` candidates of about the same
    length, so that a wrong value in a huge enum costs no more than in a small one.
    """
    if not isinstance(value, str) or len(value) > _NEAR_LENGTH:
        return None
    texts = [c for c in candidates if isinstance(c, str) and len(c) <= _NEAR_LENGTH]
    folded = _folded(value)
    for text in texts:
        if folded and _folded(text) == folded:
            return text
    if len(texts) > _NEAR_COMPARED:
        size = len(value)
        texts = [t for t in texts if abs(len(t) - size) <= 2][:_NEAR_COMPARED]
    near = difflib.get_close_matches(value, texts, n=1, cutoff=0.6)
    return near[0] if near else None


_TYPE_WORDS = {
    "string": "text",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "null",
}


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return "null" if value is None else type(value).__name__


def _range(schema: Mapping[str, Any], value: Any) -> str:
    lo, hi = schema.get("minimum"), schema.get("maximum")
    xlo, xhi = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if isinstance(xlo, bool) or isinstance(xhi, bool):  # draft 4: flags on the bounds
        xlo, lo = (lo, None) if xlo is True else (None, lo)
        xhi, hi = (hi, None) if xhi is True else (None, hi)
    got = _short(value)
    if lo is not None and hi is not None:
        return f"must be between {_number(lo)} and {_number(hi)}, got {got}"
    if xlo is not None and xhi is not None:
        return f"must be strictly between {_number(xlo)} and {_number(xhi)}, got {got}"
    parts = []
    if lo is not None:
        parts.append(f"at least {_number(lo)}")
    if xlo is not None:
        parts.append(f"greater than {_number(xlo)}")
    if hi is not None:
        parts.append(f"at most {_number(hi)}")
    if xhi is not None:
        parts.append(f"less than {_number(xhi)}")
    return f"must be {' and '.join(parts)}, got {got}"


def _count(kind: str, bound: Any, size: int, unit: str) -> str:
    if kind.startswith("min"):
        return f"needs at least {bound} {unit}, got {size}"
    return f"allows at most {bound} {unit}, got {size}"


def _only_required(branches: Any) -> list[list[str]] | None:
    """The names each branch requires, when every branch only lists required names."""
    if not isinstance(branches, list) or not branches:
        return None
    out = []
    for branch in branches:
        if not isinstance(branch, Mapping) or set(branch) != {"required"}:
            return None
        out.append([str(n) for n in branch["required"]])
    return out


def _problem(error: ValidationError) -> RuleProblem:
    path = list(error.absolute_path)
    # Typed as "maybe unset" by jsonschema; an error from iter_errors always carries them.
    kind: Any = error.validator
    rule: Any = error.validator_value
    value: Any = error.instance
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if kind == "enum":
        allowed = list(rule)
        near = nearest(value, allowed)
        hint = f"; did you mean {near!r}?" if near is not None else ""
        return RuleProblem(
            path,
            f"{_short(value)} is not allowed; choose one of: {listing(allowed)}{hint}",
            allowed=allowed,
            suggestion=near,
        )
    if kind == "const":
        return RuleProblem(path, f"must be {_short(rule)}, got {_short(value)}", allowed=[rule])
    if kind == "type":
        wanted = [rule] if isinstance(rule, str) else list(rule)
        words = " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in wanted)
        return RuleProblem(path, f"expected {words}, got {_type_name(value)}")
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return RuleProblem(path, _range(schema, value))
    if kind == "multipleOf":
        return RuleProblem(path, f"must be a multiple of {_number(rule)}, got {_short(value)}")
    if kind in ("minLength", "maxLength"):
        return RuleProblem(path, _count(kind, rule, len(value), "characters"))
    if kind in ("minItems", "maxItems"):
        return RuleProblem(path, _count(kind, rule, len(value), "items"))
    if kind in ("minProperties", "maxProperties"):
        return RuleProblem(path, _count(kind, rule, len(value), "keys"))
    if kind == "pattern":
        return RuleProblem(path, f"{_short(value)} does not match the pattern {rule!r}")
    if kind == "required":
        missing = [str(n) for n in rule if isinstance(value, Mapping) and n not in value]
        names = ", ".join(repr(n) for n in missing)
        return RuleProblem(path, f"required, but not given: {names}", missing=missing)
    if kind in ("anyOf", "oneOf"):
        return _combination(error, path)
    if kind == "not" or kind is None:  # None: a ``false`` schema, which allows nothing
        return RuleProblem(path, f"{_short(value)} is not allowed here")
    text = error.message
    return RuleProblem(path, text if len(text) <= 200 else text[:199] + "…")


def _combination(error: ValidationError, path: list[str | int]) -> RuleProblem:
    kind: Any = error.validator
    branches: Any = error.validator_value
    one = kind == "oneOf"
    groups = _only_required(branches)
    if groups is not None:
        alternatives = " or ".join(" and ".join(repr(n) for n in g) for g in groups)
        if one and not error.context:  # every branch failed is reported with context
            message = f"give only one of: {alternatives}"
        else:
            message = f"give {'exactly' if one else 'at least'} one of: {alternatives}"
        return RuleProblem(path, message, missing=[n for g in groups for n in g])
    if one and not error.context:
        return RuleProblem(path, f"{_short(error.instance)} matches more than one allowed form")
    allowed = _literals(branches)
    if allowed is not None:
        return RuleProblem(
            path,
            f"{_short(error.instance)} is not allowed; choose one of: {listing(allowed)}",
            allowed=allowed,
            suggestion=nearest(error.instance, allowed),
        )
    context = list(error.context or [])
    if error.instance is not None and isinstance(branches, list):
        # "this, or null" and the value is not null: only the other forms can be meant.
        kept = [e for e in context if not _null_branch(branches, e)]
        shown = {e.relative_schema_path[0] for e in kept if e.relative_schema_path}
        if len(shown) == 1 and len(kept) < len(context):
            only = best_match(kept)
            if only is not None:
                return RuleProblem(path, _problem(only).message)
        context = kept or context
    best = best_match(context) if context else None
    closest = f"; the closest: {_problem(best).message}" if best is not None else ""
    return RuleProblem(path, f"{_short(error.instance)} matches none of the allowed forms{closest}")


def _null_branch(branches: list[Any], error: ValidationError) -> bool:
    """The error comes from a branch that allows only null (``{"type": "null"}``)."""
    where = error.relative_schema_path
    index = where[0] if where else None
    if not isinstance(index, int) or not 0 <= index < len(branches):
        return False
    branch = branches[index]
    return isinstance(branch, Mapping) and branch.get("type") in ("null", ["null"])


def _literals(branches: Any) -> list[Any] | None:
    """The values of ``anyOf: [{const: a}, {enum: [b, c]}]``, when every branch is a literal."""
    if not isinstance(branches, list) or not branches:
        return None
    out: list[Any] = []
    for branch in branches:
        if not isinstance(branch, Mapping):
            return None
        if "const" in branch:
            out.append(branch["const"])
        elif isinstance(branch.get("enum"), list):
            out.extend(branch["enum"])
        else:
            return None
    return out
