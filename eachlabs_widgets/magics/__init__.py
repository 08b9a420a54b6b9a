"""``%%eachgen`` and ``%eachgen``: EachLabs image generation from notebook cells.

``%load_ext eachlabs_widgets`` registers them (see ``%%eachgen?``); settings are traitlets on
:class:`EachGen` (``%config EachGen.default_model = "…"``).

A front end: it may import every wing and ``_api``, ``_doctor`` and ``_login``, and loads
``panel`` by name when ``%eachgen panel`` asks for it.
"""

from __future__ import annotations

from typing import Any

from ._magic import EachGen, EachGenError, EachGenInterrupted

__all__ = [
    "EachGen",
    "EachGenError",
    "EachGenInterrupted",
    "load_ipython_extension",
    "unload_ipython_extension",
]

_ATTR = "_eachgen_magics"


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics and their tab completion on ``ipython`` (once)."""
    if getattr(ipython, _ATTR, None) is not None:
        return
    from ._complete import make_matcher

    magics = EachGen(ipython)
    ipython.register_magics(magics)
    matcher = make_matcher(magics.slugs, magics.schema_for, lambda: magics.default_model)
    completer = getattr(ipython, "Completer", None)
    if completer is not None:
        completer.custom_matchers.append(matcher)
    magics._matcher = matcher
    setattr(ipython, _ATTR, magics)
    from ._preload import preload_when_idle

    preload_when_idle(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove what :func:`load_ipython_extension` added."""
    magics = getattr(ipython, _ATTR, None)
    if magics is None:
        return
    manager = ipython.magics_manager
    for kind in ("line", "cell"):
        manager.magics[kind].pop("eachgen", None)
    manager.registry.pop(type(magics).__name__, None)
    if magics in ipython.configurables:
        ipython.configurables.remove(magics)
    completer = getattr(ipython, "Completer", None)
    matcher = getattr(magics, "_matcher", None)
    if completer is not None and matcher in completer.custom_matchers:
        completer.custom_matchers.remove(matcher)
    setattr(ipython, _ATTR, None)
