"""``%eachgen find`` and ``%eachgen recall``: the line forms of ``find()`` and ``recall()``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from IPython.core.error import UsageError

from .._exceptions import EachLabsError
from .._library import find, recall

__all__ = ["FIND_USAGE", "RECALL_USAGE", "find_line", "recall_line"]

FIND_USAGE = (
    'usage: %eachgen find ["WORDS"] [--model SLUG] [--starred | --unstarred] [--tag TAG] '
    "[--since DATE] [--limit N] [-o NAME]"
)
RECALL_USAGE = "usage: %eachgen recall PATH|ID [--model SLUG]"
_VALUED = ("--model", "--tag", "--since", "--limit", "-o")


def _options(
    tokens: Sequence[str], valued: Sequence[str], switches: Sequence[str], usage: str
) -> tuple[list[str], dict[str, Any]]:
    words: list[str] = []
    options: dict[str, Any] = {}
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        name, eq, value = token.partition("=")
        if name in valued:
            if not eq:
                if i >= len(tokens):
                    raise UsageError(f"{name} needs a value; {usage}")
                value = tokens[i]
                i += 1
            options[name] = value
        elif token in switches:
            options[token] = True
        elif token.startswith("-") and len(token) > 1:
            raise UsageError(f"unknown option {token}; {usage}")
        else:
            words.append(token)
    return words, options


def find_line(tokens: Sequence[str]) -> tuple[Any, str | None]:
    """The results of ``%eachgen find …`` and the name to store them under (``-o``)."""
    words, options = _options(tokens, _VALUED, ("--starred", "--unstarred"), FIND_USAGE)
    if options.get("--starred") and options.get("--unstarred"):
        raise UsageError("--starred and --unstarred exclude each other")
    starred = True if options.get("--starred") else False if options.get("--unstarred") else None
    limit_text = options.get("--limit", "50")
    if not str(limit_text).isdigit() or int(limit_text) < 1:
        raise UsageError(f"--limit takes a positive whole number, not {limit_text!r}")
    try:
        results = find(
            " ".join(words) or None,
            model=options.get("--model"),
            starred=starred,
            tag=options.get("--tag"),
            since=options.get("--since"),
            limit=int(limit_text),
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return results, options.get("-o")


def recall_line(shell: Any, tokens: Sequence[str]) -> Any:
    """``%eachgen recall PATH``: the next input becomes a ready ``%%eachgen`` cell."""
    from .._display.tables import TextView

    words, options = _options(tokens, ("--model",), (), RECALL_USAGE)
    if len(words) != 1:
        raise UsageError(RECALL_USAGE + " (quote a path with spaces)")
    try:
        recalled = recall(words[0], model=options.get("--model"))
    except (EachLabsError, ValueError, FileNotFoundError) as exc:
        raise UsageError(f"recall {words[0]}: {exc}") from None
    cell = recalled.cell()
    if shell is not None:
        shell.set_next_input(cell, replace=False)
    lines = [f"{recalled.model}, from {recalled.source}: the next cell holds it."]
    if recalled.parent:
        lines.append(f"  --parent {recalled.parent}: its runs are recorded as made from it")
    for name, why in recalled.dropped.items():
        lines.append(f"  not carried over: {name}: {why}")
    return TextView("\n".join(lines))
