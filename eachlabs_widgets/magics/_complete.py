"""Tab completion on ``%%eachgen`` / ``%eachgen`` lines: model slugs, ``--input`` names of the
chosen model, and allowed values. :func:`candidates` is pure; :func:`make_matcher` adapts it to
IPython's completer (Matcher API v2)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._display.cellsyntax import OWN_FLAGS, OWN_VALUED
from .._display.render import EMBED_MODES

__all__ = ["SUBCOMMANDS", "candidates", "make_matcher", "signature_of"]

#: What the magic's own options do, shown beside them.
OWN_HELP = {
    "-o": "store the result as NAME",
    "--out": "store the result as NAME",
    "--model": "the model(s), a,b,c",
    "--timeout": "seconds to wait for each prediction",
    "--embed": "thumbnail | full | none",
    "--output-dir": "save outputs here ('' does not save)",
    "--force": "run even if an identical result exists",
    "--background": "return at once; the card keeps updating",
    "--emulator": "use the embedded emulator",
}

SUBCOMMANDS = (
    "models",
    "schema",
    "history",
    "resume",
    "config",
    "panel",
    "login",
    "doctor",
    "find",
    "recall",
)
_LINE = re.compile(r"^\s*(%%?)eachgen(\s.*)?$", re.DOTALL)

Slugs = Callable[[], Sequence[str]]
Schema = Callable[[str], Mapping[str, Any] | None]


def _comma_part(fragment: str, values: Sequence[str]) -> list[str]:
    """Values for the last part of a comma list, each returned as the whole fragment."""
    head, _, last = fragment.rpartition(",")
    prefix = head + "," if head or fragment.startswith(",") else ""
    return [prefix + v for v in values if v.startswith(last)]


def _model_of(words: Sequence[str], default_model: str) -> list[str]:
    for i, word in enumerate(words):
        if word == "--model" and i + 1 < len(words):
            return [m for m in words[i + 1].split(",") if m]
        if word.startswith("--model="):
            return [m for m in word[8:].split(",") if m]
    if words and not words[0].startswith("-") and words[0] not in SUBCOMMANDS:
        return [m for m in words[0].split(",") if m]
    return [default_model] if default_model else []


def candidates(
    text_until_cursor: str, *, slugs: Slugs, schema: Schema, default_model: str = ""
) -> tuple[str, list[str]] | None:
    """``(fragment, completions)`` for an eachgen line, or None for any other line.

    ``fragment`` is the end of ``text_until_cursor`` that each completion replaces.
    """
    found = _typed_candidates(
        text_until_cursor, slugs=slugs, schema=schema, default_model=default_model
    )
    return None if found is None else (found[0], found[1])


def _typed_candidates(
    text_until_cursor: str, *, slugs: Slugs, schema: Schema, default_model: str = ""
) -> tuple[str, list[str], Mapping[str, Mapping[str, Any]]] | None:
    """:func:`candidates`, with the inputs of the line's model(s) it looked up (none when it
    needed none: completing a slug never asks for a schema)."""
    match = _LINE.match(text_until_cursor)
    if match is None or match.group(2) is None:
        return None
    cell = match.group(1) == "%%"
    rest = match.group(2)
    words = rest.split()
    fragment = "" if rest[-1:].isspace() else words.pop()
    previous = words[-1] if words else None

    if not cell and not words and not fragment.startswith("-"):
        # the first word of the line magic: a subcommand or a model
        return (
            fragment,
            [s for s in SUBCOMMANDS if s.startswith(fragment)]
            + _comma_part(fragment, list(slugs())),
            {},
        )
    if not cell and words and words[0] in SUBCOMMANDS:
        if words[0] in ("schema", "panel") and len(words) == 1:
            return fragment, [s for s in slugs() if s.startswith(fragment)], {}
        return fragment, [], {}
    if cell and not words and not fragment.startswith("-"):
        return fragment, _comma_part(fragment, list(slugs())), {}

    # The schema helpers load jsonschema: imported at the first completion of an input, not
    # by %load_ext (completion runs on the shell's own thread).
    from .._schema.inputs import declared_type, enum_of, properties_of

    models = _model_of(
        words + ([fragment] if fragment.startswith("--model=") else []), default_model
    )
    props: dict[str, dict[str, Any]] = {}
    for model in models:
        for name, prop in properties_of(schema(model)).items():
            props.setdefault(name, prop)

    def values_for(option: str, typed: str) -> list[str]:
        if option == "--model":
            return _comma_part(typed, list(slugs()))
        if option == "--embed":
            return [m for m in EMBED_MODES if m.startswith(typed)]
        prop = props.get(option[2:]) or props.get(option[2:].replace("-", "_"))
        if prop is None:
            return []
        allowed = enum_of(prop)
        if allowed:
            return _comma_part(typed, [str(a) for a in allowed])
        if declared_type(prop) == "boolean":
            return _comma_part(typed, ["true", "false"])
        return []

    if fragment.startswith("--") and "=" in fragment:
        option, _, typed = fragment.partition("=")
        return fragment, [f"{option}={v}" for v in values_for(option, typed)], props
    if fragment.startswith("-"):
        # the model's inputs first, then the magic's own options
        names = []
        for name, prop in props.items():
            names.append(f"--{name}")
            if declared_type(prop) == "boolean":
                names.append(f"--no-{name}")
        names += [n for n in (*OWN_VALUED[1:], *OWN_FLAGS, "-o") if n not in names]
        return fragment, [n for n in names if n.startswith(fragment)], props
    if previous is not None and previous.startswith("--") and "=" not in previous:
        return fragment, values_for(previous, fragment), props
    return fragment, [], props


def signature_of(prop: Mapping[str, Any]) -> str:
    """``integer 1..4``, ``one of: square, landscape_4_3…``, ``boolean``: what a completion of
    a model input shows beside it."""
    from .._schema.inputs import declared_type, enum_of

    kind = declared_type(prop) or "any"
    allowed = enum_of(prop)
    if allowed:
        shown = ", ".join(str(a) for a in allowed[:6]) + ("…" if len(allowed) > 6 else "")
        return f"one of: {shown}"
    low, high = prop.get("minimum"), prop.get("maximum")
    if isinstance(low, (int, float)) and isinstance(high, (int, float)):
        return f"{kind} {low:g}..{high:g}"
    if isinstance(low, (int, float)):
        return f"{kind} ≥ {low:g}"
    if isinstance(high, (int, float)):
        return f"{kind} ≤ {high:g}"
    return kind


def make_matcher(slugs: Slugs, schema: Schema, default_model: Callable[[], str]) -> Any:
    """An IPython completion matcher (API v2) over :func:`candidates`."""
    from IPython.core.completer import SimpleCompletion, context_matcher

    @context_matcher()
    def eachgen_matcher(context: Any) -> dict[str, Any]:
        if context.cursor_line != 0 and context.full_text.lstrip().startswith("%%"):
            return {"completions": [], "suppress": False}
        try:
            found = _typed_candidates(
                context.text_until_cursor,
                slugs=slugs,
                schema=schema,
                default_model=default_model(),
            )
        except Exception:  # completion must never raise into the editor
            found = None
        if found is None:
            return {"completions": [], "suppress": False}
        fragment, words, props = found
        completions = []
        for word in words:
            name = word.split("=", 1)[0]
            prop = props.get(name[5:] if name.startswith("--no-") else name[2:])
            # IPython passes a matcher's ``type`` on to the frontend (JupyterLab shows it beside
            # the completion) but not a signature: the type says what the input takes.
            if word.startswith("-") and "=" not in word and prop is not None:
                completions.append(SimpleCompletion(word, type=f"input: {signature_of(prop)}"))
            elif word in OWN_HELP:
                completions.append(SimpleCompletion(word, type=f"option: {OWN_HELP[word]}"))
            else:
                completions.append(SimpleCompletion(word, type="eachgen"))
        return {
            "completions": completions,
            "matched_fragment": fragment,
            "suppress": bool(words),
            "ordered": True,
        }

    return eachgen_matcher
