"""Static tables (``%eachgen models | schema | history | config``, ``history()``): HTML and text.

Each is a small object with ``_repr_mimebundle_``, so it shows in any frontend and in a saved
notebook without widget state. Every text from the service or the user is HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from .._journal.journal import JournalEntry
from .._schema.category import model_category
from .._schema.inputs import declared_type, default_of, enum_of, properties_of, required_of
from .markup import as_written
from .render import MUTED

__all__ = [
    "History",
    "Table",
    "TextView",
    "config_table",
    "history_table",
    "models_table",
    "schema_table",
]


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


class Table:
    """A titled table with a plain-text twin."""

    def __init__(
        self, headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str = "", note: str = ""
    ) -> None:
        self.headers = list(headers)
        self.rows = [[_cell(v) for v in row] for row in rows]
        self.title = title
        self.note = note

    def column(self, name: str) -> list[str]:
        index = self.headers.index(name)
        return [row[index] for row in self.rows]

    def plain(self, width: int = 60) -> str:
        cut = [[v if len(v) <= width else v[: width - 1] + "…" for v in row] for row in self.rows]
        widths = [max([len(h)] + [len(r[i]) for r in cut]) for i, h in enumerate(self.headers)]
        lines = [self.title] if self.title else []
        lines.append(
            "  ".join(h.ljust(w) for h, w in zip(self.headers, widths, strict=True)).rstrip()
        )
        lines.append("  ".join("-" * w for w in widths))
        lines += [
            "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cut
        ]
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)

    def html(self) -> str:
        head = "".join(f"<th style='text-align:left'>{html.escape(h)}</th>" for h in self.headers)
        body = "".join(
            "<tr>"
            + "".join(
                # break-word, not anywhere: a long value still wraps, but short words
                # ("success", "integer") keep the column wide enough to stay whole
                f"<td style='text-align:left;vertical-align:top;overflow-wrap:break-word'>"
                f"{html.escape(v)}</td>"
                for v in row
            )
            + "</tr>"
            for row in self.rows
        )
        title = (
            f"<div style='font-weight:600'>{html.escape(self.title)}</div>" if self.title else ""
        )
        # The theme's muted text colour (a fixed grey is unreadable in a dark theme); a page
        # narrower than the table scrolls it rather than clipping its last column.
        note = f"<div style='color:{MUTED}'>{html.escape(self.note)}</div>" if self.note else ""
        table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        return f"{title}<div style='overflow-x:auto'>{table}</div>{note}"

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/plain": self.plain(), "text/html": as_written(self.html())}

    def __repr__(self) -> str:
        return self.plain()


class TextView:
    """A few lines of text (HTML-escaped in the HTML form)."""

    def __init__(self, text: str, colour: str = "") -> None:
        self.text = text
        self.colour = colour

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        style = f"color:{self.colour};" if self.colour else ""
        return {
            "text/plain": self.text,
            "text/html": as_written(
                f"<pre style='{style}white-space:pre-wrap'>{html.escape(self.text)}</pre>"
            ),
        }

    def __repr__(self) -> str:
        return self.text


def models_table(models: Sequence[Mapping[str, Any]], name: str | None = None) -> Table:
    """The catalogue: slug, title, category, output type."""
    rows = [
        [m.get("slug"), m.get("title"), model_category(m), m.get("output_type")] for m in models
    ]
    what = f" matching {name!r}" if name else ""
    return Table(
        ["slug", "title", "category", "output"],
        rows,
        title=f"{len(rows)} model(s){what}",
        note="Parameters of one: %eachgen schema SLUG",
    )


def _allowed(prop: Mapping[str, Any]) -> str:
    allowed = enum_of(prop)
    if allowed:
        return ", ".join(str(a) for a in allowed)
    lo, hi = prop.get("minimum"), prop.get("maximum")
    if lo is not None or hi is not None:
        return f"{'' if lo is None else lo}..{'' if hi is None else hi}"
    return ""


def schema_table(model: Mapping[str, Any]) -> Table:
    """One model's inputs: name, type, default, allowed values, description."""
    schema = model.get("request_schema") or {}
    required = set(required_of(schema))
    rows = []
    for name, prop in properties_of(schema).items():
        default = default_of(prop)
        rows.append(
            [
                name + (" *" if name in required else ""),
                declared_type(prop) or "any",
                "" if default is None else default,
                _allowed(prop),
                " ".join(str(prop.get("description") or "").split()),
            ]
        )
    slug = str(model.get("slug") or "")
    title = f"{slug} — {model.get('title')}" if model.get("title") else slug
    return Table(
        ["name", "type", "default", "allowed", "description"],
        rows,
        title=title,
        note=f"* required. Usage: %%eachgen {slug} --name value …",
    )


def history_table(entries: Sequence[JournalEntry]) -> Table:
    """Recorded predictions, newest first."""
    rows = []
    for e in entries:
        prompt = " ".join((e.prompt or "").split())
        rows.append(
            [
                e.id,
                e.model + (" (emulator)" if e.emulator else ""),
                # The service's last word, and that a cancel of it is pending (not "cancelled":
                # only the service says that).
                e.status + (" · cancel requested" if e.cancel_requested else ""),
                e.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
                prompt[:60],
                len(e.files),
            ]
        )
    return Table(
        ["id", "model", "status", "created", "prompt", "files"],
        rows,
        title=f"{len(rows)} prediction(s)",
        note="Pick one up again: %eachgen resume ID",
    )


def config_table(settings: Sequence[tuple[str, Any, str]]) -> Table:
    """Settings as ``(name, value, where it comes from)``; never holds the key itself."""
    return Table(["setting", "value", "source"], settings, title="eachgen settings")


class History(list[JournalEntry]):
    """What ``history()`` returns: a list of entries that shows as a table in a notebook."""

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle: dict[str, Any] = history_table(self)._repr_mimebundle_()
        return bundle
