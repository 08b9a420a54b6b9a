"""A run as text: the ``%%eachgen`` cell and the Python call that reproduce it. Pure functions.

Both are built from what was *sent* (``Generation.inputs``, seed included), so running the text
makes the same request again. Every part is checked by reading it back the way the magic does
(:mod:`..magics._parse`), and whatever cannot be written exactly is listed in the result's
``missing`` (with the nearest text in its place):

- the prompt is the cell's body; one that plain text cannot hold (a line ``---``, blanks around
  it or at a line's end, a carriage return) is written as one JSON string, which the magic
  reads back exactly;
- options are shell-quoted on the magic's one line; a value holding a line break cannot be
  written there (its breaks become spaces); an input named like one of the magic's own options
  is written ``--input.NAME``; a name holding ``=`` cannot be written;
- ``{`` and ``}`` are doubled, since the magic fills ``{name}`` from the notebook's variables;
- a value that only lives in the kernel (a file waiting to be uploaded) becomes a placeholder.

In the Python call, an input whose name is not a keyword argument as written (Python reads
identifiers NFKC-normalised, so ``ﬁlter`` would arrive as ``filter``) goes into ``**{…}``.
"""

from __future__ import annotations

import inspect
import json
import keyword
import math
import re
import shlex
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .._display.cellsyntax import (
    HELP_FLAGS,
    INPUT_PREFIX,
    OWN_FLAGS,
    OWN_VALUED,
    ModelOption,
    fill_value,
    split_prompts,
    split_tokens,
    tokenize,
)

__all__ = [
    "RunText",
    "eachgen_cell",
    "escape_braces",
    "format_cli_value",
    "python_call",
    "run_text",
]

_PLACEHOLDER = "<upload the file and paste its URL>"
#: Characters that end a line for IPython (``str.splitlines``), or that editors rewrite (\r).
_LINE_BREAK = re.compile(r"[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
#: Blanks before a line break: IPython empties blank-only lines, and editors trim line ends.
_BLANK_AT_LINE_END = re.compile(r"[^\S\n]\n")
_RESERVED = {*OWN_FLAGS, *OWN_VALUED, *HELP_FLAGS}


@dataclass(frozen=True)
class RunText:
    """The text of a run, and the inputs it could not write exactly."""

    text: str
    missing: list[str] = field(default_factory=list)


def _is_text_value(value: Any) -> bool:
    return value is None or isinstance(value, (str, bool, int, float, list, dict, tuple))


def escape_braces(text: str) -> str:
    """``text`` as the magic's templating reads it back unchanged (``{`` → ``{{``)."""
    return text.replace("{", "{{").replace("}", "}}")


def _cli_text(value: Any) -> str:
    """What the magic must read for ``value`` (before quoting and brace escaping)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple, dict)):
        return _one_line(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
    return _PLACEHOLDER


def _one_line(literal: str) -> str:
    """A JSON text with the line separators JSON leaves raw escaped, so it stays one line."""
    for char in ("\x85", "\u2028", "\u2029"):
        literal = literal.replace(char, f"\\u{ord(char):04x}")
    return literal


def format_cli_value(value: Any) -> str:
    """One ``--param`` value as the magic's command line reads it."""
    return shlex.quote(escape_braces(_cli_text(value)))


def _reads_back(words: str, name: str, text: str) -> bool:
    """True when the magic reads ``words`` as the one model input ``name`` set to ``text``."""
    try:
        tokens = tokenize(words)
        split = split_tokens(tokens)
    except Exception:  # any refusal means: not this way
        return False
    if split.own or len(split.inputs) != 1 or any(t in HELP_FLAGS for t in tokens):
        return False
    option = split.inputs[0]
    value = fill_value(option.value, {})
    return option == ModelOption(option.name, option.value) and (option.name, value) == (
        name,
        text,
    )


def _option_words(name: str, value: Any) -> str | None:
    """``--name value`` (or ``--input.name=value``) as the magic reads it back, or None."""
    text = _cli_text(value)
    quoted = format_cli_value(value)
    # "--seed -1" would read -1 as an option: glue a value read as "-…" to its name
    glue = text.startswith("-")
    spelled = []
    if f"--{name}" not in _RESERVED:  # else always --input.NAME, however it would parse
        if not glue:
            spelled.append(f"{shlex.quote(f'--{name}')} {quoted}")
        spelled.append(f"{shlex.quote(f'--{name}')}={quoted}")
    spelled.append(f"{shlex.quote(f'{INPUT_PREFIX}{name}')}={quoted}")
    return next((s for s in spelled if _reads_back(s, name, text)), None)


def _split(inputs: Mapping[str, Any]) -> tuple[str | None, dict[str, Any], list[str]]:
    prompt = inputs.get("prompt")
    rest = {k: v for k, v in inputs.items() if not (k == "prompt" and isinstance(prompt, str))}
    missing = [k for k, v in rest.items() if not _is_text_value(v)]
    return (prompt if isinstance(prompt, str) else None), rest, missing


def prompt_body(prompt: str) -> str:
    """The cell body that the magic reads back as exactly ``prompt``."""
    plain = escape_braces(prompt)
    if (
        not _LINE_BREAK.search(plain.replace("\n", ""))
        and not _BLANK_AT_LINE_END.search(plain)
        and split_prompts(plain) == [plain]
    ):
        return plain
    return _one_line(json.dumps(plain, ensure_ascii=False))


def eachgen_cell(model: str, inputs: Mapping[str, Any]) -> RunText:
    """``%%eachgen MODEL --param value …`` and, on the next lines, the prompt."""
    prompt, rest, missing = _split(inputs)
    parts = ["%%eachgen", shlex.quote(model)]
    seen: set[str] = set()
    for name, value in rest.items():
        if value is None:
            continue
        canonical = name.replace("-", "_")
        text = _cli_text(value)
        if _LINE_BREAK.search(text) or _LINE_BREAK.search(name):
            value = " ".join(_LINE_BREAK.split(text)) if isinstance(value, str) else value
            if name not in missing:
                missing.append(name)
        words = None if canonical in seen else _option_words(name, value)
        if words is None:  # a name the line cannot carry ("a=b", or a twin of another's)
            if name not in missing:
                missing.append(name)
            continue
        seen.add(canonical)
        parts.append(words)
    text = " ".join(parts)
    if prompt is not None:
        text += "\n" + prompt_body(prompt)
    return RunText(text, missing)


def _py_value(value: Any) -> str:
    """A Python expression for ``value`` (JSON-like values; others a placeholder)."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_py_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_py_value(v)}" for k, v in value.items()) + "}"
    if _is_text_value(value):
        return repr(value)
    return repr(_PLACEHOLDER)


def generate_parameters() -> set[str]:
    """Names ``generate()`` takes for itself, besides ``prompt``: a model input of one of these
    names cannot be passed through it at all (not even in ``**{…}``)."""
    from .._api import generate

    return {
        p.name
        for p in inspect.signature(generate).parameters.values()
        if p.kind is not inspect.Parameter.VAR_KEYWORD and p.name != "prompt"
    }


def _is_keyword_name(name: str) -> bool:
    return (
        name.isidentifier()
        and not keyword.iskeyword(name)
        and unicodedata.normalize("NFKC", name) == name
    )


def python_call(model: str, inputs: Mapping[str, Any]) -> RunText:
    """``eachlabs_widgets.generate("MODEL", "prompt", param=value, …)`` with its import.

    An input named like one of ``generate()``'s own parameters (``model``, ``timeout``) cannot
    be passed: it is left out, said in a comment, and listed in ``missing``.
    """
    prompt, rest, missing = _split(inputs)
    args = [repr(model)]
    if prompt is not None:
        args.append(repr(prompt))
    taken = generate_parameters()
    odd: dict[str, str] = {}
    left_out: list[str] = []
    for name, value in rest.items():
        if value is None:
            continue
        if name in taken:
            left_out.append(name)
        elif _is_keyword_name(name):
            args.append(f"{name}={_py_value(value)}")
        else:
            odd[name] = _py_value(value)
    if odd:
        items = ", ".join(f"{name!r}: {text}" for name, text in odd.items())
        args.append(f"**{{{items}}}")
    one_line = ", ".join(args)
    if len(one_line) + 33 <= 100:
        call = f"g = eachlabs_widgets.generate({one_line})"
    else:
        body = "".join(f"    {a},\n" for a in args)
        call = f"g = eachlabs_widgets.generate(\n{body})"
    note = ""
    if left_out:
        names = ", ".join(repr(n) for n in left_out)
        note = f"# not passed: generate() takes {names} for itself, not as model inputs\n"
        missing += [n for n in left_out if n not in missing]
    return RunText(f"import eachlabs_widgets\n\n{note}{call}\ng", missing)


def run_text(kind: str, model: str, inputs: Mapping[str, Any]) -> RunText:
    """``kind`` is ``"eachgen"`` or ``"python"``."""
    if kind == "eachgen":
        return eachgen_cell(model, inputs)
    if kind == "python":
        return python_call(model, inputs)
    raise ValueError(f"kind must be 'eachgen' or 'python', not {kind!r}")
