"""Predictions run in a notebook cell: live cards on the kernel's loop, then the result.

- ``runs``: jobs run concurrently, each with a live card, then one static result in their place.
- ``run_display``: the foreground and background forms of a run, as ``%%eachgen``,
  ``generate()`` and ``resume`` show them.
- ``variations``: the runs of ``g.vary()`` and ``g.remix()`` with live cards (registered with
  the service's runner when this wing is imported).

Imports: ``_display`` (what is drawn), ``_service`` (the client, downloads, ``run_sync``),
``_generation`` and ``_exceptions``. The front ends (``_api``, ``magics``, ``panel``) stand above.
"""

from __future__ import annotations

from . import variations  # noqa: F401  (registers how runs made from a result are shown)
