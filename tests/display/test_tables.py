"""The tables the line magics print (settings, models, history) read in every theme and on a
narrow page."""

from __future__ import annotations

import re

from eachlabs_widgets._display.tables import Table


def test_a_table_uses_the_theme_s_colours_and_scrolls_when_too_wide():
    rows = [["journal", "/a/long/path" * 8, "env"]]
    table = Table(["setting", "value", "source"], rows, note="a note under the table")
    html = table.html()
    # every colour comes from JupyterLab's variables (a fallback may follow inside var())
    colours = re.findall(r"color\s*:\s*([^;'\"]+)", html)
    assert colours and all(c.strip().startswith("var(--jp-") for c in colours)
    assert "overflow-x:auto" in html and "overflow-wrap:break-word" in html
