"""Inputs that take a file: which fields they are, and local values that must be uploaded first.

The catalog has no ``format: uri``: a field that takes an image, audio, video or archive is a
plain string whose name or description says so (``image_url``, ``images_data_url``, ``mask``,
"URL of the image"). Local values for such a field (bytes, a path, a PIL image) are uploaded
through the presign flow and replaced by their public URL before the create.
"""

from __future__ import annotations

import io
import mimetypes
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["LocalMedia", "is_local_media", "media_kind", "to_local_media"]

_NAME_KINDS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"(^|_)(images?_data|data_archive|archive|zip|dataset|training_data)(_|$)"),
        "archive",
    ),
    (
        re.compile(r"(^|_)(image|images|mask|img|photo|reference|init_image|control_image)(_|$)"),
        "image",
    ),
    (re.compile(r"(^|_)(audio|voice|speech|sound)(_|$)"), "audio"),
    (re.compile(r"(^|_)(video|clip)(_|$)"), "video"),
    (re.compile(r"(^|_)(lora|weights|file|checkpoint)(_url|_path)?$"), "other"),
]
_DESC_KIND = re.compile(r"\burl\b[^.]*\b(image|audio|video|zip|archive|file)", re.IGNORECASE)
_NOT_MEDIA = re.compile(
    r"(^|_)(size|format|num|count|strength|scale|type|mode|option|prompt|steps)(_|$)"
)


def media_kind(name: str, prop: Mapping[str, Any]) -> str | None:
    """The kind of file a field takes (image, audio, video, archive, other), else ``None``.

    Only string properties (or untyped ones) can take a URL. Fields such as ``image_size`` or
    ``num_images`` mention images but take none.
    """
    kind = prop.get("type")
    if kind not in (None, "string"):
        return None
    lowered = name.lower()
    if _NOT_MEDIA.search(lowered):
        return None
    for pattern, label in _NAME_KINDS:
        if pattern.search(lowered):
            return label
    description = str(prop.get("description") or "")
    match = _DESC_KIND.search(description)
    if match:
        word = match.group(1).lower()
        return {"zip": "archive", "file": "other"}.get(word, word)
    return None


@dataclass(frozen=True)
class LocalMedia:
    """Bytes waiting to be uploaded: what a file picker, a path or a PIL image becomes."""

    data: bytes = field(repr=False)
    content_type: str
    filename: str = "upload"

    def __repr__(self) -> str:
        return f"LocalMedia({self.filename!r}, {self.content_type}, {len(self.data)} bytes)"


def is_local_media(value: Any) -> bool:
    """True for values that must be uploaded before they can be sent."""
    if isinstance(value, (LocalMedia, bytes, bytearray, memoryview, Path)):
        return True
    return _is_pil_image(value)


def _is_pil_image(value: Any) -> bool:
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a dependency
        return False
    return isinstance(value, Image.Image)


def to_local_media(value: Any) -> LocalMedia:
    """A :class:`LocalMedia` from bytes, a path, a PIL image or a LocalMedia."""
    if isinstance(value, LocalMedia):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        return LocalMedia(
            data, sniff_content_type(data), "upload" + _ext_for(sniff_content_type(data))
        )
    if isinstance(value, (str, os.PathLike)):
        path = Path(value)
        data = path.read_bytes()
        guessed = mimetypes.guess_type(path.name)[0] or sniff_content_type(data)
        return LocalMedia(data, guessed, path.name)
    if _is_pil_image(value):
        buffer = io.BytesIO()
        value.save(buffer, format="PNG")
        return LocalMedia(buffer.getvalue(), "image/png", "image.png")
    raise TypeError(f"cannot upload a {type(value).__name__}; give bytes, a path or a PIL image")


_MAGIC = [
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"PK\x03\x04", "application/zip"),
    (b"ID3", "audio/mpeg"),
    (b"OggS", "audio/ogg"),
    (b"fLaC", "audio/flac"),
]


def sniff_content_type(data: bytes) -> str:
    """The content type that the first bytes announce, or ``application/octet-stream``."""
    for magic, ctype in _MAGIC:
        if data.startswith(magic):
            return ctype
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    if data[4:8] == b"ftyp":
        return "video/mp4"
    return "application/octet-stream"


def _ext_for(content_type: str) -> str:
    return mimetypes.guess_extension(content_type) or ".bin"


def file_type_of(content_type: str) -> str:
    """The presign ``file_type`` for a content type: image, video, audio or other."""
    head = content_type.split("/", 1)[0]
    return head if head in ("image", "video", "audio") else "other"
