"""What became of each cancel this process asked for, as the service said it.

A cancel the service accepts is a request, not an outcome (API.md, "Cancel"): the prediction
may still complete, and is billed then. The client records here what it learned of each
cancel, so the front ends (the magic, ``generate()``, the panel, batches) say what happened
instead of assuming "not billed". Bounded: the oldest outcomes are forgotten first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable

__all__ = ["CANCELLED", "FAILED", "FINISHED", "REFUSED", "REQUESTED", "outcome", "record", "say"]

CANCELLED = "cancelled"  # the service says so: not billed
REQUESTED = "cancel requested"  # accepted; how it ends is not known yet
FINISHED = "finished anyway"  # it completed before the cancel took effect: billed, saved
FAILED = "failed"  # it ended in an error after the cancel was accepted
REFUSED = "not cancelled"  # the cancel itself failed or was not answered
KEEP = 1000

_outcomes: OrderedDict[str, str] = OrderedDict()
_lock = threading.Lock()


def record(prediction_id: str, what: str) -> None:
    """Remember ``what`` (one of this module's words) for ``prediction_id``."""
    with _lock:
        _outcomes[prediction_id] = what
        _outcomes.move_to_end(prediction_id)
        while len(_outcomes) > KEEP:
            _outcomes.popitem(last=False)


def outcome(prediction_id: str) -> str | None:
    """What became of the cancel of ``prediction_id``; None if none was asked here."""
    with _lock:
        return _outcomes.get(prediction_id)


def say(ids: Iterable[str]) -> str:
    """One sentence on the cancels of ``ids``: "not billed" only for those the service said
    are cancelled."""
    ids = list(ids)
    groups: dict[str, list[str]] = {}
    for prediction_id in ids:
        groups.setdefault(outcome(prediction_id) or REFUSED, []).append(prediction_id)
    parts = []
    for what, text in (
        (CANCELLED, "cancelled on the service, not billed"),
        (
            REQUESTED,
            "cancel requested (the service may still finish it and bill it; its "
            "files are saved then; resume(id) settles it)",
        ),
        (FINISHED, "finished before the cancel took effect (billed; files saved)"),
        (FAILED, "ended in an error after the cancel"),
        (REFUSED, "could not be cancelled: it may still run and be billed; resume(id) picks it up"),
    ):
        found = groups.get(what)
        if found:
            parts.append(f"{', '.join(found)}: {text}")
    return "; ".join(parts)
