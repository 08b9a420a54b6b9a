"""A run as text: the ``%%eachgen`` cell and the Python call that reproduce it. Pure functions.

Both are built from what was *sent* (``Generation.inputs``, seed included), so running the text
makes the same request again. Strings in the cell are shell-quoted (the magic splits its first
line with :mod:`shlex`); lists and objects are written as JSON; booleans as ``true``/``false``.
The prompt is the cell's body. The magic fills ``{name}`` from the notebook's variables, so
braces in values and in the prompt are doubled (``{{`` reads back as ``{``). A value that only
lives in the kernel (a file waiting to be uploaded) cannot be written as text: it is replaced by
a placeholder and listed in the result's ``missing``.
"""

from __future__ import annotations

import json
import keyword
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "RunText",
    "eachgen_cell",
    "escape_braces",
    "format_cli_value",
    "python_call",
    "run_text",
]

_PLACEHOLDER = "<upload the file and paste its URL>"


@dataclass(frozen=True)
class RunText:
    """The text of a run, and the inputs it could not write (kernel-only files)."""

    text: str
    missing: list[str] = field(default_factory=list)


def _is_text_value(value: Any) -> bool:
    return value is None or isinstance(value, (str, bool, int, float, list, dict, tuple))


def escape_braces(text: str) -> str:
    """``text`` as the magic's templating reads it back unchanged (``{`` → ``{{``)."""
    return text.replace("{", "{{").replace("}", "}}")


def format_cli_value(value: Any) -> str:
    """One ``--param`` value as the magic's command line reads it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return shlex.quote(escape_braces(value))
    if isinstance(value, (list, tuple, dict)):
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return shlex.quote(escape_braces(text))
    return shlex.quote(_PLACEHOLDER)


def _split(inputs: Mapping[str, Any]) -> tuple[str | None, dict[str, Any], list[str]]:
    prompt = inputs.get("prompt")
    rest = {k: v for k, v in inputs.items() if not (k == "prompt" and isinstance(prompt, str))}
    missing = [k for k, v in rest.items() if not _is_text_value(v)]
    return (prompt if isinstance(prompt, str) else None), rest, missing


def eachgen_cell(model: str, inputs: Mapping[str, Any]) -> RunText:
    """``%%eachgen MODEL --param value …`` and, on the next lines, the prompt.

    The options live on the magic's one line: a string value with a line break cannot be
    written there (its breaks become spaces, and it is listed in ``missing``); an input named
    like one of the magic's own options (``background``) is written ``--input.background``.
    """
    from ..magics._parse import INPUT_PREFIX, OWN_FLAGS, OWN_VALUED

    prompt, rest, missing = _split(inputs)
    parts = ["%%eachgen", shlex.quote(model)]
    own = {*OWN_FLAGS, *OWN_VALUED}
    for name, value in rest.items():
        if value is None:
            continue
        option = INPUT_PREFIX + name if f"--{name}" in own else f"--{name}"
        if isinstance(value, str) and ("\n" in value or "\r" in value):
            missing.append(name)
            value = " ".join(value.splitlines())
        text = format_cli_value(value)
        # "--seed -1" would read -1 as an option: glue a value read as "-…" to its name
        glue = shlex.split(text)[0].startswith("-") if text else False
        parts.extend([f"{option}={text}"] if glue else [option, text])
    text = " ".join(parts)
    if prompt is not None:
        text += "\n" + escape_braces(prompt)
    return RunText(text, missing)


def _py_value(value: Any) -> str:
    if _is_text_value(value):
        return repr(list(value) if isinstance(value, tuple) else value)
    return repr(_PLACEHOLDER)


def python_call(model: str, inputs: Mapping[str, Any]) -> RunText:
    """``eachlabs_widgets.generate("MODEL", "prompt", param=value, …)`` with its import."""
    prompt, rest, missing = _split(inputs)
    args = [repr(model)]
    if prompt is not None:
        args.append(repr(prompt))
    odd: dict[str, str] = {}
    for name, value in rest.items():
        if value is None:
            continue
        if name.isidentifier() and not keyword.iskeyword(name) and name not in ("model", "timeout"):
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
    return RunText(f"import eachlabs_widgets\n\n{call}\ng", missing)


def run_text(kind: str, model: str, inputs: Mapping[str, Any]) -> RunText:
    """``kind`` is ``"eachgen"`` or ``"python"``."""
    if kind == "eachgen":
        return eachgen_cell(model, inputs)
    if kind == "python":
        return python_call(model, inputs)
    raise ValueError(f"kind must be 'eachgen' or 'python', not {kind!r}")
