"""The settings of an image in the form other tools read: A1111's ``parameters`` text.

Stable Diffusion web UI (A1111) writes a picture's settings as one text: the prompt, then a
``Negative prompt: …`` line when there is one, then ``Key: value, …`` pairs. Civitai, A1111's
"PNG Info" and ComfyUI's loaders read that text: in a PNG from a ``parameters`` text chunk,
in a JPEG or WebP from the EXIF ``UserComment``. This module writes that text (and the EXIF
block that carries it) and reads it back.
"""

from __future__ import annotations

import io
import re
import struct
from collections.abc import Mapping
from typing import Any

__all__ = [
    "A1111_KEY",
    "a1111_text",
    "embed_webp_exif",
    "exif_block",
    "image_size",
    "parse_a1111",
    "png_text_chunk",
]

#: The PNG text chunk A1111 writes its settings to.
A1111_KEY = "parameters"

#: Our input names for A1111's keys, in the order A1111 writes them.
_STEPS = ("num_inference_steps", "steps", "num_steps")
_CFG = ("guidance_scale", "cfg_scale", "guidance", "cfg")
_NEGATIVE = ("negative_prompt",)


def _first(inputs: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        value = inputs.get(name)
        if value is not None and value != "":
            return value
    return None


def _one_line(value: Any) -> str:
    # A value may not break the "Key: value, …" line (A1111 quotes values with commas).
    text = str(value).replace("\n", " ").replace("\r", " ")
    if "," in text or ":" in text:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text


def a1111_text(parameters: Mapping[str, Any], size: tuple[int, int] | None) -> str | None:
    """The A1111 ``parameters`` text of a saved output, or None without a prompt.

    ``parameters`` is what the package records with each file (``model``, ``inputs``…);
    ``size`` the image's (width, height) in pixels. Only what the model has is written:
    ``Steps`` (``num_inference_steps``), ``CFG scale`` (``guidance_scale``), ``Seed``, ``Size``
    and ``Model`` (the slug).
    """
    inputs = parameters.get("inputs")
    if not isinstance(inputs, Mapping):
        return None
    prompt = inputs.get("prompt")
    if not isinstance(prompt, str):
        return None
    lines = [prompt]
    negative = _first(inputs, _NEGATIVE)
    if isinstance(negative, str) and negative.strip():
        lines.append(f"Negative prompt: {negative}")
    pairs: list[tuple[str, Any]] = []
    for key, names in (("Steps", _STEPS), ("CFG scale", _CFG), ("Seed", ("seed",))):
        value = _first(inputs, names)
        if value is not None and not isinstance(value, (dict, list)):
            pairs.append((key, value))
    if size is not None:
        pairs.append(("Size", f"{size[0]}x{size[1]}"))
    model = parameters.get("model")
    if model:
        pairs.append(("Model", model))
    if pairs:
        lines.append(", ".join(f"{key}: {_one_line(value)}" for key, value in pairs))
    return "\n".join(lines)


_PAIR = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
_KNOWN = re.compile(r"^\s*(Steps|Seed|Size|CFG scale|Model|Sampler):")


def parse_a1111(text: str) -> dict[str, Any]:
    """A1111's ``parameters`` text as ``{"prompt", "negative_prompt", "settings"}``.

    ``settings`` maps each key of the last line (``Steps``, ``CFG scale``, ``Seed``, ``Size``…)
    to its text, unquoted. A text without a settings line is all prompt.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    settings: dict[str, str] = {}
    last = lines[-1] if lines else ""
    # As A1111 reads it: the last line holds the settings when it has three pairs or more (or,
    # for our own short ones, starts with a key A1111 writes).
    if len(lines) > 1 and (len(_PAIR.findall(last)) >= 3 or _KNOWN.match(last)):
        lines = lines[:-1]
        for match in _PAIR.finditer(last):
            key, value = match.group(1).strip(), match.group(2).strip()
            if value.startswith('"') and value.endswith('"') and len(value) >= 2:
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            if key:
                settings[key] = value
    prompt_lines: list[str] = []
    negative_lines: list[str] | None = None
    for line in lines:
        if negative_lines is None and line.startswith("Negative prompt:"):
            negative_lines = [line[len("Negative prompt:") :].strip()]
        elif negative_lines is not None:
            negative_lines.append(line)
        else:
            prompt_lines.append(line)
    out: dict[str, Any] = {"prompt": "\n".join(prompt_lines).strip(), "settings": settings}
    if negative_lines is not None:
        out["negative_prompt"] = "\n".join(negative_lines).strip()
    return out


# -- carrying the text --------------------------------------------------------------------


def png_text_chunk(key: str, text: str) -> bytes:
    """A PNG chunk holding ``text`` under ``key``: ``tEXt`` when it is Latin-1, else an
    uncompressed ``iTXt`` (UTF-8), as Pillow and A1111 write it."""
    import zlib

    try:
        kind, body = b"tEXt", key.encode("latin-1") + b"\x00" + text.encode("latin-1")
    except UnicodeEncodeError:
        kind = b"iTXt"
        body = key.encode("latin-1") + b"\x00\x00\x00\x00\x00" + text.encode("utf-8")
    crc = struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    return struct.pack(">I", len(body)) + kind + body + crc


def exif_block(text: str) -> bytes:
    """A big-endian TIFF (EXIF) block whose Exif IFD holds ``text`` as ``UserComment``
    (``UNICODE`` + UTF-16BE, as A1111 writes it with piexif)."""
    comment = b"UNICODE\x00" + text.encode("utf-16-be")
    # header (8) | IFD0: 1 entry (2 + 12 + 4) | Exif IFD: 1 entry (2 + 12 + 4) | comment
    ifd0 = 8
    exif_ifd = ifd0 + 18
    data_at = exif_ifd + 18
    out = b"MM\x00\x2a" + struct.pack(">I", ifd0)
    out += struct.pack(">H", 1) + struct.pack(">HHII", 0x8769, 4, 1, exif_ifd) + b"\x00" * 4
    out += struct.pack(">H", 1) + struct.pack(">HHII", 0x9286, 7, len(comment), data_at)
    out += b"\x00" * 4
    return out + comment


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of an image from its header alone, or None when Pillow cannot tell."""
    import warnings

    try:
        from PIL import Image

        with warnings.catch_warnings():
            # only the header is read: a huge size is no danger here
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                return int(image.width), int(image.height)
    except Exception:  # Pillow raises many kinds for what it does not know
        return None


def embed_webp_exif(data: bytes, text: str) -> bytes:
    """``data`` (a WebP) with ``text`` as its EXIF ``UserComment``; unchanged when it already
    has EXIF or is not a WebP this understands. The image data itself is not touched: a simple
    file gets the extended header (``VP8X``) that announces the EXIF chunk."""
    if len(data) < 30 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return data
    chunks = data[12:]
    first = chunks[:4]
    size = image_size(data)
    if size is None:
        return data
    if first == b"VP8X":
        flags = chunks[8]
        if flags & 0x08:
            return data
        header = chunks[:8] + bytes([flags | 0x08]) + chunks[9:18]
        body = header + chunks[18:]
    elif first in (b"VP8 ", b"VP8L"):
        width, height = size
        vp8x = b"VP8X" + struct.pack("<I", 10) + bytes([0x08, 0, 0, 0])
        vp8x += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        body = vp8x + chunks
    else:
        return data
    exif = exif_block(text)
    body += b"EXIF" + struct.pack("<I", len(exif)) + exif + (b"\x00" if len(exif) % 2 else b"")
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body
