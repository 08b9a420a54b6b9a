"""``export()``: images with their settings, as Hugging Face's ``imagefolder`` reads them.

The layout: the images, a ``metadata.jsonl`` with one line per image (``file_name``,
``prompt``, ``model``, ``seed``, ``inputs`` as a JSON string since models differ, ``cost``,
``created_at``, ``prediction_id``) and ``contact_sheet.png``, one grid of them all (which
``imagefolder`` leaves out: it has no line). Every column has one type whatever the models:
``seed`` a whole number or null, ``cost`` a number or null, the rest strings.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .._display.render import Results
from .._generation import Generation
from .._journal.files import safe_stem
from .._journal.journal import JournalEntry
from .._schema.media import sniff_content_type

__all__ = ["CONTACT_SHEET", "METADATA", "export"]

_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,150}")

METADATA = "metadata.jsonl"
CONTACT_SHEET = "contact_sheet.png"
#: A contact sheet's cell (pixels) and its most columns.
CELL, COLUMNS = 256, 6


@dataclass
class _Image:
    name: str  # the name it gets in the export
    data: bytes | None
    path: Path | None
    row: dict[str, Any]


def _records(items: Any) -> list[Generation | JournalEntry]:
    if isinstance(items, (Generation, JournalEntry)):
        return [items]
    if isinstance(items, Results):
        return [g for g in items if g is not None]
    if isinstance(items, (str, bytes, Path)) or not isinstance(items, Iterable):
        raise TypeError(
            "export() takes Results, Generations or journal entries (e.g. el.history(), "
            f"el.find(…)), not {type(items).__name__}"
        )
    out: list[Generation | JournalEntry] = []
    for item in items:
        if item is None:
            continue
        if not isinstance(item, (Generation, JournalEntry)):
            raise TypeError(
                f"export() takes Generations or journal entries, not {type(item).__name__}"
            )
        out.append(item)
    return out


def _seed(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _cost(metrics: Any) -> float | None:
    value = metrics.get("cost") if isinstance(metrics, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _row(item: Generation | JournalEntry, file_name: str) -> dict[str, Any]:
    prompt = item.inputs.get("prompt")
    created: datetime = item.created_at
    return {
        "file_name": file_name,
        "prompt": prompt if isinstance(prompt, str) else "",
        "model": item.model,
        "seed": _seed(item.inputs.get("seed")),
        "inputs": json.dumps(item.inputs, ensure_ascii=False, default=str, sort_keys=True),
        "cost": _cost(item.metrics),
        "created_at": created.isoformat(),
        "prediction_id": item.id,
    }


def _images(records: list[Generation | JournalEntry]) -> list[_Image]:
    """Each image of the records once, under a name of its own in the export."""
    taken: set[str] = set()
    out: list[_Image] = []
    seen: set[tuple[str, int]] = set()

    def name_for(original: str, ext: str) -> str:
        stem = Path(original).stem
        if not _PLAIN.fullmatch(stem):  # a saved file's name is kept; others made safe
            stem = safe_stem(stem, 80)
        name, n = f"{stem}{ext}", 1
        while name.casefold() in taken:
            n += 1
            name = f"{stem}-{n}{ext}"
        taken.add(name.casefold())
        return name

    for record in records:
        if isinstance(record, Generation):
            for index, output in enumerate(record.outputs):
                if (record.id, index) in seen or not output.is_image:
                    continue
                seen.add((record.id, index))
                path = record.paths[index] if index < len(record.paths) else None
                ext = _ext(output.data)
                original = path.name if path else record.file_stem(index)
                name = name_for(original, ext)
                out.append(_Image(name, output.data, None, _row(record, name)))
        else:
            for index, file in enumerate(record.files):
                path = Path(file)
                if (record.id, index) in seen or not path.is_file():
                    continue
                with open(path, "rb") as handle:
                    head = handle.read(32)
                if not sniff_content_type(head).startswith("image/"):
                    continue
                seen.add((record.id, index))
                name = name_for(path.name, _ext(head) or path.suffix.lower())
                out.append(_Image(name, None, path, _row(record, name)))
    return out


def _ext(data: bytes) -> str:
    kind = sniff_content_type(data[:32])
    return {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}.get(
        kind, "." + kind.split("/")[-1] if kind.startswith("image/") else ""
    )


def contact_sheet(images: list[bytes | Path]) -> bytes:
    """One PNG grid of ``images`` (each fitted in a ``CELL`` px square, at most ``COLUMNS``
    per row); an image that does not decode is a grey square."""
    from PIL import Image

    count = max(1, len(images))
    columns = min(COLUMNS, count)
    rows = -(-count // columns)
    sheet = Image.new("RGB", (columns * CELL, rows * CELL), "white")
    for i, source in enumerate(images):
        x, y = (i % columns) * CELL, (i // columns) * CELL
        try:
            with Image.open(source if isinstance(source, Path) else io.BytesIO(source)) as im:
                im.draft("RGB", (CELL, CELL))  # a JPEG decodes at a fraction of its size
                thumb = im.convert("RGB")
                thumb.thumbnail((CELL - 8, CELL - 8))
        except Exception:  # Pillow raises many kinds for a broken file
            thumb = Image.new("RGB", (CELL - 8, CELL - 8), (200, 200, 200))
        sheet.paste(thumb, (x + (CELL - thumb.width) // 2, y + (CELL - thumb.height) // 2))
    buffer = io.BytesIO()
    sheet.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def _write_folder(folder: Path, images: list[_Image]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for image in images:
        target = folder / image.name
        if image.path is not None:
            shutil.copyfile(image.path, target)
        else:
            assert image.data is not None
            target.write_bytes(image.data)
    lines = "".join(json.dumps(i.row, ensure_ascii=False) + "\n" for i in images)
    (folder / METADATA).write_text(lines, encoding="utf-8")
    sources: list[bytes | Path] = [folder / i.name for i in images]
    (folder / CONTACT_SHEET).write_bytes(contact_sheet(sources))


def export(items: Any, path: str | Path) -> Path:
    """Write the images of ``items`` with their settings to ``path``; returns ``path``.

    ``items``: ``Results`` (``find(…)``, a cell's ``-o``), ``Generation`` s or journal entries
    (``history()``), one or many; entries contribute the files still on disk. A ``path``
    ending in ``.zip`` gets one zip; any other is a folder (created; files of the same names
    in it are replaced). Either holds Hugging Face's ``imagefolder`` layout: the images, a
    ``metadata.jsonl`` (``file_name``, ``prompt``, ``model``, ``seed``, ``inputs`` as a JSON
    string, ``cost`` in USD, ``created_at`` in ISO 8601, ``prediction_id``), which
    ``datasets.load_dataset("imagefolder", data_dir=…)`` reads as it is, and a
    ``contact_sheet.png``.

    Raises ``TypeError`` for items of another kind, ``ValueError`` when they hold no image on
    disk or in memory, and ``OSError`` when ``path`` cannot be written (a zip is written
    whole under a temporary name first, so it is never left half-written).
    """
    images = _images(_records(items))
    if not images:
        raise ValueError("nothing to export: the items hold no image (files gone or none made)")
    target = Path(path).expanduser()
    if target.suffix.lower() != ".zip":
        _write_folder(target, images)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".export-", dir=target.parent) as staging:
        folder = Path(staging) / "data"
        _write_folder(folder, images)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w") as archive:
                for file in sorted(folder.iterdir()):
                    # images are compressed already: stored as they are, quickly
                    kind = (
                        zipfile.ZIP_DEFLATED if file.suffix in (".jsonl",) else zipfile.ZIP_STORED
                    )
                    archive.write(file, file.name, compress_type=kind)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return target
