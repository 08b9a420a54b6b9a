"""The panel: a searchable model picker, a generated form, live runs, gallery and history.

``Panel`` is the widget; the pure helpers (the text of a run, the catalogue filter, zipping
training images, finding a trainer's LoRA) are exported for tests and for other front ends.

A front end: it may import every wing, ``forms`` and ``_api``; nothing but the package's top
imports it.
"""

from ._catalog import filter_models, model_label
from ._panel import Panel
from ._text import eachgen_cell, python_call
from ._training import lora_inputs, lora_url, zip_folder, zip_images

__all__ = [
    "Panel",
    "eachgen_cell",
    "filter_models",
    "lora_inputs",
    "lora_url",
    "model_label",
    "python_call",
    "zip_folder",
    "zip_images",
]
