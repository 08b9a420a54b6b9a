"""Writing outputs to disk: safe names, atomic writes, parameters beside and inside each file.

Images are written as the service made them, byte for byte: the parameters go into a
sidecar JSON and into the file's own metadata by inserting PNG text chunks (our JSON, and
A1111's ``parameters`` text that other tools read), JPEG EXIF and comment segments, or a WebP
EXIF chunk, never by re-encoding.

A saved file never replaces another: it is written whole under a hidden temporary name, then
linked to a name that does not exist yet (``os.link`` fails rather than overwrite), so two
predictions can never write the same path, whatever their names share.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import struct
import tempfile
import unicodedata
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .metadata import A1111_KEY, a1111_text, embed_webp_exif, exif_block, image_size, png_text_chunk

__all__ = [
    "atomic_write",
    "embed_metadata",
    "extension_for",
    "make_temp",
    "metadata_insertion",
    "place_exclusively",
    "read_png_text",
    "safe_stem",
    "write_output",
]

METADATA_KEY = "eachlabs"
_EXT_BY_TYPE = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "image/avif": ".avif",
    "image/heic": ".heic",
    "image/heif": ".heif",
    "image/tiff": ".tif",
    "video/mp4": ".mp4",
    "video/quicktime": ".mov",
    "application/zip": ".zip",
    "application/json": ".json",
}


def make_temp(folder: str | Path | None, prefix: str, suffix: str) -> tuple[int, str]:
    """A new file, open for writing, under an unused random name in ``folder`` (the system's
    temp folder for ``None``), as ``tempfile.mkstemp`` makes one, but with the permissions
    ``open()`` gives: 0o666 less the umask (0o644 for the usual 022), so teammates and web
    servers read saved outputs as they read other files (it is renamed or linked into place
    later, keeping them). Returns its descriptor and path; raises ``OSError`` as ``mkstemp``
    does. (``mkstemp`` asks for 0o600; asking for 0o666 lets the system apply the umask, with
    no umask to read and no ``fchmod``.)
    """
    where = os.fspath(folder) if folder is not None else tempfile.gettempdir()
    for _ in range(100):
        name = os.path.join(where, f"{prefix}{secrets.token_hex(6)}{suffix}")
        try:
            return os.open(name, _EXCLUSIVE, 0o666), os.path.abspath(name)
        except FileExistsError:
            continue
    raise FileExistsError(f"no unused temporary name in {where}")


#: Created here or not at all, binary, not inherited by child processes (as ``mkstemp``).
_EXCLUSIVE = (
    os.O_RDWR
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_BINARY", 0)
    | getattr(os, "O_NOINHERIT", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


def safe_stem(text: str, limit: int = 40) -> str:
    """A file-name-safe slug of ``text``: ASCII letters, digits and dashes, never empty."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", folded).strip("-").lower()
    return slug[:limit].rstrip("-") or "untitled"


def extension_for(url: str, content_type: str | None, data: bytes) -> str:
    """The file extension from the bytes themselves, then the content type, then the URL."""
    from .._schema.media import sniff_content_type

    sniffed = sniff_content_type(data)
    if sniffed in _EXT_BY_TYPE:
        return _EXT_BY_TYPE[sniffed]
    if content_type:
        ext = _EXT_BY_TYPE.get(content_type.split(";")[0].strip())
        if ext:
            return ext
    match = re.search(r"\.([A-Za-z0-9]{2,12})(?:$|\?)", url.rsplit("/", 1)[-1])
    return "." + match.group(1).lower() if match else ".bin"


def atomic_write(path: Path, data: bytes, *, sync: bool = True) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the new one, never half.

    ``sync=False`` leaves it to the system when the bytes reach the disk: after a power cut
    the file may be missing or empty (never half of one), for a file that only repeats what is
    kept elsewhere."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = make_temp(path.parent, f".{path.name}.", ".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def metadata_insertion(data: bytes, parameters: Mapping[str, Any]) -> tuple[int, bytes] | None:
    """Where and what to insert into ``data`` to carry ``parameters``; ``None`` for other files.

    A PNG gets, before its image data (where A1111 writes it), a ``parameters`` text chunk in
    A1111's form (see ``metadata``) and an ``eachlabs`` text chunk with ``parameters`` as JSON.
    A JPEG gets the A1111 text as EXIF ``UserComment`` (unless it has EXIF already) and the JSON
    as a comment segment, after its start marker (and its JFIF header, if any).
    """
    text = json.dumps(dict(parameters), default=str, ensure_ascii=True)
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        at = _png_image_data(data)
        if at is None:
            return None
        chunk = b""
        a1111 = a1111_text(parameters, image_size(data))
        if a1111 is not None:
            chunk += png_text_chunk(A1111_KEY, a1111)
        body = METADATA_KEY.encode("latin-1") + b"\x00" + text.encode("latin-1")
        chunk += struct.pack(">I", len(body)) + b"tEXt" + body
        chunk += struct.pack(">I", zlib.crc32(b"tEXt" + body) & 0xFFFFFFFF)
        return at, chunk
    if data.startswith(b"\xff\xd8"):
        at, has_exif = _jpeg_headers(data)
        extra = b""
        a1111 = a1111_text(parameters, image_size(data))
        if a1111 is not None and not has_exif:
            exif = b"Exif\x00\x00" + exif_block(a1111)
            if len(exif) <= 65533:
                extra += b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif
        payload = f"{METADATA_KEY}:{text}".encode()
        if len(payload) <= 65533:
            extra += b"\xff\xfe" + struct.pack(">H", len(payload) + 2) + payload
        return (at, extra) if extra else None
    return None


def _png_image_data(data: bytes) -> int | None:
    """Where the first ``IDAT`` chunk (else ``IEND``) of a PNG starts; None if it has none."""
    pos = 8
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        if data[pos + 4 : pos + 8] in (b"IDAT", b"IEND"):
            return pos
        pos += 12 + length
    return None


def _jpeg_headers(data: bytes) -> tuple[int, bool]:
    """Where to insert after a JPEG's start marker and its ``APP0`` (JFIF) segment, and whether
    an ``APP1`` EXIF segment is already there (a second would be ignored by readers)."""
    at = 2
    if data[2:4] == b"\xff\xe0" and len(data) >= 6:
        at = 4 + struct.unpack(">H", data[4:6])[0]
    pos, has_exif = 2, False
    while pos + 4 <= len(data) and data[pos] == 0xFF and 0xE0 <= data[pos + 1] <= 0xEF:
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if data[pos + 1] == 0xE1 and data[pos + 4 : pos + 10] == b"Exif\x00\x00":
            has_exif = True
        pos += 2 + length
    return at, has_exif


def embed_metadata(data: bytes, parameters: Mapping[str, Any]) -> bytes:
    """``data`` with ``parameters`` inside: PNG text chunks, JPEG EXIF and comment, WebP EXIF."""
    insertion = metadata_insertion(data, parameters)
    if insertion is None:
        return _embed_webp(data, parameters)
    at, extra = insertion
    return data[:at] + extra + data[at:]


def _embed_webp(data: bytes, parameters: Mapping[str, Any]) -> bytes:
    """A WebP with the A1111 text as EXIF ``UserComment`` (other files unchanged)."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return data
    text = a1111_text(parameters, image_size(data))
    return data if text is None else embed_webp_exif(data, text)


def write_output(
    folder: Path,
    stem: str,
    ext: str,
    data: bytes,
    parameters: Mapping[str, Any],
    *,
    staged: Path | None = None,
) -> Path:
    """Save ``data`` with ``parameters`` inside as ``folder/stem + ext`` (or ``stem-2 + ext``…,
    whichever name is free); returns the path. Never overwrites a file.

    ``staged`` is a file already holding ``data`` in ``folder`` (a finished download): it is
    completed in place and moved into place, so only the inserted metadata and what follows
    it is written again (a WebP, whose header changes, is written whole). ``data`` is written from memory views, never copied.
    Raises ``OSError`` (full disk, read-only folder); nothing is left half-written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    insertion = metadata_insertion(data, parameters)
    if insertion is None:
        webp = _embed_webp(data, parameters)
        if webp is not data:  # a new header and a chunk at the end: written whole
            data, staged = webp, None
    view = memoryview(data)
    if staged is not None and staged.parent.resolve() == folder.resolve():
        tmp = staged
        with open(tmp, "r+b") as handle:
            if insertion is not None:
                at, extra = insertion
                handle.seek(at)
                handle.write(extra)
                handle.write(view[at:])
                handle.truncate()
            handle.flush()
            os.fsync(handle.fileno())
    else:
        fd, name = make_temp(folder, f".{stem[:40]}.", ".tmp")
        tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as handle:
                at, extra = insertion if insertion is not None else (len(data), b"")
                handle.write(view[:at])
                handle.write(extra)
                handle.write(view[at:])
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    try:
        return place_exclusively(tmp, folder, stem, ext)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def place_exclusively(tmp: Path, folder: Path, stem: str, ext: str) -> Path:
    """Move the finished file ``tmp`` to ``folder/stem + ext``, or to ``stem-2 + ext``, ``stem-3
    + ext``… if that name is taken (by another prediction, another process, an earlier run).

    The name is claimed by the operating system, not checked first: ``os.link`` fails when the
    name exists. Where links are not supported (some network or FAT folders), the name is
    claimed with ``O_EXCL`` and the file renamed onto that claim.
    """
    for number in range(1, 10_000):
        path = folder / (f"{stem}{ext}" if number == 1 else f"{stem}-{number}{ext}")
        try:
            os.link(tmp, path)
        except FileExistsError:
            continue
        except OSError:
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            except FileExistsError:
                continue
            try:
                os.replace(tmp, path)
            except BaseException:
                path.unlink(missing_ok=True)  # give the claimed name back
                raise
            return path
        tmp.unlink(missing_ok=True)
        return path
    raise FileExistsError(f"no free file name for {stem}{ext} in {folder}")


def read_png_text(data: bytes) -> dict[str, str]:
    """The ``tEXt`` chunks of a PNG (for tests and for reading parameters back)."""
    out: dict[str, str] = {}
    pos = 8
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"tEXt":
            key, _, value = data[pos + 8 : pos + 8 + length].partition(b"\x00")
            out[key.decode("latin-1")] = value.decode("latin-1")
        pos += 12 + length
    return out


def write_sidecar(path: Path, parameters: Mapping[str, Any]) -> Path:
    """``path``'s parameters as JSON beside it (``NAME.EXT.json``). Not synced to disk: the
    file itself (synced) carries them inside, and the journal keeps them too, so a power cut
    costs at most a copy; an fsync here was a third of saving an image's CPU and wait."""
    sidecar = path.with_suffix(path.suffix + ".json")
    atomic_write(sidecar, json.dumps(dict(parameters), indent=2, default=str).encode(), sync=False)
    return sidecar
