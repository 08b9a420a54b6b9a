"""Inputs that take a file: which fields they are, and local values that must be uploaded first.

The catalog has no ``format: uri``: a field that takes an image, audio, video or archive is a
plain string whose name or description says so (``image_url``, ``images_data_url``, ``mask``,
"URL of the image"). Local values for such a field (bytes, a path, a PIL image) are uploaded
through the presign flow and replaced by their public URL before the create.

A string given to such a field is either a URL the service fetches (``http(s)://``), a
``data:`` URI (uploaded like a file: the service rejects data: URIs, API.md "Upload") or,
when it looks like a local path (``cat.png``, ``./a/b.jpg``, ``~/x.png``, ``C:\\x.png``,
``file:///x.png``, quoted or not), a file on this machine: uploaded when it exists, refused
before anything is sent when it does not. A path is never sent as a URL.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import io
import ipaddress
import itertools
import mimetypes
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit
from urllib.request import url2pathname

__all__ = [
    "LocalMedia",
    "data_uri_media",
    "existing_local_file",
    "is_local_media",
    "is_loopback_url",
    "local_path",
    "looks_like_local_path",
    "media_kind",
    "missing_file_problem",
    "to_local_media",
]

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
# "URL of the image", "a url to the zip": a description says "url" and, later in the same
# sentence, the kind. Searched one sentence at a time (see _kind_in_description) so that the
# cost stays linear in the description's length.
_URL_WORD = re.compile(r"\burl\b", re.IGNORECASE)
_KIND_WORD = re.compile(r"\b(image|audio|video|zip|archive|file)", re.IGNORECASE)
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
    word = _kind_in_description(str(prop.get("description") or ""))
    if word is not None:
        return {"zip": "archive", "file": "other"}.get(word, word)
    return None


def _kind_in_description(description: str) -> str | None:
    """The first kind word that follows "url" within one sentence, lower-cased, else ``None``.

    Each sentence is scanned at most twice (once for "url", once from there for a kind), so
    the cost is linear; a single regex ``url[^.]*kind`` restarts at every "url" and is
    quadratic on a long sentence of repeated "url" words.
    """
    for sentence in description.split("."):
        url = _URL_WORD.search(sentence)
        if url is None:
            continue
        kind = _KIND_WORD.search(sentence, url.end())
        if kind is not None:
            return kind.group(1).lower()
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
    """True for objects that must be uploaded before they can be sent: a :class:`LocalMedia`,
    bytes, a path object (``pathlib.Path`` or any ``os.PathLike``) or a PIL image.

    A ``str`` is never local media by itself (it may be a prompt); a string given to a file
    input is resolved with :func:`existing_local_file` and :func:`missing_file_problem`.
    """
    if isinstance(value, (LocalMedia, bytes, bytearray, memoryview, os.PathLike)):
        return True
    return _is_pil_image(value)


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_DRIVE = re.compile(r"^[A-Za-z]:")  # C:\x, C:/x, and C:x (a Windows path that lost its \)
_EXTENSION = re.compile(r"\.(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{1,5}$")
_HOSTLIKE = re.compile(r"^(www\.|[\w-]+(\.[\w-]+)*\.(com|net|org|io|ai|co|dev|app)(/|$))", re.I)
_QUOTES = ('"', "'", "\u201c\u201d", "\u2018\u2019")


def _unquoted(text: str) -> str:
    """``text`` without surrounding blanks and one pair of surrounding quotes (as a file
    manager's "Copy as path" gives, or a notebook user types)."""
    text = text.strip()
    for quote in _QUOTES:
        first, last = quote[0], quote[-1]
        if len(text) >= 2 and text[0] == first and text[-1] == last:
            return text[1:-1].strip()
    return text


def looks_like_local_path(text: str) -> bool:
    """True when ``text`` names a file on this machine rather than a URL the service can fetch.

    Paths: absolute or relative (``/a``, ``./a``, ``a/b.png``), ``~`` paths, Windows paths
    (``C:\\a``, ``\\\\host\\share``, and ``C:a.png`` whose backslashes a shell swallowed),
    ``file:`` URLs, and bare file names with an extension (``cat.png``), quoted or not.
    Not paths: ``http(s)://`` and other ``scheme://`` URLs, ``data:`` URIs, empty text and
    several lines.
    """
    if not isinstance(text, str):
        return False
    text = _unquoted(text)
    if not text or "\n" in text or "\r" in text:
        return False
    lowered = text.lower()
    if lowered.startswith("file:"):
        return True
    if _SCHEME.match(text) or lowered.startswith("data:"):
        return False
    if text.startswith(("~", "/", "\\")) or _DRIVE.match(text):
        return True
    if "/" in text or "\\" in text:
        return True
    return _EXTENSION.search(text) is not None


def local_path(text: str) -> Path:
    """The path a local-looking string names: quotes stripped, ``~`` expanded, ``file:`` URLs
    converted. Does not check that the file exists."""
    text = _unquoted(text)
    if text.lower().startswith("file:"):
        parts = urlsplit(text)
        where = parts.path  # url2pathname decodes the %-escapes
        if parts.netloc and parts.netloc != "localhost":
            where = f"//{parts.netloc}{where}"
        return Path(url2pathname(where))
    return Path(os.path.expanduser(text))


def existing_local_file(value: Any) -> Path | None:
    """The file a string names when it looks like a local path and the file exists, else None."""
    if not isinstance(value, str) or not looks_like_local_path(value):
        return None
    path = local_path(value)
    try:
        return path if path.is_file() else None
    except (OSError, ValueError):  # a name the system cannot even stat (NUL, too long)
        return None


def missing_file_problem(value: Any) -> str | None:
    """Why a local-looking string cannot be uploaded (no such file, a folder), else ``None``.

    ``None`` also for values that are not local paths (URLs, other text). The message quotes
    the value as given and says what to give instead; for a mistyped name it suggests the
    nearest file in the same folder.
    """
    if not isinstance(value, str) or not looks_like_local_path(value):
        return None
    path = local_path(value)
    try:
        if path.is_file():
            return None
        if path.is_dir():
            return f"{value!r} is a folder, not a file"
    except (OSError, ValueError) as exc:
        return f"{value!r} cannot be read as a file: {exc}"
    return f"no such file: {value!r}{_path_hint(value, path)}; give an existing file, or an http(s):// or data: URL"


def _path_hint(value: str, path: Path) -> str:
    text = _unquoted(value)
    if os.name != "nt" and (_DRIVE.match(text) or "\\" in text):
        if _DRIVE.match(text) and "\\" not in text and "/" not in text:
            return (
                " (a Windows path whose backslashes were lost: quote it, or write it with /;"
                f" this kernel runs on {sys.platform} and sees its own files)"
            )
        return f" (a Windows path: this kernel runs on {sys.platform} and sees its own files)"
    if _HOSTLIKE.match(text):
        return f" (a web address needs its scheme: 'https://{text}')"
    near = _nearest_sibling(path)
    return f" (did you mean {near!r}?)" if near else ""


def _nearest_sibling(path: Path, limit: int = 2000) -> str | None:
    """The name in ``path``'s folder closest to its name (a typo such as cat.pgn), if close."""
    folder = path.parent
    try:
        with os.scandir(folder) as entries:
            names = [e.name for e in itertools.islice(entries, limit) if len(e.name) <= 255]
    except (OSError, ValueError):
        return None
    near = difflib.get_close_matches(path.name, names, n=1, cutoff=0.75)
    if not near:
        return None
    return str(folder / near[0]) if str(folder) not in ("", ".") else near[0]


def _is_pil_image(value: Any) -> bool:
    # Looked up, not imported: a PIL image cannot exist before PIL.Image is loaded, and
    # importing it (~10 ms) would slow every call whose inputs are only text.
    image = sys.modules.get("PIL.Image")
    return image is not None and isinstance(value, image.Image)


def to_local_media(value: Any) -> LocalMedia:
    """A :class:`LocalMedia` from bytes, a path, a PIL image or a LocalMedia.

    A ``str`` is read as a local path (quotes stripped, ``~`` expanded, ``file:`` URLs
    accepted). Raises :class:`FileNotFoundError` (with :func:`missing_file_problem`'s text)
    for a path that names no file, :class:`OSError` when it cannot be read, and
    :class:`TypeError` for anything else.
    """
    if isinstance(value, LocalMedia):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        return LocalMedia(
            data, sniff_content_type(data), "upload" + _ext_for(sniff_content_type(data))
        )
    if isinstance(value, (str, os.PathLike)):
        path = local_path(value) if isinstance(value, str) else Path(value)
        if isinstance(value, str) and not path.is_file():
            problem = missing_file_problem(value) or f"no such file: {value!r}"
            raise FileNotFoundError(problem)
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
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
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
        return iso_bmff_type(data)
    return "application/octet-stream"


#: ISO-BMFF brands (ISO/IEC 23008-12 for HEIF, the AV1 image file format for AVIF) that make
#: an ``ftyp`` file an image: AVIF first, as an AVIF also lists the generic ``mif1``.
_AVIF_BRANDS = (b"avif", b"avis")
_HEIC_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1")


def iso_bmff_type(data: bytes) -> str:
    """The content type of an ISO-BMFF file (``....ftyp``) from its major and compatible
    brands: ``image/avif``, ``image/heic``, ``video/quicktime`` or ``video/mp4``.

    Pillow's own check reads only the major brand and takes ``mif1`` (HEIC's too) for AVIF,
    so the ``ftyp`` box is read here whole: an AVIF or HEIC is an image, never a video.
    """
    size = int.from_bytes(data[:4], "big")
    end = min(len(data), size if 16 <= size <= 4096 else 64)
    brands = [data[8:12]] + [data[i : i + 4] for i in range(16, end - 3, 4)]
    if any(b in _AVIF_BRANDS for b in brands):
        return "image/avif"
    if any(b in _HEIC_BRANDS for b in brands):
        return "image/heic"
    return "video/quicktime" if data[8:12] == b"qt  " else "video/mp4"


def _ext_for(content_type: str) -> str:
    return mimetypes.guess_extension(content_type) or ".bin"


def file_type_of(content_type: str) -> str:
    """The presign ``file_type`` for a content type: image, video, audio or other."""
    head = content_type.split("/", 1)[0]
    return head if head in ("image", "video", "audio") else "other"


def data_uri_media(text: Any) -> LocalMedia | None:
    """The file a ``data:`` URI holds, as :class:`LocalMedia` to upload (the service rejects
    data: URIs in file inputs: API.md, "Upload"); ``None`` for anything else.

    Raises ``ValueError`` for a data: URI whose content cannot be decoded.
    """
    if not isinstance(text, str) or text[:5].lower() != "data:":
        return None
    header, comma, body = text[5:].partition(",")
    if not comma:
        raise ValueError("a data: URI without a comma holds nothing")
    parts = [p.strip() for p in header.split(";")]
    is_base64 = any(p.lower() == "base64" for p in parts[1:])
    ctype = parts[0].lower() if parts[0] else "text/plain"
    try:
        data = (
            base64.b64decode("".join(body.split()), validate=True)
            if is_base64
            else unquote_to_bytes(body)
        )
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"its base64 content does not decode ({exc})") from None
    if ctype in ("", "application/octet-stream"):
        ctype = sniff_content_type(data)
    return LocalMedia(data, ctype, "upload" + _ext_for(ctype))


def _is_loopback_host(host: str) -> bool:
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def is_loopback_url(text: Any) -> bool:
    """True for an ``http(s)`` URL whose host is this machine (``localhost``, ``127.0.0.1``,
    ``[::1]``, ``0.0.0.0``): a service elsewhere cannot fetch it (API.md, "Upload")."""
    if not isinstance(text, str) or not _SCHEME.match(text.strip()):
        return False
    try:
        parts = urlsplit(text.strip())
        host = parts.hostname or ""
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and _is_loopback_host(host)
