"""LoRA training: images zipped in memory for a trainer, and its weights offered to a LoRA model.

Pure functions (no widgets, no network). A trainer is a model whose form has an *archive*
input (``images_data_url``, ``image_data_url``: a URL of a zip of images); the client uploads
the :class:`LocalMedia` zip before the create. Which model a trainer's LoRA goes to comes from
the one table of ``_schema.lora`` (API.md, "LoRA training").
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._schema.lora import TRAINERS
from .._schema.media import LocalMedia, sniff_content_type

if TYPE_CHECKING:
    from .._generation import Generation
    from ..forms import FieldSpec

__all__ = [
    "BROUGHT_LORA_MODEL",
    "IMAGE_SUFFIXES",
    "archive_field",
    "lora_inputs",
    "lora_model_for",
    "lora_url",
    "zip_folder",
    "zip_images",
]

#: The model for a LoRA a user brings (a weights URL, no trainer of this catalogue): FLUX.2.
BROUGHT_LORA_MODEL = "flux-2-lora"


def lora_model_for(trainer: str | None) -> str:
    """The model that loads ``trainer``'s LoRAs (the table of ``_schema.lora``); for a LoRA
    that no trainer of the table made, :data:`BROUGHT_LORA_MODEL`."""
    spec = TRAINERS.get(trainer or "")
    return spec.loads_in if spec is not None else BROUGHT_LORA_MODEL


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff")
_CAPTION_SUFFIXES = (".txt", ".caption")


def archive_field(specs: Sequence[FieldSpec]) -> str | None:
    """The name of the first field that takes a zip archive, or ``None`` (not a trainer)."""
    return next((s.name for s in specs if s.kind == "media" and s.media == "archive"), None)


def _unique(name: str, taken: set[str]) -> str:
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    candidate, n = name, 1
    while candidate in taken:
        candidate = f"{stem}-{n}.{suffix}" if dot else f"{stem}-{n}"
        n += 1
    taken.add(candidate)
    return candidate


def zip_images(files: Iterable[tuple[str, bytes]], filename: str = "images.zip") -> LocalMedia:
    """A zip (``application/zip`` :class:`LocalMedia`) of the images among ``files``.

    ``files`` are ``(name, data)`` pairs, e.g. a ``FileUpload``'s value. Images are recognised
    by their bytes or their suffix; caption files (``.txt``) are kept beside them; anything else
    is skipped. One file that already is a zip is passed through as it is. Raises
    :class:`ValueError` when no image is left.
    """
    items = [(Path(name).name or "file", bytes(data)) for name, data in files]
    if len(items) == 1 and sniff_content_type(items[0][1]) == "application/zip":
        return LocalMedia(items[0][1], "application/zip", items[0][0])
    buffer = io.BytesIO()
    taken: set[str] = set()
    images = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, data in items:
            lowered = name.lower()
            is_image = sniff_content_type(data).startswith("image/") or lowered.endswith(
                IMAGE_SUFFIXES
            )
            if is_image:
                images += 1
            elif not lowered.endswith(_CAPTION_SUFFIXES):
                continue
            archive.writestr(_unique(name, taken), data)
    if not images:
        raise ValueError("no images to train on: choose PNG, JPEG or WebP files, or one zip")
    return LocalMedia(buffer.getvalue(), "application/zip", filename)


def zip_folder(folder: str | Path) -> LocalMedia:
    """The images (and captions) directly inside ``folder``, zipped; a ``.zip`` path as it is."""
    path = Path(folder).expanduser()
    if path.is_file():
        return zip_images([(path.name, path.read_bytes())], filename=path.name)
    if not path.is_dir():
        raise ValueError(f"no such folder: {path}")
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    return zip_images(((p.name, p.read_bytes()) for p in files), filename=f"{path.name}.zip")


def lora_url(generation: Generation) -> str | None:
    """The weights URL a trainer's run produced (a ``.safetensors`` file), or ``None``."""
    lora = generation.lora
    if lora is not None:
        return lora.url
    urls = list(generation.urls)
    for url in urls:
        if url.split("?", 1)[0].lower().endswith(".safetensors"):
            return url
    for out in generation.outputs:
        if out.data[:8] and not out.is_image and not out.data.lstrip().startswith(b"{"):
            return out.url
    return None


def lora_inputs(
    url: str, trainer_inputs: Mapping[str, Any] | None = None, scale: float = 1.0
) -> dict[str, Any]:
    """Inputs for a LoRA model that apply the LoRA at ``url``; the prompt starts with the
    trainer's trigger phrase when it had one."""
    inputs: dict[str, Any] = {"loras": [{"path": url, "scale": scale}]}
    trigger = (trainer_inputs or {}).get("trigger_phrase") or (trainer_inputs or {}).get(
        "trigger_word"
    )
    if isinstance(trigger, str) and trigger.strip():
        inputs["prompt"] = f"{trigger.strip()}, "
    return inputs
