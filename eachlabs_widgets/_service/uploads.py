"""Uploaded input files: what was uploaded for a trainer, deleting it, and upload progress.

Training photos are private data, and an uploaded file is public until it expires (180 days
unless asked otherwise) or is deleted (API.md, "Upload"). So the files uploaded for a trainer
are registered here when they go up and deleted (``DELETE /v1/files/{id}``) once the trainer
ends; whatever is still registered when the interpreter exits (a run left in the background)
is deleted then. Pure bookkeeping and a progress wrapper; the requests are the client's.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "PROGRESS_FROM",
    "Progress",
    "Uploaded",
    "file_id_of",
    "forget",
    "pending",
    "register",
    "registered_in",
]

#: Uploads at least this large show a progress bar (in a terminal).
PROGRESS_FROM = 8_000_000
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Uploaded:
    """One uploaded file: its public URL, and its id (``None`` when the presign answer gave
    none: it cannot be deleted then). ``base_url`` and ``api_key`` say where to delete it."""

    url: str
    id: str | None
    base_url: str = ""
    api_key: Any = None  # a Secret, never shown

    def __repr__(self) -> str:
        return f"Uploaded({self.url!r}, id={self.id!r})"


def file_id_of(url_or_id: str) -> str:
    """The file id in an upload's public URL (``…/uploads/<id>.png`` → ``<id>``), or the text
    itself when it is not a URL. Raises ``ValueError`` for empty text."""
    text = url_or_id.strip()
    if not text:
        raise ValueError("give an upload's public URL or its id")
    if "://" not in text:
        return text
    name = urlsplit(text).path.rstrip("/").rsplit("/", 1)[-1]
    if not name:
        raise ValueError(f"{url_or_id!r} names no file")
    return name.split(".", 1)[0]


_lock = threading.Lock()
_pending: dict[str, Uploaded] = {}  # public URL -> upload made for a trainer, not yet deleted
_exit_hook: list[Callable[[list[Uploaded]], None]] = []


def register(upload: Uploaded, at_exit: Callable[[list[Uploaded]], None]) -> None:
    """Remember ``upload`` for deletion once its trainer ends (or at exit, by ``at_exit``)."""
    if upload.id is None:
        return
    with _lock:
        _pending[upload.url] = upload
        if not _exit_hook:
            import atexit

            _exit_hook.append(at_exit)
            atexit.register(_delete_at_exit)


def registered_in(values: Iterable[Any]) -> list[Uploaded]:
    """The registered uploads whose URL is among ``values`` (a payload's values)."""
    with _lock:
        return [_pending[v] for v in values if isinstance(v, str) and v in _pending]


def forget(uploads: Iterable[Uploaded]) -> None:
    """Stop tracking ``uploads`` (deleted, or kept on purpose)."""
    with _lock:
        for upload in uploads:
            _pending.pop(upload.url, None)


def pending() -> list[Uploaded]:
    """Every upload still waiting for deletion."""
    with _lock:
        return list(_pending.values())


def _delete_at_exit() -> None:
    left = pending()
    if left and _exit_hook:
        try:
            _exit_hook[0](left)
        except Exception as exc:  # the interpreter is going: say it, never raise
            print(
                f"eachlabs_widgets: could not delete {len(left)} upload(s): {exc}", file=sys.stderr
            )


class Progress:
    """An upload body sent in chunks, with a progress bar when ``show`` (tqdm on stderr).

    Iterable again for a retry. The caller sets ``Content-Length`` (a presigned PUT takes no
    chunked body).
    """

    def __init__(self, data: bytes, label: str, show: bool) -> None:
        self.data = data
        self.label = label
        self.show = show

    async def __aiter__(self) -> AsyncIterator[bytes]:
        bar = None
        if self.show:
            from tqdm import tqdm

            bar = tqdm(
                total=len(self.data),
                unit="B",
                unit_scale=True,
                desc=f"uploading {self.label}",
                file=sys.stderr,
                leave=False,
            )
        try:
            view = memoryview(self.data)
            for start in range(0, len(view), _CHUNK):
                chunk = bytes(view[start : start + _CHUNK])
                yield chunk
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()


def show_progress(size: int, wanted: bool | None) -> bool:
    """A bar for a large upload in a terminal (``wanted`` None), or as ``wanted`` says; never
    when stderr is not a terminal and nobody asked (logs, notebooks stay quiet)."""
    if wanted is not None:
        return wanted
    isatty = getattr(sys.stderr, "isatty", None)
    return size >= PROGRESS_FROM and bool(isatty and isatty())
