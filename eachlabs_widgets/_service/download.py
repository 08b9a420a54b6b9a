"""Downloading output files: kept in memory while small, else streamed to a staging file.

An output arrives chunk by chunk. Up to :data:`SPOOL_BYTES` it stays in memory (an image of a
few MB: it is held whole afterwards anyway, and a staging file would cost two trips to a worker
thread and a file made, read back and removed); past that it goes on into a hidden ``.part``
file beside where it will be saved (the system's temp folder when that folder cannot be
written), so at most :data:`SPOOL_BYTES` of it is in memory while it arrives, and the saved
file is moved into place whole. An endless or huge answer stops at the size cap
(``EACHLABS_MAX_DOWNLOAD_MB``, default 200). The caller's deadline covers the requests in
flight, not only the wait between them.

Every failure is an :class:`OutputDownloadError` naming the prediction: the prediction itself
succeeded and is in the journal, so ``resume(id)`` can fetch the files again while the
service's links are valid.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import os
import re
import tempfile
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import httpx

from .._exceptions import APIError, ConfigurationError, OutputDownloadError, TransportError
from .._journal.files import make_temp
from .http import HTTP
from .retry import Attempt
from .timeouts import within as bounded

__all__ = [
    "DEFAULT_MAX_DOWNLOAD_MB",
    "Staged",
    "download_all",
    "download_to_file",
    "max_download_bytes",
    "off_loop",
    "read_all",
    "read_staged",
    "staging_file",
]

DEFAULT_MAX_DOWNLOAD_MB = 200.0
#: The most of one download kept in memory (bytes): more goes to a staging file.
SPOOL_BYTES = 8 * 1024 * 1024
MAX_DOWNLOAD_ENV = "EACHLABS_MAX_DOWNLOAD_MB"
PART_PREFIX = ".eachlabs-"
PART_SUFFIX = ".part"
T = TypeVar("T")
#: How many times a download whose body broke off is tried (the request policy may allow fewer).
BODY_ATTEMPTS = 3
P = ParamSpec("P")


def max_download_bytes() -> int:
    """The size cap of one output file, from ``EACHLABS_MAX_DOWNLOAD_MB`` (default 200 MB).

    Raises :class:`ConfigurationError` when the variable is not a positive number.
    """
    raw = os.environ.get(MAX_DOWNLOAD_ENV, "").strip()
    if not raw:
        return int(DEFAULT_MAX_DOWNLOAD_MB * 1_000_000)
    try:
        megabytes = float(raw)
    except ValueError:
        megabytes = -1.0
    if not megabytes > 0 or megabytes == float("inf"):
        raise ConfigurationError(
            f"{MAX_DOWNLOAD_ENV} must be a positive number of megabytes, not {raw!r}"
        )
    return int(megabytes * 1_000_000)


@dataclass
class Staged:
    """One downloaded output, not yet saved: in its staging file (``path``), or, when small,
    in memory (``data``, and ``path`` is ``None``)."""

    url: str
    path: Path | None
    content_type: str | None
    size: int
    data: bytes | None = None

    def discard(self) -> None:
        if self.path is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()


class _Sink:
    """Where a download's bytes go: memory up to :data:`SPOOL_BYTES`, then a staging file in
    ``folder`` (made off the loop by :meth:`spill`, when :attr:`full`)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.size = 0
        self.path: Path | None = None
        self._chunks: list[bytes] = []
        self._handle: Any = None

    @property
    def full(self) -> bool:
        """Past what memory keeps, and not yet in a file."""
        return self._handle is None and self.size > SPOOL_BYTES

    def write(self, chunk: bytes) -> None:
        if self._handle is not None:
            self._handle.write(chunk)
        else:
            self._chunks.append(chunk)
        self.size += len(chunk)

    async def spill(self) -> None:
        """Go on in a staging file, with what memory holds written first."""
        fd, self.path = await _staging_off_loop(self.folder)
        self._handle = os.fdopen(fd, "wb")
        for chunk in self._chunks:
            self._handle.write(chunk)
        self._chunks = []

    def restart(self) -> None:
        """Forget what came: the download starts again from its first byte."""
        self._chunks, self.size = [], 0
        if self._handle is not None:
            self._handle.seek(0)
            self._handle.truncate()

    def finish(self, staged: Staged) -> None:
        """Hand what came to ``staged``. No fsync: saving syncs the file it moves into place;
        an unsaved one is read back and removed."""
        staged.size = self.size
        if self._handle is not None:
            self._handle.close()
            staged.path = self.path
        else:
            staged.data = b"".join(self._chunks)
            self._chunks = []

    def discard(self) -> None:
        self._chunks = []
        if self._handle is not None:
            with contextlib.suppress(OSError):
                self._handle.close()
        if self.path is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()


def staging_file(folder: Path | None) -> tuple[int, Path]:
    """A new, empty, hidden ``.part`` file in ``folder`` (created if needed), or in the system's
    temp folder when ``folder`` is ``None`` or cannot be written. Returns its open descriptor
    and its path."""
    if folder is not None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, name = make_temp(folder, PART_PREFIX, PART_SUFFIX)
            return fd, Path(name)
        except OSError:
            pass  # a full disk, a read-only or missing folder: saving will say so
    fd, name = tempfile.mkstemp(prefix=PART_PREFIX, suffix=PART_SUFFIX)
    return fd, Path(name)


def shown_url(url: str) -> str:
    """``url`` without its query and fragment: signed links carry credentials there."""
    if url.startswith("data:"):
        return "a data: URI"
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _host_message(error: APIError) -> str:
    """The file host's own words: object stores answer XML (``<Message>Request has
    expired</Message>``), which is shown as its message, not as a page of markup."""
    text = error.message
    if text.lstrip().startswith("<"):
        found = re.search(r"<Message>(.*?)</Message>", text, re.DOTALL)
        code = re.search(r"<Code>(.*?)</Code>", text, re.DOTALL)
        words = [m.group(1).strip() for m in (code, found) if m]
        text = ": ".join(words) or "an error page"
    return f"{error.status_code} {text}"[:300]


async def within(deadline: float | None, work: Awaitable[T]) -> T:
    """``work``, cancelled when ``deadline`` (``time.monotonic()`` seconds) passes:
    ``asyncio.TimeoutError`` then. Works on Python 3.10 (no ``asyncio.timeout`` there)."""
    return await bounded(None if deadline is None else deadline - time.monotonic(), work)


async def download_to_file(
    http: HTTP,
    url: str,
    *,
    folder: Path | None,
    prediction_id: str | None = None,
    max_bytes: int | None = None,
    deadline: float | None = None,
) -> Staged:
    """Download the output at ``url`` (``http(s)`` or ``data:``): into memory while it is at
    most :data:`SPOOL_BYTES`, else into a staging file.

    ``folder`` is where the file will be saved (``None``: the system's temp folder), and where
    a staging file goes; ``max_bytes`` caps its size (default :func:`max_download_bytes`);
    ``deadline`` is a ``time.monotonic()`` instant that bounds the whole download, requests in
    flight included. The API key is never sent to the file host. Raises
    :class:`OutputDownloadError`; a staging file is removed on any failure.
    """
    cap = max_download_bytes() if max_bytes is None else max_bytes
    staged = Staged(url=url, path=None, content_type=None, size=0)
    sink = _Sink(folder)
    try:
        if url.startswith("data:"):
            staged.content_type = _write_data_uri(url, sink, cap)  # in memory already
        else:
            await within(deadline, _fetch(http, url, sink, staged, cap))
        sink.finish(staged)
    except BaseException as exc:
        sink.discard()
        raise _download_error(exc, url, prediction_id, cap, deadline) from None
    return staged


async def _staging_off_loop(folder: Path | None) -> tuple[int, Path]:
    """:func:`staging_file` in a worker thread (creating a folder and a file can take
    milliseconds on a busy disk); a cancel removes the file the thread made."""
    task = asyncio.ensure_future(asyncio.to_thread(staging_file, folder))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(BaseException):
            fd, path = await task
            os.close(fd)
            path.unlink(missing_ok=True)
        raise


async def _fetch(http: HTTP, url: str, sink: _Sink, staged: Staged, cap: int) -> None:
    """The download, tried again from the start when its body breaks off or cannot be decoded
    (the request layer already retries failed connections and error answers)."""
    number = 0
    while True:
        number += 1
        try:
            await _stream(http, url, sink, staged, cap)
            return
        except httpx.HTTPError as exc:
            tries = min(http.retry.max_attempts, BODY_ATTEMPTS)
            if number >= tries:
                raise _Unreadable(f"{type(exc).__name__}: {exc}"[:200], number) from None
            sink.restart()
            await http._sleep(http.retry.delay(number, Attempt(transport_error=True)))


async def _stream(http: HTTP, url: str, sink: _Sink, staged: Staged, cap: int) -> None:
    response = await http.request("GET", url, auth=False, stream=True)
    try:
        staged.content_type = response.headers.get("content-type")
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise _TooLarge(int(declared))
        # Counted after decoding: a small gzip answer that inflates past the cap stops too.
        async for chunk in response.aiter_bytes():
            if sink.size + len(chunk) > cap:
                raise _TooLarge(None)
            sink.write(chunk)
            if sink.full:
                await sink.spill()
    finally:
        await response.aclose()


def _write_data_uri(url: str, sink: _Sink, cap: int) -> str | None:
    head, _, payload = url.partition(",")
    if len(payload) * 3 // 4 > cap:
        raise _TooLarge(None)
    if head.endswith(";base64"):
        try:
            data = base64.b64decode(re.sub(r"\s+", "", payload), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise _Malformed(f"the data: URI is not valid base64 ({exc})") from None
    else:
        data = urllib.parse.unquote_to_bytes(payload)
    sink.write(data)
    return head[5:].split(";")[0] or None


class _TooLarge(Exception):
    def __init__(self, declared: int | None) -> None:
        self.declared = declared


class _Malformed(Exception):
    pass


class _Unreadable(Exception):
    def __init__(self, why: str, tries: int) -> None:
        self.why = why
        self.tries = tries


def _download_error(
    exc: BaseException, url: str, prediction_id: str | None, cap: int, deadline: float | None
) -> BaseException:
    """The :class:`OutputDownloadError` for what went wrong (a cancel stays a cancel)."""
    shown = shown_url(url)
    if isinstance(exc, asyncio.TimeoutError) and deadline is not None:
        reason = "it did not finish before the call's deadline (timeout=)"
        return OutputDownloadError(reason, prediction_id=prediction_id, url=shown)
    if isinstance(exc, _TooLarge):
        size = f" ({exc.declared / 1e6:.0f} MB)" if exc.declared else ""
        reason = (
            f"the file is larger than the {cap / 1e6:g} MB cap{size}; raise "
            f"{MAX_DOWNLOAD_ENV} to accept it"
        )
        return OutputDownloadError(reason, prediction_id=prediction_id, url=shown)
    if isinstance(exc, _Unreadable):
        reason = f"the file host's answer could not be read ({exc.why}; {exc.tries} tries)"
        return OutputDownloadError(reason, prediction_id=prediction_id, url=shown)
    if isinstance(exc, _Malformed):
        return OutputDownloadError(str(exc), prediction_id=prediction_id, url=shown)
    if isinstance(exc, APIError):
        return OutputDownloadError(
            f"the file host answered {_host_message(exc)}",
            prediction_id=prediction_id,
            url=shown,
            status_code=exc.status_code,
        )
    if isinstance(exc, TransportError):
        return OutputDownloadError(str(exc), prediction_id=prediction_id, url=shown)
    if isinstance(exc, OSError):
        reason = f"the file could not be written ({exc.strerror or exc})"
        return OutputDownloadError(reason, prediction_id=prediction_id, url=shown)
    return exc


async def download_all(
    http: HTTP,
    urls: Sequence[str],
    *,
    folder: Path | None,
    prediction_id: str | None = None,
    deadline: float | None = None,
) -> list[Staged]:
    """Every output of one prediction, downloaded at once, in order.

    If one fails (or this is cancelled), the others are cancelled and every staging file is
    removed before the error is raised: nothing half-downloaded is left on disk.
    """
    cap = max_download_bytes()
    tasks = [
        asyncio.ensure_future(
            download_to_file(
                http,
                url,
                folder=folder,
                prediction_id=prediction_id,
                max_bytes=cap,
                deadline=deadline,
            )
        )
        for url in urls
    ]
    if not tasks:
        return []
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    except asyncio.CancelledError:
        await _cancel_and_discard(tasks)
        raise
    failed = next((t for t in tasks if t.done() and not t.cancelled() and t.exception()), None)
    if failed is not None:
        await _cancel_and_discard(tasks)
        error = failed.exception()
        assert error is not None
        raise error
    return [t.result() for t in tasks]


async def _cancel_and_discard(tasks: Sequence[asyncio.Future[Staged]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.wait(tasks)
    for task in tasks:
        if not task.cancelled() and task.exception() is None:
            task.result().discard()


def read_staged(staged: Sequence[Staged]) -> list[bytes]:
    """The bytes of each download (one copy each), read from its staging file when it has
    one; every staging file is removed on failure."""
    try:
        return [item.path.read_bytes() if item.path else item.data or b"" for item in staged]
    except BaseException:
        for item in staged:
            item.discard()
        raise


async def read_all(staged: Sequence[Staged]) -> list[bytes]:
    """:func:`read_staged`, in a worker thread when a staging file is to be read."""
    if all(item.path is None for item in staged):
        return read_staged(staged)
    return await off_loop(read_staged, staged)


async def off_loop(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``function(*args)`` in a worker thread, so file I/O (reads, fsync) never stalls the
    event loop. A cancel waits for the thread to finish before it propagates: the files it
    works on are never pulled from under it."""
    task = asyncio.ensure_future(asyncio.to_thread(function, *args, **kwargs))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(BaseException):
            await task
        raise
