"""The panel's static copy: its results as plain HTML, for a saved, closed or exported notebook.

Each result is the same figure the magic's static output uses
(:func:`eachlabs_widgets._display.render.generation_bundle`: a thumbnail, the caption, links to the
files), newest first, so a notebook opened without a kernel, on GitHub or in an HTML export
shows what the panel made instead of a widget's class name.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .._display.render import generation_bundle

if TYPE_CHECKING:
    from .._generation import Generation

__all__ = ["SNAPSHOT_LIMIT", "snapshot_html"]

#: The newest results kept in the static copy (each is a small JPEG thumbnail).
SNAPSHOT_LIMIT = 24


def snapshot_html(generations: Sequence[Generation], model: str | None = None) -> str:
    """A heading and the figures of ``generations`` (newest first, at most SNAPSHOT_LIMIT)."""
    newest = list(reversed(generations))[:SNAPSHOT_LIMIT]
    count = len(generations)
    what = f"{count} result{'s' if count != 1 else ''}" if count else "no results yet"
    model_text = f" · {html.escape(model)}" if model else ""
    head = f"<div class='eachlabs-snapshot-head'><b>EachLabs panel</b>{model_text} · {what}</div>"
    figures = "".join(generation_bundle(g)["text/html"] for g in newest)
    more = (
        f"<div>… and {count - SNAPSHOT_LIMIT} earlier result(s) in the journal</div>"
        if count > SNAPSHOT_LIMIT
        else ""
    )
    return f"<div class='eachlabs-snapshot'>{head}{figures}{more}</div>"
