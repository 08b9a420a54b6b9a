"""``find()``, ``star()``, ``tag()`` and ``untag()``: the journal's search and marks.

The search runs in the journal (an SQLite FTS5 index, see ``_journal.search``); this module
turns its rows into ``Generation`` s read from the saved files, shown as one grid.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from .._display.render import Results
from .._generation import Generation, Output
from .._journal.journal import JournalEntry, PredictionNotFound, default_journal
from .._journal.marks import clean_tags
from .._settings import EMULATOR

__all__ = ["find", "prediction_id_of", "star", "tag", "untag"]

#: The shortest prefix looked up as a short id.
SHORT_ID_MIN = 4


class Found(Results):
    """What :func:`find` returns: a grid of results (iterating gives the ``Generation`` s,
    ``None`` for one whose files are gone) that also keeps the journal ``entries``."""

    def __init__(self, entries: list[JournalEntry]) -> None:
        self.entries = entries
        super().__init__([(_label(e), _generation_or_error(e)) for e in entries])

    def __repr__(self) -> str:
        return f"<Results of find(): {len(self.entries)} prediction(s)>"


def _label(entry: JournalEntry) -> str:
    star = "★ " if entry.starred else ""
    return f"{star}{entry.model} · {entry.id[:8]}"


def _generation_or_error(entry: JournalEntry) -> Generation | BaseException:
    """The entry's ``Generation`` from the files still on disk; an error saying which are gone
    when none is left."""
    present = [(url, Path(f)) for url, f in _pairs(entry) if Path(f).is_file()]
    if entry.files and not present:
        return FileNotFoundError(
            f"{entry.id}: its files are no longer on disk (first: {entry.files[0]})"
        )
    outputs = []
    for url, path in present:
        try:
            outputs.append(Output(url=url, data=path.read_bytes()))
        except OSError as exc:
            return exc
    return Generation(
        id=entry.id,
        model=entry.model,
        status=entry.status,
        inputs=dict(entry.inputs),
        urls=list(entry.urls),
        metrics=dict(entry.metrics),
        outputs=outputs,
        created_at=entry.created_at,
        emulated=bool(entry.emulator) or entry.base_url == EMULATOR,
        paths=[p for _, p in present],
        reused=False,  # a past run shown again: it cost what the journal says, not $0
        output=list(entry.urls),
    )


def _pairs(entry: JournalEntry) -> list[tuple[str, str]]:
    urls = list(entry.urls) + [""] * max(0, len(entry.files) - len(entry.urls))
    return list(zip(urls, entry.files, strict=False))


def _since(since: datetime | date | timedelta | str | None) -> datetime | None:
    if since is None:
        return None
    if isinstance(since, timedelta):
        return datetime.now(timezone.utc) - since
    if isinstance(since, str):
        try:
            since = datetime.fromisoformat(since.strip())
        except ValueError:
            raise ValueError(
                f"since: {since!r} is not a date; give an ISO date ('2026-12-01', "
                "'2026-12-01T09:30'), a datetime or a timedelta (that long ago)"
            ) from None
    if not isinstance(since, datetime):  # a date: from its start, local time
        since = datetime(since.year, since.month, since.day)
    if since.tzinfo is None:
        since = since.astimezone()  # a naive time is the user's local time
    return since


def find(
    text: str | None = None,
    *,
    model: str | None = None,
    starred: bool | None = None,
    tag: str | None = None,
    since: datetime | date | timedelta | str | None = None,
    limit: int | None = 50,
) -> Results:
    """The successful predictions whose prompt or negative prompt holds every word of ``text``.

    Words match as words and word prefixes, case and accents aside (``"red fo"`` finds "a Red
    Fox"); results come best match first, or newest first without ``text``. ``model`` keeps one
    model's; ``starred=True`` the starred ones (False the others); ``tag`` those with that tag
    (case aside); ``since`` those made at or after a datetime, a date, an ISO text, or a
    timedelta ago; ``limit`` caps the count (None: all).

    Returns :class:`Results`: a grid in a notebook; iterating gives the ``Generation`` s (read
    from the saved files; ``None`` where they are gone), ``.entries`` the journal entries.
    Raises ``ValueError`` for a ``since`` that is not a date and :class:`JournalError` when
    the journal cannot be read.
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit: {limit!r} is not a positive whole number (or None for all)")
    entries = default_journal().search(
        text,
        model=model,
        starred=starred,
        tag=tag,
        since=_since(since),
        status="success",
        limit=limit,
    )
    return Found(entries)


def prediction_id_of(target: Any) -> str:
    """The journal's id of ``target``: a ``Generation`` or journal entry (its ``id``), an id,
    or a unique prefix of one (a short id, at least 4 characters). Raises
    :class:`PredictionNotFound` when the journal has no such prediction or the prefix starts
    several (naming them), ``TypeError`` for anything else."""
    if isinstance(target, (Generation, JournalEntry)):
        return target.id
    if not isinstance(target, str) or not target.strip():
        raise TypeError(
            "a target is a Generation, a journal entry, a prediction id or a short id, "
            f"not {type(target).__name__}"
        )
    text = target.strip()
    journal = default_journal()
    matches = journal.resolve(text)
    if matches and (matches[0] == text or len(text) >= SHORT_ID_MIN):
        if len(matches) == 1 or matches[0] == text:
            return matches[0]
        shown = ", ".join(matches[:5]) + (" …" if len(matches) > 5 else "")
        raise PredictionNotFound(
            f"{text!r} starts {len(matches)} predictions ({shown}); give more of the id",
            prediction_id=text,
        )
    raise PredictionNotFound(
        f"prediction {text!r} is not in the journal ({journal.path})", prediction_id=text
    )


def star(target: Any, on: bool = True) -> bool:
    """Star (``on=True``) or unstar a prediction; returns whether it is starred now.

    ``target``: a ``Generation``, a journal entry, a prediction id or a short id. Kept in the
    journal (``JournalEntry.starred``), so it lasts across sessions. Raises
    :class:`PredictionNotFound` for an unknown target.
    """
    pid = prediction_id_of(target)
    result = default_journal().mark(pid, starred=bool(on))
    if result is None:
        raise PredictionNotFound(f"prediction {pid!r} is not in the journal", prediction_id=pid)
    return result[0]


def tag(target: Any, *tags: str) -> list[str]:
    """Add ``tags`` to a prediction (each once, case aside); returns its tags now.

    ``target`` as for :func:`star`. Raises ``ValueError`` for an empty tag or none given,
    ``TypeError`` for a tag that is not a string, :class:`PredictionNotFound` for an unknown
    target.
    """
    return _retag(target, tags, add=True)


def untag(target: Any, *tags: str) -> list[str]:
    """Remove ``tags`` from a prediction (case aside); returns its tags now."""
    return _retag(target, tags, add=False)


def _retag(target: Any, tags: Iterable[str], *, add: bool) -> list[str]:
    cleaned = clean_tags(tags)
    if not cleaned:
        raise ValueError("name at least one tag: tag(target, 'hero')")
    pid = prediction_id_of(target)
    journal = default_journal()
    result = journal.mark(pid, add=cleaned) if add else journal.mark(pid, remove=cleaned)
    if result is None:
        raise PredictionNotFound(f"prediction {pid!r} is not in the journal", prediction_id=pid)
    return result[1]
