"""Photo-like, deterministic images for the emulator's outputs.

An image is multi-octave value noise (small random grids upscaled with bicubic resampling and
blended), coloured through a gradient palette derived from the prompt (and any LoRA), with fine
per-pixel grain, the prompt's words across the middle (so runs that differ in their prompt differ
at a glance; the noise follows every visual input) and a stamp in the bottom-left corner: EMULATOR
in letters tall enough to read in a 256-pixel thumbnail, and the model's name.
Everything is drawn from ``random.Random`` seeded by the caller, so equal arguments give
byte-identical files. Noise and grain keep compressed sizes close to real generations.
"""

from __future__ import annotations

import colorsys
import io
import math
import random
import re
from collections.abc import Mapping
from typing import Any

from PIL import Image, ImageChops, ImageDraw, ImageFont, ImageOps, PngImagePlugin

MAX_SIDE = 2048
MIN_SIDE = 64
SOFTWARE = "eachlabs-widgets emulator"

NAMED_SIZES: dict[str, tuple[int, int]] = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
    "auto": (1024, 1024),
    "auto_2K": (2048, 2048),
    # The service makes 4096² here; the emulator caps every side at MAX_SIDE to stay fast.
    "auto_4K": (2048, 2048),
}

CONTENT_TYPES: dict[str, str] = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "jpg": "image/jpeg",
    "webp": "image/webp",
}

_WXH = re.compile(r"^\s*(\d{2,5})\s*[xX×*]\s*(\d{2,5})\s*$")
_RATIO = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)\s*$")
_RESOLUTION_AREA = {"1K": 1024 * 1024, "2K": 2048 * 2048, "4K": 4096 * 4096}


def _clamp(side: float) -> int:
    return max(MIN_SIDE, min(MAX_SIDE, round(side)))


def _cap(width: float, height: float) -> tuple[int, int]:
    """Scale down so the long side is at most MAX_SIDE, keeping the ratio."""
    long_side = max(width, height)
    if long_side > MAX_SIDE:
        width, height = width * MAX_SIDE / long_side, height * MAX_SIDE / long_side
    return _clamp(width), _clamp(height)


def parse_wxh(text: str) -> tuple[int, int] | None:
    match = _WXH.match(text)
    return (int(match.group(1)), int(match.group(2))) if match else None


def parse_ratio(text: str) -> float | None:
    match = _RATIO.match(text)
    if not match:
        return None
    w, h = float(match.group(1)), float(match.group(2))
    return w / h if w > 0 and h > 0 else None


def size_for_ratio(ratio: float, area: int = 1024 * 1024) -> tuple[int, int]:
    """About ``area`` pixels at ``ratio``, long side ≤ MAX_SIDE, sides multiples of 16."""
    width = math.sqrt(area * ratio)
    height = width / ratio
    scale = min(1.0, MAX_SIDE / max(width, height))
    return (
        _clamp(round(width * scale / 16) * 16),
        _clamp(round(height * scale / 16) * 16),
    )


def resolve_size(values: Mapping[str, Any], given: set[str]) -> tuple[int, int]:
    """The output size for coerced inputs ``values`` (``given``: the names actually sent).

    Order: ``width``+``height`` when given; ``image_size`` (named or ``"WxH"``); a ``"WxH"``
    ``resolution``; ``aspect_ratio`` at about one megapixel, scaled by ``resolution``
    1K/2K/4K (long side capped at 2048); else 1024².
    """
    width, height = values.get("width"), values.get("height")
    ratio_text = values.get("aspect_ratio")
    ratio = parse_ratio(ratio_text) if isinstance(ratio_text, str) else None
    if "width" in given or "height" in given:
        if isinstance(width, int) and isinstance(height, int):
            return _cap(width, height)
        r = ratio or 1.0
        if isinstance(width, int):
            return _cap(width, width / r)
        if isinstance(height, int):
            return _cap(height * r, height)
    image_size = values.get("image_size")
    if isinstance(image_size, str):
        if image_size in NAMED_SIZES:
            return NAMED_SIZES[image_size]
        parsed = parse_wxh(image_size)
        if parsed:
            return _cap(*parsed)
    resolution = values.get("resolution")
    if isinstance(resolution, str):
        parsed = parse_wxh(resolution)
        if parsed:
            return _cap(*parsed)
    area = _RESOLUTION_AREA.get(resolution, 1024 * 1024) if isinstance(resolution, str) else None
    if ratio is not None:
        return size_for_ratio(ratio, area or 1024 * 1024)
    if area is not None and area > 1024 * 1024:
        return size_for_ratio(1.0, area)
    return 1024, 1024


def _palette(seed: int) -> list[int]:
    """A 768-entry LUT (R, G, B planes) for a dark-to-light gradient through related hues."""
    rng = random.Random(seed)
    base = rng.random()
    stops = []
    for k in range(5):
        hue = (base + rng.uniform(-0.2, 0.2)) % 1.0
        sat = rng.uniform(0.3, 0.85)
        val = 0.1 + 0.85 * k / 4 + rng.uniform(-0.05, 0.05)
        stops.append(colorsys.hsv_to_rgb(hue, sat, min(1.0, max(0.0, val))))
    lut: list[int] = []
    for channel in range(3):
        for x in range(256):
            t = x / 255 * 4
            k = min(3, int(t))
            f = t - k
            mixed = stops[k][channel] * (1 - f) + stops[k + 1][channel] * f
            lut.append(max(0, min(255, int(mixed * 255))))
    return lut


_font_cache: dict[int, ImageFont.ImageFont | ImageFont.FreeTypeFont] = {}


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    font = _font_cache.get(size)
    if font is None:
        try:
            font = ImageFont.load_default(size=size)
        except (OSError, TypeError, ValueError):  # Pillow without FreeType
            font = ImageFont.load_default()
        _font_cache[size] = font
    return font


def render(
    width: int, height: int, *, seed: int, palette_seed: int, caption: str, words: str = ""
) -> Image.Image:
    """An RGB image of ``width``×``height``; equal arguments give equal pixels. ``caption``
    goes under the stamp, ``words`` (the prompt) across the middle."""
    rng = random.Random(seed)
    work = (max(2, width // 2), max(2, height // 2))
    long_side = max(width, height)
    acc: Image.Image | None = None
    weight = 0.0
    for octave, cells in enumerate((3, 6, 12, 24, 48, 96, 192)):
        gw = max(2, round(cells * width / long_side)) + 1
        gh = max(2, round(cells * height / long_side)) + 1
        grid = Image.frombytes("L", (gw, gh), rng.randbytes(gw * gh))
        layer = grid.resize(work, Image.Resampling.BICUBIC)
        amp = 0.55**octave
        if acc is None:
            acc, weight = layer, amp
        else:
            acc = Image.blend(acc, layer, amp / (weight + amp))
            weight += amp
    assert acc is not None
    acc = ImageOps.autocontrast(acc, cutoff=1)
    gray = acc.resize((width, height), Image.Resampling.BICUBIC)
    image = gray.convert("RGB").point(_palette(palette_seed))
    grain = Image.frombytes("L", (width, height), rng.randbytes(width * height))
    grain = grain.point([v * 20 // 255 for v in range(256)])
    image = ImageChops.add(image, Image.merge("RGB", (grain, grain, grain)), 1.0, -10)
    if words.strip():
        _words(image, words)
    _stamp(image, caption)
    return image


#: The stamp's letters are this share of the image's height (capitals at least 10 px tall in a
#: thumbnail 256 px high).
STAMP_SHARE = 1 / 14
STAMP = "EMULATOR"


def stamp_size(width: int, height: int) -> int:
    """The font size of the EMULATOR stamp in an image of ``width``×``height``."""
    size = max(12, round(height * STAMP_SHARE))
    return min(size, max(12, width // 6))  # eight letters must fit a narrow image


def _stamp(image: Image.Image, caption: str) -> None:
    """EMULATOR, large, and ``caption`` (the model) small beneath it, on a dark band."""
    width, height = image.size
    big = _font(stamp_size(width, height))
    small = _font(max(10, max(width, height) // 64))
    draw = ImageDraw.Draw(image)
    _, btop, bright, bbottom = draw.textbbox((0, 0), STAMP, font=big)
    _, stop, sright, sbottom = draw.textbbox((0, 0), caption, font=small)
    pad = max(3, (bbottom - btop) // 4)
    band_top = height - (bbottom - btop) - (sbottom - stop) - 4 * pad
    draw.rectangle((0, band_top, max(bright, sright) + 2 * pad, height), fill=(0, 0, 0))
    draw.text((pad, band_top + pad - btop), STAMP, font=big, fill=(250, 250, 250))
    draw.text(
        (pad, band_top + 2 * pad + (bbottom - btop) - stop),
        caption,
        font=small,
        fill=(220, 220, 220),
    )


def _wrapped(text: str, font: Any, draw: ImageDraw.ImageDraw, width: int, lines: int) -> list[str]:
    out: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if draw.textlength(trial, font=font) <= width or not current:
            current = trial
        else:
            out.append(current)
            current = word
        if len(out) == lines:
            break
    if current and len(out) < lines:
        out.append(current)
    return out


def _words(image: Image.Image, text: str) -> None:
    """The prompt's words across the middle, in a translucent band."""
    width, height = image.size
    font = _font(max(12, height // 16))
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    lines = _wrapped(" ".join(text.split())[:160], font, draw, int(width * 0.86), 3)
    if not lines:
        return
    line_height = sum(font.getmetrics()) if hasattr(font, "getmetrics") else height // 16
    block = line_height * len(lines)
    top = (height - block) // 2
    draw.rectangle(
        (0, top - line_height // 3, width, top + block + line_height // 3), fill=(0, 0, 0, 110)
    )
    for i, line in enumerate(lines):
        x = (width - draw.textlength(line, font=font)) / 2
        draw.text((x, top + i * line_height), line, font=font, fill=(255, 255, 255, 235))
    image.paste(Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB"))


def encode(image: Image.Image, fmt: str) -> bytes:
    """``image`` as ``png``, ``jpeg``/``jpg`` or ``webp`` bytes (deterministic settings)."""
    buffer = io.BytesIO()
    fmt = fmt.lower()
    if fmt == "png":
        info = PngImagePlugin.PngInfo()
        info.add_text("Software", SOFTWARE)
        image.save(buffer, "PNG", pnginfo=info, compress_level=1)
    elif fmt in ("jpeg", "jpg"):
        image.save(buffer, "JPEG", quality=90)
    elif fmt == "webp":
        image.save(buffer, "WEBP", quality=85, method=0)
    else:
        raise ValueError(f"unsupported image format {fmt!r}")
    return buffer.getvalue()
