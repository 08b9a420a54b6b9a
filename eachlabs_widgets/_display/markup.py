"""HTML outputs shown as written: no math typesetting of dollar amounts.

JupyterLab, Notebook and VS Code typeset text between two ``$`` signs of an HTML output as
LaTeX (MathJax): "$0.016 of $0.020 budget" became italic math that swallowed its spaces and ran
over the cards beside it. MathJax leaves alone an element with the class ``tex2jax_ignore``
(MathJax 2, and JupyterLab's own setting) or ``mathjax_ignore`` (MathJax 3's default). Widgets
need nothing: an ipywidgets ``HTML`` view is never typeset.
"""

from __future__ import annotations

__all__ = ["NO_MATH", "as_written"]

#: The classes that keep MathJax out of an element and everything in it.
NO_MATH = "tex2jax_ignore mathjax_ignore"


def as_written(html: str) -> str:
    """``html`` inside an element that math typesetting skips (shown as written)."""
    return f"<div class='{NO_MATH}'>{html}</div>"
