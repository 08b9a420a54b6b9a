"""A training set made to fit the upload limit: images gathered, scaled down, zipped.

A trainer takes one URL of a zip of images (``images_data_url`` or ``image_data_url``); an
upload is at most 100 MB (decimal, API.md "Upload"). Phone photos are 3–8 MB each, far larger
than trainers use, so an image whose longest side exceeds :data:`LONGEST_SIDE` is scaled down
(EXIF orientation applied, saved as a high-quality JPEG). If the zip still does not fit,
:class:`TrainingSetTooLarge` says how many images to drop, before anything is uploaded.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .media import LocalMedia, is_local_media, local_path, media_kind, sniff_content_type

__all__ = [
    "JPEG_QUALITY",
    "LONGEST_SIDE",
    "UPLOAD_LIMIT",
    "TrainingSetTooLarge",
    "archive_input",
    "gather",
    "training_zip",
]

#: The largest file the service accepts (API.md, "Upload": 100 MB, decimal).
UPLOAD_LIMIT = 100_000_000
#: Trainers work at 512–1024 px; a longer side than this is scaled down.
LONGEST_SIDE = 1536
JPEG_QUALITY = 92
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic")
CAPTION_SUFFIXES = (".txt", ".caption")
#: A zip's bytes beyond its members: ~100 bytes of headers per member, plus the end record.
_PER_MEMBER = 128
_ZIP_END = 512


class TrainingSetTooLarge(ValueError):
    """The training set does not fit the upload limit even with its images scaled down.

    ``size`` is the zip's size in bytes, ``limit`` the limit, ``drop`` how many images (the
    largest first) must go for it to fit, ``images`` how many there are.
    """

    def __init__(self, size: int, limit: int, drop: int, images: int) -> None:
        self.size, self.limit, self.drop, self.images = size, limit, drop, images
        super().__init__(
            f"the training set is {size / 1e6:.1f} MB zipped, over the service's "
            f"{limit / 1e6:g} MB upload limit, even with every image scaled to at most "
            f"{LONGEST_SIDE} px: drop at least {drop} of its {images} images (the largest "
            "first) and try again. Nothing was uploaded."
        )


def archive_input(schema: Mapping[str, Any] | None) -> str | None:
    """The trainer's input that takes the URL of a zip of images (``images_data_url``,
    ``image_data_url``…), found from its schema; ``None`` for a model that is not a trainer."""
    props = (schema or {}).get("properties")
    if not isinstance(props, Mapping):
        return None
    for name, prop in props.items():
        if isinstance(prop, Mapping) and media_kind(str(name), prop) == "archive":
            return str(name)
    return None


@dataclass(frozen=True)
class _Member:
    name: str
    data: bytes
    image: bool


def gather(images: Any) -> list[tuple[str, bytes]]:
    """``(name, bytes)`` of every file in ``images``: a folder (its files, not its sub-folders),
    a zip (a path or its bytes), or a list of paths, PIL images, bytes or ``LocalMedia``.

    Raises ``FileNotFoundError`` for a path that names nothing, ``TypeError`` for anything
    else, ``ValueError`` for an empty list.
    """
    if isinstance(images, (str, os.PathLike)):
        path = local_path(images) if isinstance(images, str) else Path(images)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            return [(p.name, p.read_bytes()) for p in files]
        if path.is_file():
            return _unzipped(path.name, path.read_bytes())
        raise FileNotFoundError(f"no such folder or file: {str(images)!r}")
    if isinstance(images, (bytes, bytearray, memoryview, LocalMedia)):
        data = images.data if isinstance(images, LocalMedia) else bytes(images)
        return _unzipped("images.zip", data)
    if is_local_media(images):  # one PIL image
        images = [images]
    if not isinstance(images, Iterable):
        raise TypeError(
            f"images: give a folder, a zip, or a list of paths, PIL images or bytes, "
            f"not {type(images).__name__}"
        )
    out: list[tuple[str, bytes]] = []
    for index, item in enumerate(images):
        out.extend(_one(index, item))
    if not out:
        raise ValueError("images: the list is empty")
    return out


def _one(index: int, item: Any) -> list[tuple[str, bytes]]:
    from .media import to_local_media

    if isinstance(item, (str, os.PathLike)):
        path = local_path(item) if isinstance(item, str) else Path(item)
        if not path.is_file():
            raise FileNotFoundError(f"images[{index}]: no such file: {str(item)!r}")
        return _unzipped(path.name, path.read_bytes())
    try:
        media = to_local_media(item)
    except TypeError:
        raise TypeError(
            f"images[{index}]: a {type(item).__name__} is not an image; give paths, PIL "
            "images or bytes"
        ) from None
    name = media.filename if media.filename not in ("upload", "image.png") else ""
    suffix = Path(media.filename).suffix or ".png"
    return _unzipped(name or f"image-{index + 1:03d}{suffix}", media.data)


def _unzipped(name: str, data: bytes) -> list[tuple[str, bytes]]:
    """A zip's members (files only, names without folders), or ``[(name, data)]``."""
    if sniff_content_type(data) != "application/zip":
        return [(name, data)]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [
            (Path(info.filename).name, archive.read(info))
            for info in archive.infolist()
            if not info.is_dir()
            and not Path(info.filename).name.startswith(".")
            and "__MACOSX" not in info.filename
        ]


def _is_image(name: str, data: bytes) -> bool:
    return sniff_content_type(data).startswith("image/") or name.lower().endswith(IMAGE_SUFFIXES)


def shrunk(name: str, data: bytes, longest: int = LONGEST_SIDE) -> tuple[str, bytes]:
    """``(name, data)`` of an image no longer than ``longest`` px on its longest side: as it
    is when it already fits (or cannot be decoded: the trainer will say), else scaled down with
    its EXIF orientation applied, as a JPEG of quality :data:`JPEG_QUALITY` named ``stem.jpg``
    (so that a caption ``stem.txt`` still matches it)."""
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(data)) as opened:
            if max(opened.size) <= longest:
                return name, data
            image = ImageOps.exif_transpose(opened)
            image.thumbnail((longest, longest), Image.Resampling.LANCZOS)
            if image.mode not in ("RGB", "L"):
                rgba = image.convert("RGBA")
                image = Image.new("RGB", rgba.size, (255, 255, 255))
                image.paste(rgba, mask=rgba.getchannel("A"))
            buffer = io.BytesIO()
            image.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    except Exception:
        return name, data
    return f"{Path(name).stem}.jpg", buffer.getvalue()


def _unique(name: str, taken: set[str]) -> str:
    stem, suffix = Path(name).stem, Path(name).suffix
    candidate, n = name, 1
    while candidate.lower() in taken:
        candidate = f"{stem}-{n}{suffix}"
        n += 1
    taken.add(candidate.lower())
    return candidate


def training_zip(
    images: Any, *, limit: int | None = None, longest: int = LONGEST_SIDE
) -> LocalMedia:
    """The zip (``application/zip`` :class:`LocalMedia`) of a training set, made to fit
    ``limit`` bytes (default :data:`UPLOAD_LIMIT`, 100 MB).

    ``images``: see :func:`gather`. Images are kept, scaled down when larger than ``longest``
    px (see :func:`shrunk`); caption files (``.txt``, ``.caption``) are kept beside them;
    other files are left out. Raises ``ValueError`` when no image is left, and
    :class:`TrainingSetTooLarge` (a ``ValueError``) when the zip would exceed ``limit``.
    """
    limit = UPLOAD_LIMIT if limit is None else limit
    members: list[_Member] = []
    taken: set[str] = set()
    for name, data in gather(images):
        if _is_image(name, data):
            name, data = shrunk(name, data, longest)
            members.append(_Member(_unique(name, taken), data, True))
        elif name.lower().endswith(CAPTION_SUFFIXES):
            members.append(_Member(_unique(name, taken), data, False))
    count = sum(m.image for m in members)
    if not count:
        raise ValueError("images: no image among them (PNG, JPEG or WebP files, or a zip)")
    estimate = _ZIP_END + sum(len(m.data) + _PER_MEMBER + 2 * len(m.name) for m in members)
    if estimate > limit:
        raise TrainingSetTooLarge(estimate, limit, _to_drop(members, estimate, limit), count)
    buffer = io.BytesIO()
    # Stored, not deflated: JPEG and PNG do not shrink, and storing is fast.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for member in members:
            archive.writestr(member.name, member.data)
    data = buffer.getvalue()
    if len(data) > limit:  # the estimate is generous; this is the rule
        raise TrainingSetTooLarge(len(data), limit, _to_drop(members, len(data), limit), count)
    return LocalMedia(data, "application/zip", "training-set.zip")


def _to_drop(members: list[_Member], size: int, limit: int) -> int:
    """How many images, the largest first, must go for ``size`` to come under ``limit``."""
    drop = 0
    for member in sorted((m for m in members if m.image), key=lambda m: -len(m.data)):
        if size <= limit:
            break
        size -= len(member.data) + _PER_MEMBER + 2 * len(member.name)
        drop += 1
    return drop
