"""``Shortcuts``: Ctrl/⌘+Enter in the panel generates; it also carries the panel's stylesheet
and, while the panel is shown, hides the panel's static copy (the notebook's saved snapshot).

An anywidget (an ES module shipped in ``static/``): stock ipywidgets cannot listen to keys.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import traitlets

__all__ = ["STATIC", "Shortcuts"]

STATIC = Path(__file__).parent / "static"


class Shortcuts(anywidget.AnyWidget):
    """Invisible; calls ``on_generate()`` when Ctrl/⌘+Enter is pressed inside its panel, and
    scrolls the newest run's card into sight when asked (:meth:`reveal_runs`).

    ``snapshot``: the CSS class of the panel's static copy; each live view adds a rule that
    hides the outputs carrying it, and removes the rule when the view goes away.
    """

    _esm = STATIC / "keys.js"
    _css = STATIC / "panel.css"

    snapshot = traitlets.Unicode("", help="The class of the static copy to hide.").tag(sync=True)

    def __init__(self, on_generate: Callable[[], Any]) -> None:
        super().__init__()
        self.on_generate = on_generate
        self.layout.width = "0px"
        self.layout.height = "0px"
        self.on_msg(self._message)

    def reveal_runs(self) -> None:
        """Scroll the page just enough to show the newest run's card (below a tall form it
        starts out of sight)."""
        self.send({"type": "reveal"})

    def _message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("event") == "generate":
            self.on_generate()
