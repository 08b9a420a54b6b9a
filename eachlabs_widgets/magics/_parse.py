"""From a ``%%eachgen`` line and cell body to a list of jobs. Pure: no I/O, no IPython state.

The magic's own options (``-o``, ``--model``, ``--timeout`` …) have fixed names and arities and
go to an argparse parser; every other ``--name`` is a model input, known only once the model's
``request_schema`` is at hand, so those are collected here first and resolved per model.

Sweep rules (a comma list runs one prediction per value, and several sweeps multiply):

- integer, number and boolean inputs: ``--seed 1,2,3``, ``--guidance_scale 2.5,4``;
- string inputs with an ``enum``: ``--image_size square,landscape_16_9`` sweeps when every part
  is an allowed value (a value that is itself allowed is never split);
- free strings, arrays and objects never sweep: their commas are part of the value;
- ``{name}`` standing alone as a value, naming a list, tuple or range, sweeps over it.
"""

from __future__ import annotations

import difflib
import itertools
import json
import re
import shlex
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError

from .._exceptions import InputValidationError
from .._media import is_local_media, media_kind
from .._schema import declared_type, enum_of, properties_of, validate_inputs

__all__ = [
    "HELP_FLAGS",
    "INPUT_PREFIX",
    "OWN_FLAGS",
    "OWN_VALUED",
    "Job",
    "ModelOption",
    "Split",
    "build_jobs",
    "fill",
    "fill_value",
    "label_of",
    "split_prompts",
    "split_tokens",
    "sweep_values",
    "tokenize",
]

#: The magic's own options that take a value, and those that are flags.
OWN_VALUED = ("-o", "--out", "--model", "--timeout", "--embed", "--output-dir")
OWN_FLAGS = ("--force", "--background", "--emulator")
#: Tokens that show the help wherever they stand on the line.
HELP_FLAGS = ("-h", "--help")
#: ``--input.NAME value`` always means the model input NAME, even one named like an option of
#: the magic's own (gpt-image's ``background``, say).
INPUT_PREFIX = "--input."
_SEPARATOR = re.compile(r"^[ \t]*---[ \t]*$", re.MULTILINE)
_FIELD = re.compile(r"\{\{|\}\}|\{([A-Za-z_][^{}]*)\}")
_SCALARS = ("integer", "number", "boolean")


@dataclass(frozen=True)
class ModelOption:
    """One ``--name [value]`` for a model input, as typed. ``value`` None: a bare flag."""

    name: str
    value: Any = None
    negated: bool = False

    @property
    def spelled(self) -> str:
        return f"--no-{self.name}" if self.negated else f"--{self.name}"


@dataclass
class Split:
    """A tokenised line: the tokens for the magic's own parser, and the model inputs."""

    own: list[str] = field(default_factory=list)
    inputs: list[ModelOption] = field(default_factory=list)


@dataclass
class Job:
    """One prediction to run: its grid label, model and inputs (coerced, files as objects)."""

    label: str
    model: str
    inputs: dict[str, Any]


def tokenize(line: str) -> list[str]:
    try:
        return shlex.split(line, posix=True)
    except ValueError as exc:
        raise UsageError(f"cannot parse the line: {exc} (check the quotes)") from None


def _is_option(token: str) -> bool:
    return token == "-o" or (token.startswith("--") and len(token) > 2)


def split_tokens(tokens: Sequence[str]) -> Split:
    """Separate the magic's own options (and its positional MODEL) from the model inputs.

    A model option takes the next token as its value unless that token is an option too
    (``--flag`` alone is a boolean switched on); ``--name=value`` always works. One of the
    magic's own flags followed by a value (``--background opaque``) is the model input of that
    name, since the flags take none; ``--input.NAME`` names a model input explicitly.
    """
    out = Split()
    seen: dict[str, str] = {}
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if not _is_option(token):
            if i == 1:
                out.own.append(token)  # MODEL comes first
                continue
            raise UsageError(
                f"unexpected argument {token!r}: the prompt goes in the cell body, model inputs "
                "are written --name value"
            )
        name, eq, value = token.partition("=")
        if name.startswith(INPUT_PREFIX) and len(name) > len(INPUT_PREFIX):
            name = "--" + name[len(INPUT_PREFIX) :]
            token = name + (eq + value if eq else "")
        elif name in OWN_FLAGS and not eq and (i >= len(tokens) or _is_option(tokens[i])):
            out.own.append(name)
            continue
        elif name in OWN_VALUED:
            out.own.append(name)
            if eq:
                out.own.append(value)
            elif i < len(tokens) and not _is_option(tokens[i]):
                out.own.append(tokens[i])
                i += 1
            else:
                raise UsageError(f"{name} needs a value")
            continue
        key = name[2:]
        negated = False
        parsed: Any = value if eq else None
        if not eq and i < len(tokens) and not _is_option(tokens[i]):
            parsed = tokens[i]
            i += 1
        if key.startswith(("no-", "no_")) and not eq and parsed is None:
            negated = True
            key = key[3:]
        canonical = key.replace("-", "_")
        if canonical in seen:
            raise UsageError(
                f"--{key} is given twice ({seen[canonical]} and {token}); to run several "
                f"values, give a comma list: --{key} a,b"
            )
        seen[canonical] = token
        out.inputs.append(ModelOption(key, parsed, negated))
    return out


# -- templating -------------------------------------------------------------------------------


def _lookup(field_text: str, namespace: Mapping[str, Any]) -> tuple[Any, str | None, str]:
    """The object named by ``field_text`` (``name``, ``name.attr``, ``name[0]``, with optional
    ``!r`` and ``:spec``), its conversion and its format spec."""
    formatter = string.Formatter()
    try:
        parsed = list(formatter.parse("{" + field_text + "}"))
    except ValueError as exc:
        raise UsageError(
            f"cannot read {{{field_text}}}: {exc}; write {{{{ and }}}} for literal braces"
        ) from None
    if len(parsed) != 1 or parsed[0][1] is None:
        raise UsageError(f"cannot read {{{field_text}}}; write {{{{ and }}}} for literal braces")
    _, name, spec, conversion = parsed[0]
    assert name is not None
    root = re.split(r"[.\[]", name, maxsplit=1)[0]
    if root not in namespace:
        raise UsageError(
            f"{{{name}}}: there is no variable {root!r} in the notebook; "
            f"write {{{{{name}}}}} for literal braces"
        )
    try:
        obj, _ = formatter.get_field(name, (), namespace)
    except (AttributeError, LookupError, TypeError, ValueError) as exc:
        raise UsageError(f"{{{name}}}: {type(exc).__name__}: {exc}") from None
    return obj, conversion, spec or ""


def fill(text: str, namespace: Mapping[str, Any]) -> str:
    """``text`` with every ``{name}`` replaced from ``namespace``; ``{{`` and ``}}`` give
    literal braces, and a brace that does not open a name (JSON) is left as it is."""
    formatter = string.Formatter()

    def substitute(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        obj, conversion, spec = _lookup(match.group(1), namespace)
        try:
            if conversion:
                obj = formatter.convert_field(obj, conversion)
            return formatter.format_field(obj, spec)
        except (ValueError, TypeError) as exc:
            raise UsageError(f"{{{match.group(1)}}}: {exc}") from None

    return _FIELD.sub(substitute, text)


def fill_value(value: Any, namespace: Mapping[str, Any]) -> Any:
    """Like :func:`fill` for an option value, but a value that is exactly ``{name}`` gives the
    object itself (an image, a path, a list of seeds to sweep)."""
    if not isinstance(value, str):
        return value
    match = _FIELD.fullmatch(value)
    if match and match.group(1):
        obj, conversion, spec = _lookup(match.group(1), namespace)
        if not conversion and not spec and not isinstance(obj, str):
            return obj
    return fill(value, namespace)


def split_prompts(body: str) -> list[str]:
    """The prompts of a cell body: parts separated by a line holding only ``---``, each
    stripped of surrounding blanks.

    A part that is one JSON string on one line (``"…"``, with JSON's escapes) is that string
    exactly: the way to write a prompt that plain text cannot hold (a line ``---``, leading or
    trailing blanks, a carriage return). ``{name}`` is filled afterwards in both forms.
    """
    prompts = []
    for part in _SEPARATOR.split(body):
        text = part.strip()
        if text:
            prompts.append(_string_literal(text))
    return prompts


def _string_literal(text: str) -> str:
    """``text`` decoded when it is one JSON string, else ``text`` itself."""
    if len(text) < 2 or text[0] != '"' or text[-1] != '"' or "\n" in text:
        return text
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, str) else text


# -- model inputs -----------------------------------------------------------------------------


def resolve_name(option: ModelOption, props: Mapping[str, Any]) -> str | None:
    """The schema property an option names (``-`` may stand for ``_``), or None."""
    for candidate in (option.name, option.name.replace("-", "_")):
        if candidate in props:
            return candidate
    return None


def _unknown(option: ModelOption, models: Sequence[tuple[str, Mapping[str, Any]]]) -> UsageError:
    known: list[str] = []
    for _, schema in models:
        known += [p for p in properties_of(schema) if p not in known]
    near = difflib.get_close_matches(option.name.replace("-", "_"), known, n=1, cutoff=0.5)
    hint = f"; did you mean --{near[0]}?" if near else ""
    names = ", ".join(m for m, _ in models)
    return UsageError(
        f"{option.spelled}: {names} has no input {option.name!r}{hint} "
        f"(known: {', '.join(known) or 'none'}; see %eachgen schema MODEL)"
    )


def _value_of(option: ModelOption, name: str, prop: Mapping[str, Any]) -> Any:
    kind = declared_type(prop)
    if option.negated:
        if kind != "boolean":
            raise UsageError(f"{option.spelled}: {name} is not a boolean ({kind or 'any'})")
        return False
    if option.value is None:
        if kind == "boolean":
            return True
        raise UsageError(f"--{option.name} needs a value ({kind or 'any'})")
    return option.value


def sweep_values(name: str, prop: Mapping[str, Any], value: Any) -> list[Any]:
    """The values one input takes across the runs (one unless it sweeps; see the module)."""
    kind = declared_type(prop)
    if isinstance(value, (list, tuple, range)) and kind not in ("array", "object"):
        values = list(value)
        if not values:
            raise UsageError(f"--{name}: the list to sweep is empty")
        return values
    if not isinstance(value, str) or "," not in value:
        return [value]
    parts = [p.strip() for p in value.split(",")]
    if kind in _SCALARS:
        if any(p == "" for p in parts):
            raise UsageError(f"--{name} {value}: an empty value in the comma list")
        return list(dict.fromkeys(parts))
    allowed = enum_of(prop) if kind == "string" else None
    if not allowed or value in allowed:
        return [value]
    wrong = [p for p in parts if p not in allowed]
    if wrong:
        raise UsageError(
            f"--{name}: {', '.join(repr(w) for w in wrong)} not allowed; "
            f"choose from: {', '.join(str(a) for a in allowed)}"
        )
    return list(dict.fromkeys(parts))


def _as_media(name: str, prop: Mapping[str, Any], value: Any) -> Any:
    """A string input that takes a file and names a local file becomes that file (uploaded)."""
    if isinstance(value, str) and media_kind(name, prop) is not None and "://" not in value:
        path = Path(value).expanduser()
        if path.is_file():
            return path
    return value


def _problem_text(model: str, exc: InputValidationError) -> str:
    parts = []
    for problem in exc.problems:
        message = str(problem.get("message", ""))
        if problem.get("field") == "prompt" and "required" in message:
            message += " (write the prompt in the cell body)"
        parts.append(message)
    return f"{model}: " + "; ".join(parts)


def label_of(parts: Sequence[str]) -> str:
    return " · ".join(p for p in parts if p)


def _short(prompt: str, limit: int = 40) -> str:
    line = " ".join(prompt.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def build_jobs(
    models: Sequence[tuple[str, Mapping[str, Any]]],
    prompts: Sequence[str],
    options: Sequence[ModelOption],
    *,
    max_runs: int = 32,
) -> list[Job]:
    """Every (model × prompt × swept value) combination, each validated against its schema.

    ``models`` holds ``(slug, request_schema)``. Raises :class:`UsageError` naming the field
    and the allowed values (or the nearest name) before anything is sent.
    """
    for option in options:
        if all(resolve_name(option, properties_of(s)) is None for _, s in models):
            raise _unknown(option, models)
    jobs: list[Job] = []
    many_models = len(models) > 1
    many_prompts = len(prompts) > 1
    for slug, schema in models:
        props = properties_of(schema)
        fixed: dict[str, Any] = {}
        swept: list[tuple[str, list[Any]]] = []
        for option in options:
            name = resolve_name(option, props)
            if name is None:
                continue  # another of the models takes it
            if name == "prompt" and prompts:
                raise UsageError("the prompt is given twice: in --prompt and in the cell body")
            values = sweep_values(name, props[name], _value_of(option, name, props[name]))
            if len(values) > 1:
                swept.append((name, values))
            else:
                fixed[name] = values[0]
        if prompts and "prompt" not in props:
            raise UsageError(
                f"{slug} takes no prompt, but the cell body holds one "
                f"(its inputs: {', '.join(props) or 'none'})"
            )
        runs: list[str | None] = [*prompts] or [None]
        for prompt in runs:
            combos = itertools.product(*(values for _, values in swept))
            for combo in combos:
                inputs = dict(fixed)
                if prompt is not None:
                    inputs["prompt"] = prompt
                inputs.update({name: value for (name, _), value in zip(swept, combo, strict=True)})
                inputs = {k: _as_media(k, props.get(k, {}), v) for k, v in inputs.items()}
                files = {k: v for k, v in inputs.items() if is_local_media(v)}
                checkable = {k: ("local-file" if k in files else v) for k, v in inputs.items()}
                try:
                    payload = validate_inputs(slug, schema, checkable)
                except InputValidationError as exc:
                    raise UsageError(_problem_text(slug, exc)) from None
                payload.update(files)
                label = label_of(
                    [
                        slug if many_models else "",
                        _short(prompt) if many_prompts and prompt else "",
                        *(f"{name}={value}" for (name, _), value in zip(swept, combo, strict=True)),
                    ]
                )
                jobs.append(Job(label=label or slug, model=slug, inputs=payload))
                if len(jobs) > max_runs:
                    raise UsageError(
                        f"this cell would start more than {max_runs} predictions; run fewer "
                        "combinations, or raise %config EachGen.max_runs"
                    )
    return jobs
