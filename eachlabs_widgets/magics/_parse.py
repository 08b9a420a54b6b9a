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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError

from .._display.cellsyntax import (
    HELP_FLAGS,
    INPUT_PREFIX,
    OWN_FLAGS,
    OWN_VALUED,
    ModelOption,
    Split,
    fill,
    fill_value,
    split_prompts,
    split_tokens,
    tokenize,
)
from .._display.render import picture_aspect
from .._exceptions import InputValidationError
from .._notebook.runs import Job
from .._schema.inputs import declared_type, enum_of, properties_of, validate_inputs
from .._schema.media import is_local_media, media_kind

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

_SCALARS = ("integer", "number", "boolean")
_SHAPE_INPUTS = ("image_size", "aspect_ratio", "width", "height")


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
        name = str(problem.get("field", ""))
        if name and message.startswith(f"{name}:"):
            message = f"--{message}"  # the flag as the line spells it
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
        # What the pictures' shape is when the cell does not say it (the live tiles take it).
        defaults = {
            name: prop["default"]
            for name, prop in props.items()
            if name in _SHAPE_INPUTS and isinstance(prop, Mapping) and "default" in prop
        }
        fixed: dict[str, Any] = {}
        swept: list[tuple[str, list[Any]]] = []
        notes: list[str] = []
        for option in options:
            name = resolve_name(option, props)
            if name is None:  # another of the models takes it
                notes.append(f"{slug} has no {option.name} input; ran without it")
                continue
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
                axes: dict[str, Any] = {}
                if many_models:
                    axes["model"] = slug
                if many_prompts and prompt is not None:
                    axes["prompt"] = _short(prompt)
                axes.update({name: value for (name, _), value in zip(swept, combo, strict=True)})
                label = label_of(
                    [
                        slug if many_models else "",
                        _short(prompt) if many_prompts and prompt else "",
                        *(f"{name}={value}" for (name, _), value in zip(swept, combo, strict=True)),
                    ]
                )
                jobs.append(
                    Job(
                        label=label or slug,
                        model=slug,
                        inputs=payload,
                        axes=axes,
                        notes=notes,
                        aspect=picture_aspect(payload) or picture_aspect(defaults),
                    )
                )
                if len(jobs) > max_runs:
                    raise UsageError(
                        f"this cell would start more than {max_runs} predictions; run fewer "
                        "combinations, or raise %config EachGen.max_runs"
                    )
    return jobs
