"""The text of a ``%%eachgen`` cell: the magic's own option spelling, tokens, prompts and
``{name}`` fields. Pure: no I/O, no IPython state beyond ``UsageError``.

One home for what the magic reads and what the panel writes (its "Copy as %%eachgen"), so the
two always spell options the same way.
"""

from __future__ import annotations

import json
import re
import shlex
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from IPython.core.error import UsageError

__all__ = [
    "HELP_FLAGS",
    "INPUT_PREFIX",
    "OWN_FLAGS",
    "OWN_VALUED",
    "ModelOption",
    "Split",
    "fill",
    "fill_value",
    "plain_line",
    "split_prompts",
    "split_tokens",
    "tokenize",
]

#: The magic's own options that take a value, and those that are flags.
OWN_VALUED = ("-o", "--out", "--model", "--timeout", "--embed", "--output-dir", "--parent")
OWN_FLAGS = ("--force", "--background", "--emulator", "--yes")
#: Tokens that show the help wherever they stand on the line.
HELP_FLAGS = ("-h", "--help")
#: ``--input.NAME value`` always means the model input NAME, even one named like an option of
#: the magic's own (gpt-image's ``background``, say).
INPUT_PREFIX = "--input."
_SEPARATOR = re.compile(r"^[ \t]*---[ \t]*$", re.MULTILINE)
_FIELD = re.compile(r"\{\{|\}\}|\{([A-Za-z_][^{}]*)\}")


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


#: What word processors, chat apps and web pages put in place of the line's plain syntax.
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"  # hyphens, en/em dash, minus
_SPACES = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
#: What closes a value opened by a curly quote („…“ in German, “…” in English).
_CLOSING = {
    "\u201c": "\u201d\u201c",
    "\u201e": "\u201c\u201d",
    "\u2018": "\u2019\u2018",
    "\u201a": "\u2018\u2019",
}
_CURLY = "\u201c\u201d\u201e\u2018\u2019\u201a"
_OPTION_NAME = re.compile(r"[A-Za-z_][\w.-]*")


def plain_line(line: str) -> str:
    """The ``%%eachgen`` line with pasted typography read as the plain syntax it stands for:
    curly quotes (“ ” „ ‘ ’ ‚) that open and close a value as straight quotes, no-break and
    other wide spaces between tokens as spaces, invisible characters dropped, and a dash
    (– — ‐ −) starting an option as ``--`` (``-o``/``-h`` for one letter). Text inside quotes
    is kept as typed, and an apostrophe (``don’t``) stays a letter. The cell body is never
    passed here."""
    out: list[str] = []
    quote: str | None = None  # what closes the quotes we are in
    curly = False  # the quotes were curly: written out as straight double quotes
    start = True  # at the start of a token
    i = 0
    while i < len(line):
        c = line[i]
        if quote is not None:
            if c == quote or (curly and c in quote):
                out.append('"' if curly else c)
                quote, curly = None, False
            elif c == "\\" and quote == '"' and i + 1 < len(line):
                out.append(line[i : i + 2])
                i += 1
            elif curly and c in '"\\':
                out.append("\\" + c)  # content of a curly-quoted value, kept as typed
            else:
                out.append(c)
            i += 1
            continue
        if c in "\"'":
            quote, start = c, False
            out.append(c)
        elif c in _CLOSING and (start or out[-1:] == ["="]):  # a value: x or --name=x
            quote, curly, start = _CLOSING[c], True, False
            out.append('"')
        elif c.isspace() or c in _SPACES:
            out.append(" ")
            start = True
        elif c in _INVISIBLE:
            pass
        elif start and c in _DASHES + "-" and any(d in _DASHES for d in _dash_run(line, i)):
            run = _dash_run(line, i)
            name = _OPTION_NAME.match(line, i + len(run))
            after = line[i + len(run) : i + len(run) + 1]
            if name is not None:  # an option: -o and -h are the only one-dash ones
                out.append("-" if name.group() in ("o", "h") else "--")
            elif len(run) == 1 and after.isdigit():
                out.append("-")  # a minus sign before a number
            else:
                out.append(c)
                i += 1
                start = False
                continue
            i += len(run)
            start = False
            continue
        else:
            out.append(c)
            start = False
        i += 1
    return "".join(out)


def _dash_run(line: str, at: int) -> str:
    end = at
    while end < len(line) and line[end] in _DASHES + "-":
        end += 1
    return line[at:end]


def tokenize(line: str) -> list[str]:
    """The line's tokens, as a POSIX shell splits them, after :func:`plain_line`.

    Raises ``UsageError`` when the quotes do not pair up, naming curly quotes if any are left.
    """
    try:
        return shlex.split(plain_line(line), posix=True)
    except ValueError as exc:
        hint = "check the quotes"
        if any(q in line for q in _CURLY):
            hint = "curly quotes: use straight quotes (' or \") around a value"
        raise UsageError(f"cannot parse the line: {exc} ({hint})") from None


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
