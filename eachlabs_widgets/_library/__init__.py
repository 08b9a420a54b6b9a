"""Finding work again: search, stars and tags, recall of a picture's settings, export.

- ``finding``: ``find()`` (the journal's full-text search, as a grid of results), ``star()``,
  ``tag()``, ``untag()``, and what they take as a target (a ``Generation``, an id, a short id).
- ``recall``: ``recall()``: the settings of a picture (ours, A1111, ComfyUI, InvokeAI) or of
  a prediction, fitted to a model's schema, ready to run again.
- ``export``: ``export()``: images, Hugging Face ``imagefolder`` metadata and a contact sheet,
  as a folder or one zip.

A front end: it may import every wing below it (``_schema``, ``_journal``, ``_display``,
``_generation``, ``_service``) and the panel's pure text helpers; the package's top, the
magics and the panel import it.
"""

from .export import export
from .finding import find, star, tag, untag
from .recall import Recalled, recall

__all__ = ["Recalled", "export", "find", "recall", "star", "tag", "untag"]
