"""Writing outputs to disk: safe names, atomic writes, parameters beside and inside each file.

Images are written as the service made them, byte for byte: the parameters go into a
sidecar JSON and into the file's own metadata by inserting a PNG ``tEXt`` chunk or a JPEG
comment segment, never by re-encoding.
"""

from __future__ import annotations

import json
import os
import re
import struct
import tempfile
import unicodedata
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["atomic_write", "embed_metadata", "extension_for", "read_png_text", "safe_stem"]

METADATA_KEY = "eachlabs"
_EXT_BY_TYPE = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "video/mp4": ".mp4",
    "application/zip": ".zip",
}


def safe_stem(text: str, limit: int = 40) -> str:
    """A file-name-safe slug of ``text``: ASCII letters, digits and dashes, never empty."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", folded).strip("-").lower()
    return slug[:limit].rstrip("-") or "untitled"


def extension_for(url: str, content_type: str | None, data: bytes) -> str:
    """The file extension from the bytes themselves, then the content type, then the URL."""
    from ._media import sniff_content_type

    sniffed = sniff_content_type(data)
    if sniffed in _EXT_BY_TYPE:
        return _EXT_BY_TYPE[sniffed]
    if content_type:
        ext = _EXT_BY_TYPE.get(content_type.split(";")[0].strip())
        if ext:
            return ext
    match = re.search(r"\.([A-Za-z0-9]{2,12})(?:$|\?)", url.rsplit("/", 1)[-1])
    return "." + match.group(1).lower() if match else ".bin"


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def embed_metadata(data: bytes, parameters: Mapping[str, Any]) -> bytes:
    """``data`` with ``parameters`` as JSON inside: a PNG text chunk or a JPEG comment."""
    text = json.dumps(dict(parameters), default=str, ensure_ascii=True)
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png_with_text(data, METADATA_KEY, text)
    if data.startswith(b"\xff\xd8"):
        payload = f"{METADATA_KEY}:{text}".encode()
        if len(payload) <= 65533:
            return data[:2] + b"\xff\xfe" + struct.pack(">H", len(payload) + 2) + payload + data[2:]
    return data


def _png_with_text(data: bytes, key: str, text: str) -> bytes:
    body = key.encode("latin-1") + b"\x00" + text.encode("latin-1")
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + body) & 0xFFFFFFFF)
    end = data.rfind(b"IEND")
    if end < 4:
        return data
    at = end - 4  # the IEND chunk starts with its 4-byte length
    return data[:at] + chunk + data[at:]


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
    sidecar = path.with_suffix(path.suffix + ".json")
    atomic_write(sidecar, json.dumps(dict(parameters), indent=2, default=str).encode())
    return sidecar
