"""The panel's lineage: which run the form's next Generate is made from, and the runs a
result makes (Vary, Remix).

``FromChip`` sits above Generate while the form is marked as made from a run (Remix, Load
into form, Use as input, an image recalled): "from abcd1234 ×". The × forgets it, so the next
run is recorded as made from nothing.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from .._display.render import short_id
from .._generation import new_seeds

__all__ = ["VARY_COUNT", "FromChip", "from_html", "variations"]

#: How many runs Vary makes (``g.vary()``'s default too).
VARY_COUNT = 4


def from_html(parent: str, how: str = "from") -> str:
    """``from <code>abcd1234</code>`` (``how``: "remix of", …) with the whole id on hover: one
    short unit that does not wrap inside itself."""
    full = html.escape(parent, quote=True)
    return (
        f"<span class='eachlabs-from' title='made from {full}'>{html.escape(how)} "
        f"<code>{html.escape(short_id(parent))}</code></span>"
    )


def variations(inputs: dict[str, Any], n: int = VARY_COUNT) -> list[dict[str, Any]]:
    """``n`` copies of ``inputs``, each with a new seed (see ``new_seeds``); a model without an
    integer seed gets the inputs as they are, without a seed."""
    out = []
    for seed in new_seeds(inputs.get("seed"), n):
        varied = dict(inputs)
        if seed is None:
            varied.pop("seed", None)
        else:
            varied["seed"] = seed
        out.append(varied)
    return out


class FromChip(w.HBox):
    """ "from abcd1234 ×" above Generate: the run the next Generate is recorded as made from."""

    def __init__(self, on_forget: Callable[[], None]) -> None:
        self.text = w.HTML("")
        self.forget = w.Button(
            description="",
            icon="times",
            tooltip="forget it: the next run is not recorded as made from that run",
            layout=w.Layout(width="28px", height="24px", padding="0"),
        )
        self.forget.add_class("eachlabs-from-forget")
        self.forget.on_click(lambda _b: on_forget())
        super().__init__([self.text, self.forget])
        self.add_class("eachlabs-from-chip")
        self.layout.display = "none"

    def show(self, parent: str | None, how: str = "") -> None:
        """Mark the form as made from ``parent`` (``how``: "remix of", "loaded from"…;
        default "from"); None clears."""
        if not parent:
            self.text.value = ""
            self.layout.display = "none"
            return
        self.text.value = from_html(parent, how or "from")
        self.layout.display = None
