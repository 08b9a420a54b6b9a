"""Values as they will be sent: a JSON-ready copy, or why a value cannot be sent.

httpx encodes request bodies with ``allow_nan=False`` as UTF-8, so NaN, infinities, lone
surrogates (text cut from a UTF-16 source), bytes, sets and other Python objects fail deep
inside a create with an error that names no input. :func:`json_ready` finds them first, with
their place in the value, so the caller can name the field before anything is sent.
"""

from __future__ import annotations

import math
import numbers
import operator
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["INT_LIMIT", "MAX_DEPTH", "Unsendable", "json_ready"]

#: Integers beyond a signed 64-bit integer: no service reads them back exactly (and Python
#: refuses to write one of more than 4300 digits at all).
INT_LIMIT = 2**63 - 1
#: How deeply arrays and objects may nest (also what stops a value that contains itself).
MAX_DEPTH = 64
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class Unsendable(ValueError):
    """A value that cannot be sent as JSON: ``what`` is wrong, ``where`` inside the value
    (``""`` for the value itself, else like ``[0].scale``)."""

    def __init__(self, what: str, where: str = "") -> None:
        self.what = what
        self.where = where
        super().__init__(f"{where}: {what}" if where else what)


def json_ready(value: Any) -> Any:
    """A copy of ``value`` that ``json.dumps(..., allow_nan=False)`` encodes as UTF-8.

    Tuples become lists, and numbers of other libraries (``numbers.Integral``/``Real``) become
    ``int``/``float``. Raises :class:`Unsendable` for NaN and infinities, integers beyond
    64 bits, text with lone surrogates, object keys that are not text, bytes, sets and any
    other object, and nesting deeper than :data:`MAX_DEPTH`. Linear in the value's size.
    """
    return _ready(value, [], 0)


def _where(path: list[str | int]) -> str:
    out = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENTIFIER.match(part):
            out.append(f".{part}")
        else:
            out.append(f"[{_text_repr(part)}]")
    return "".join(out)


def _text_repr(text: str, limit: int = 40) -> str:
    shown = repr(text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _fail(what: str, path: list[str | int]) -> Unsendable:
    return Unsendable(what, _where(path))


def _ready(value: Any, path: list[str | int], depth: int) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        _check_text(value, path, "text")
        return value
    if isinstance(value, numbers.Integral):
        number = operator.index(value)
        if not -INT_LIMIT - 1 <= number <= INT_LIMIT:
            # A huge number is named by its size: Python refuses to print one of 4,300 digits.
            shown = str(number) if number.bit_length() <= 128 else "an integer of "
            if number.bit_length() > 128:
                shown += f"{number.bit_length()} bits"
            raise _fail(
                f"{shown} is too large to send: an integer must fit in 64 bits "
                f"({-INT_LIMIT - 1} to {INT_LIMIT})",
                path,
            )
        return number
    if isinstance(value, numbers.Real):
        real = float(value)
        if math.isnan(real):
            raise _fail("NaN is not valid JSON", path)
        if math.isinf(real):
            raise _fail(f"{'-' if real < 0 else ''}Infinity is not valid JSON", path)
        return real
    if depth >= MAX_DEPTH:
        raise _fail(f"nested more than {MAX_DEPTH} levels deep (or it contains itself)", path)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise _fail(f"the key {key!r} is not text (JSON keys are text)", path)
            _check_text(key, path, f"the key {_text_repr(key)}")
            out[key] = _ready(item, [*path, key], depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        return [_ready(item, [*path, index], depth + 1) for index, item in enumerate(value)]
    raise _fail(_unsupported(value), path)


def _check_text(text: str, path: list[str | int], what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = text[exc.start]
        raise _fail(
            f"{what} holds a lone surrogate {bad!r} at position {exc.start}, "
            "which cannot be sent as UTF-8",
            path,
        ) from None


def _unsupported(value: Any) -> str:
    name = type(value).__name__
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"{name} cannot be sent as JSON (give text, or a file to a file input)"
    if isinstance(value, (set, frozenset)):
        return f"a {name} cannot be sent as JSON; give a list"
    return f"a value of type {name} cannot be sent as JSON"
