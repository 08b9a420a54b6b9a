"""The one way a picture becomes a preview: every view's thumbnail is made here.

The cell and the saved notebook, a live card, the panel's stage, strip and lightbox, training
previews and a form's image-input preview all call :func:`thumbnail_jpeg` (decoded images) or
:func:`thumbnail_from_bytes` (a file's bytes). A preview is a light JPEG, and a picture of any
common shape shows as a viewer shows the file:

- transparency (RGBA, LA, a palette or a grey image with a transparent colour) is composited
  onto a light checkerboard, never dropped to black; the saved file keeps its alpha;
- EXIF orientation is applied (a phone photo shows upright);
- an embedded ICC profile is converted to sRGB; CMYK becomes RGB;
- 16-bit and 32-bit grey (``I;16``, ``I``, ``F``) is scaled to 8 bits, not clipped to white;
- an animated GIF or WebP shows its first frame (the file is kept whole);
- HEIC/HEIF decodes when the optional ``pillow-heif`` is installed (``pip install
  eachlabs-widgets[heic]``); without it the file is kept and shown as a link.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "CHECKER",
    "SHEET_GAP",
    "load_imaging",
    "open_picture",
    "preview_rgb",
    "register_optional_codecs",
    "thumbnail_from_bytes",
    "thumbnail_jpeg",
]

#: The gap between the pictures of a thumbnail sheet (px).
SHEET_GAP = 6
#: The checkerboard under transparent pixels: squares of this size (px) in two light greys.
CHECKER = (8, (255, 255, 255), (230, 230, 230))
_codecs: dict[str, bool] = {}


def load_imaging() -> None:
    """Import every part of Pillow a preview uses, and its format plugins, on the calling
    thread (then a worker thread that makes previews imports nothing)."""
    from PIL import Image, ImageDraw, ImageOps  # noqa: F401

    with contextlib.suppress(ImportError):  # a Pillow built without LittleCMS
        from PIL import ImageCms  # noqa: F401
    Image.init()
    register_optional_codecs()


def register_optional_codecs() -> bool:
    """Let Pillow open HEIC/HEIF when ``pillow-heif`` is installed; True when it can."""
    if "heif" not in _codecs:
        try:
            from pillow_heif import register_heif_opener
        except ImportError:
            _codecs["heif"] = False
        else:
            register_heif_opener()
            _codecs["heif"] = True
    return _codecs["heif"]


def open_picture(data: bytes) -> Image.Image:
    """``data`` opened by Pillow (HEIC too, with ``pillow-heif``) and loaded.

    Raises what Pillow raises for a file it cannot read (``OSError`` mostly)."""
    from PIL import Image

    if data[4:8] == b"ftyp":
        register_optional_codecs()
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def preview_rgb(image: Image.Image, size: tuple[int, int] | None = None) -> Image.Image:
    """``image`` as an 8-bit sRGB picture to look at (scaled to ``size`` when given): first
    frame, upright, colour-managed, transparency composited onto the checkerboard after
    scaling (so its squares stay crisp). ``image``'s pixels are left as they are (an
    animation is left on its first frame)."""
    return _finished(_prepared(image), size)


def thumbnail_jpeg(
    images: Sequence[Image.Image], height: int = 256, quality: int = 78
) -> bytes | None:
    """One JPEG holding every image side by side, ``height`` pixels high (each scaled on its
    own, :data:`SHEET_GAP` px apart, on white); ``None`` for no images. See the module for
    how transparency, orientation, colour profiles, bit depths and animations are shown."""
    if not images:
        return None
    from PIL import Image as PILImage

    scaled = []
    for image in images:
        picture = _prepared(image)
        ratio = height / max(1, picture.height)
        scaled.append(_finished(picture, (max(1, round(picture.width * ratio)), height)))
    width = sum(s.width for s in scaled) + SHEET_GAP * (len(scaled) - 1)
    sheet = PILImage.new("RGB", (width, height), (255, 255, 255))
    x = 0
    for s in scaled:
        sheet.paste(s, (x, 0))
        x += s.width + SHEET_GAP
    buffer = io.BytesIO()
    sheet.save(buffer, "JPEG", quality=quality, optimize=True)
    return buffer.getvalue()


def thumbnail_from_bytes(data: bytes, height: int, quality: int = 78) -> bytes:
    """:func:`thumbnail_jpeg` of a file's bytes; ``b""`` when Pillow cannot read them (a file
    still being written, not a picture, HEIC without ``pillow-heif``)."""
    if not data:
        return b""
    try:
        with open_picture(data) as image:
            return thumbnail_jpeg([image], height, quality) or b""
    except Exception:  # Pillow raises many kinds for a file it cannot read: no preview
        return b""


def _prepared(image: Image.Image) -> Image.Image:
    """The first frame, upright, 8 bits a channel: RGB, RGBA (transparency), L or CMYK; its
    ICC profile kept in ``info`` for :func:`_finished`."""
    from PIL import ImageOps

    frame = image
    if getattr(image, "n_frames", 1) > 1:  # an animation: its first frame
        with contextlib.suppress(EOFError):
            image.seek(0)
        frame = image.copy()
    icc = frame.info.get("icc_profile")
    picture = _eight_bit(ImageOps.exif_transpose(frame) or frame)
    if icc:  # converted after scaling: the same colours for a fraction of the pixels
        picture.info["icc_profile"] = icc
    return picture


def _finished(picture: Image.Image, size: tuple[int, int] | None) -> Image.Image:
    """A prepared picture scaled to ``size``, in sRGB, then laid on the checkerboard when it
    has alpha (after scaling, so the squares stay crisp): always a new RGB image."""
    from PIL import Image as PILImage

    icc = picture.info.get("icc_profile")
    if size is not None and size != picture.size:
        picture = picture.resize(size, PILImage.Resampling.LANCZOS)
        if icc:
            picture.info["icc_profile"] = icc
    picture = _to_srgb(picture)
    if picture.mode == "RGBA":
        return _on_checker(picture)
    return picture.convert("RGB")


def _eight_bit(image: Image.Image) -> Image.Image:
    """8 bits per channel, alpha kept as RGBA: deep grey scaled, palettes and grey expanded."""
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        grey = image.convert("F") if mode == "F" else image.convert("I")
        extrema = grey.getextrema()  # one band: (low, high)
        low, high = float(extrema[0]), float(extrema[1])  # type: ignore[arg-type]
        if mode.startswith("I;16") or (mode == "I" and low >= 0 and 255 < high <= 65535):
            scale, offset = 255 / 65535, 0.0  # 16 bits: kept as bright as it is
        elif mode == "I" and low >= 0 and high <= 255:
            scale, offset = 1.0, 0.0
        else:  # 32-bit or floating point: its own range spread over 8 bits
            span = high - low or 1.0
            scale, offset = 255 / span, -low * 255 / span
        return grey.point(lambda v: v * scale + offset).convert("L")
    if mode == "P":
        has_alpha = "transparency" in image.info or getattr(image.palette, "mode", "") == "RGBA"
        return image.convert("RGBA" if has_alpha else "RGB")
    if mode == "La":  # premultiplied grey: Pillow goes to RGBA through LA only
        return image.convert("LA").convert("RGBA")
    if mode in ("LA", "PA", "RGBa"):
        return image.convert("RGBA")
    if mode in ("L", "1") and "transparency" in image.info:
        return image.convert("RGBA")
    if mode == "RGB" and "transparency" in image.info:
        return image.convert("RGBA")
    return image


def _to_srgb(image: Image.Image) -> Image.Image:
    """Colours through the image's own ICC profile into sRGB; CMYK without one as Pillow
    converts it. Alpha is carried across."""
    icc = image.info.get("icc_profile")
    alpha = image.getchannel("A") if image.mode == "RGBA" else None
    converted: Image.Image | None = None
    if icc:
        try:
            from PIL import ImageCms

            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            base = image.convert("RGB") if image.mode == "RGBA" else image
            if base.mode in ("RGB", "CMYK", "L"):
                converted = ImageCms.profileToProfile(
                    base, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
                )
        except Exception:  # no LittleCMS, or a profile it cannot read: the colours as stored
            converted = None
    if converted is None:
        converted = image.convert("RGB") if image.mode not in ("RGB", "RGBA") else image
    if alpha is not None:
        converted = converted.convert("RGB")
        converted.putalpha(alpha)
    return converted


def _on_checker(image: Image.Image) -> Image.Image:
    """``image`` (RGBA) composited onto the light checkerboard of :data:`CHECKER`."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    size, light, dark = CHECKER
    board = PILImage.new("RGB", image.size, light)
    draw = ImageDraw.Draw(board)
    for y in range(0, image.height, size):
        for x in range((y // size) % 2 * size, image.width, 2 * size):
            draw.rectangle((x, y, x + size - 1, y + size - 1), fill=dark)
    board.paste(image, (0, 0), image)
    return board
