"""Previews of pictures of every common shape: transparency on a light checkerboard (never
black), EXIF orientation, CMYK, 16-bit grey, palettes with a transparent colour, ICC profiles,
animations; every view makes them through the one function."""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image, ImageCms, ImageDraw

from eachlabs_widgets._display.thumbs import (
    preview_rgb,
    thumbnail_from_bytes,
    thumbnail_jpeg,
)
from eachlabs_widgets._schema.media import sniff_content_type


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def decoded(jpeg: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(jpeg))
    assert image.format == "JPEG" and image.mode == "RGB"
    return image


def brightness(image: Image.Image, xy: tuple[int, int]) -> float:
    return sum(image.getpixel(xy)) / 3


def sticker(mode: str = "RGBA") -> Image.Image:
    """A red disc on a fully transparent background stored as black, as encoders leave it."""
    art = Image.new("RGBA", (128, 128), (0, 0, 0, 0))
    ImageDraw.Draw(art).ellipse((32, 32, 96, 96), fill=(220, 30, 30, 255))
    return art if mode == "RGBA" else art.convert(mode)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "PA"])
def test_transparency_shows_light_never_black(mode):
    image = sticker() if mode != "LA" else sticker().convert("LA")
    if mode == "PA":
        image = sticker().convert("PA")
    sheet = decoded(thumbnail_jpeg([image], 64))
    assert min(brightness(sheet, xy) for xy in [(1, 1), (62, 1), (1, 62), (62, 62)]) > 200
    centre = sheet.getpixel((32, 32))
    assert mode == "LA" or (centre[0] > 150 and centre[1] < 90)  # the red disc stays red


def test_a_palette_png_with_a_transparent_colour_shows_light():
    image = Image.new("P", (40, 40), 0)
    image.putpalette([0, 0, 0, 200, 20, 20] + [0] * 762)
    ImageDraw.Draw(image).rectangle((10, 10, 30, 30), fill=1)
    data = encode(image, "PNG", transparency=0)
    sheet = decoded(thumbnail_from_bytes(data, 40))
    assert brightness(sheet, (2, 2)) > 200
    assert sheet.getpixel((20, 20))[0] > 150


def test_the_checkerboard_shows_behind_transparency():
    sheet = decoded(thumbnail_jpeg([Image.new("RGBA", (64, 64), (0, 0, 0, 0))], 64))
    squares = sorted([brightness(sheet, (3, 3)), brightness(sheet, (11, 3))])
    assert 215 < squares[0] < 240 and squares[1] > 245


def test_exif_orientation_shows_a_phone_photo_upright():
    # Stored 60×30 (landscape) with "rotate 90° to view": the camera held upright.
    stored = Image.new("RGB", (60, 30), (20, 20, 200))
    ImageDraw.Draw(stored).rectangle((0, 0, 9, 29), fill=(250, 250, 0))  # yellow on the left
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(stored, "JPEG", exif=exif, quality=95)
    sheet = decoded(thumbnail_from_bytes(data, 60))
    assert sheet.size == (30, 60)  # portrait, as the phone showed it
    top = sheet.getpixel((15, 3))
    assert top[0] > 200 and top[1] > 200 and top[2] < 100  # the left edge is now on top
    from eachlabs_widgets._display.render import picture_size

    assert picture_size(data) == (30, 60)  # the page's box is upright too


def test_a_cmyk_jpeg_is_previewed_in_rgb():
    data = encode(Image.new("CMYK", (32, 32), (0, 255, 255, 0)), "JPEG")  # pure red in ink
    pixel = decoded(thumbnail_from_bytes(data, 32)).getpixel((16, 16))
    assert pixel[0] > 200 and pixel[1] < 60 and pixel[2] < 60


def test_16_bit_grey_is_scaled_not_clipped_to_white():
    image = Image.new("I;16", (32, 32), 0)
    ImageDraw.Draw(image).rectangle((16, 0, 31, 31), fill=32768)  # half brightness
    data = encode(image, "PNG")
    with Image.open(io.BytesIO(data)) as reopened:
        assert reopened.mode.startswith("I")
    sheet = decoded(thumbnail_from_bytes(data, 32))
    assert brightness(sheet, (4, 16)) < 20
    assert 110 < brightness(sheet, (28, 16)) < 145


def test_an_icc_profile_is_converted_to_srgb():
    # The same pixels tagged as a LAB-derived profile look different once managed; tagged sRGB
    # they look as stored: the conversion is really applied, and harmless where it should be.
    pixels = Image.new("RGB", (16, 16), (200, 100, 50))
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    wide = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    as_srgb = preview_rgb(Image.open(io.BytesIO(encode(pixels, "PNG", icc_profile=srgb))))
    assert all(
        abs(a - b) <= 2 for a, b in zip(as_srgb.getpixel((8, 8)), (200, 100, 50), strict=True)
    )
    other = Image.open(io.BytesIO(encode(pixels, "TIFF", icc_profile=wide)))
    assert preview_rgb(other).mode == "RGB"  # a profile that cannot map: shown as stored


@pytest.mark.parametrize("fmt", ["GIF", "WEBP"])
def test_an_animation_shows_its_first_frame_and_the_file_is_left_whole(fmt):
    frames = [Image.new("RGB", (32, 32), c) for c in ((220, 20, 20), (20, 220, 20), (20, 20, 220))]
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=80, loop=0)
    with Image.open(io.BytesIO(data)) as image:
        assert image.n_frames == 3
        image.seek(2)  # a viewer left it on its last frame
        pixel = decoded(thumbnail_jpeg([image], 32)).getpixel((16, 16))
        assert pixel[0] > 180 and pixel[2] < 80
        assert image.tell() == 0 and image.n_frames == 3


@pytest.mark.parametrize(
    "mode",
    [
        "1",
        "L",
        "LA",
        "La",
        "P",
        "PA",
        "RGB",
        "RGBA",
        "RGBa",
        "CMYK",
        "YCbCr",
        "LAB",
        "HSV",
        "I",
        "I;16",
        "I;16B",
        "F",
    ],
)
def test_every_mode_pillow_makes_gives_a_jpeg_of_the_asked_height(mode):
    sheet = decoded(thumbnail_jpeg([Image.new(mode, (50, 40))], 32))
    assert sheet.size == (40, 32)


def test_what_pillow_cannot_read_gives_no_preview():
    assert thumbnail_from_bytes(b"", 40) == b""
    assert thumbnail_from_bytes(b"\x89PNG\r\n\x1a\ntruncated", 40) == b""


def test_thumbnails_stay_light_jpegs():
    art = Image.effect_noise((1024, 1024), 60).convert("RGB")
    jpeg = thumbnail_jpeg([art], 256, 70)
    assert jpeg is not None and jpeg[:3] == b"\xff\xd8\xff" and len(jpeg) < 60_000


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\x00" * 16


@pytest.mark.parametrize(
    ("data", "ctype"),
    [
        (ftyp(b"avif", b"mif1", b"miaf"), "image/avif"),
        (ftyp(b"avis", b"msf1"), "image/avif"),
        (ftyp(b"mif1", b"avif"), "image/avif"),  # the generic brand first, AVIF compatible
        (ftyp(b"heic", b"mif1"), "image/heic"),
        (ftyp(b"mif1", b"heic"), "image/heic"),
        (ftyp(b"heix"), "image/heic"),
        (ftyp(b"msf1", b"hevc"), "image/heic"),
        (ftyp(b"isom", b"iso2", b"mp41"), "video/mp4"),
        (ftyp(b"qt  "), "video/quicktime"),
    ],
)
def test_iso_bmff_files_are_told_by_their_brands(data, ctype):
    assert sniff_content_type(data) == ctype


def test_a_real_avif_is_an_image_pillow_previews():
    from PIL import features

    if not features.check("avif"):
        pytest.skip("this Pillow cannot write AVIF")
    data = encode(sticker(), "AVIF")
    assert sniff_content_type(data) == "image/avif"
    assert brightness(decoded(thumbnail_from_bytes(data, 64)), (2, 2)) > 200


# -- end to end: outputs served over loopback, as the service's CDN would -------------------


def serve(stand, data: bytes, ctype: str, ext: str) -> None:
    stand.output = lambda st, pid, inputs: [f"{st.url}/files/{pid}/0.{ext}"]
    stand.files = lambda handler, st: (200, {"Content-Type": ctype}, data)


def embedded_thumbnail(generation) -> Image.Image:
    import base64
    import re

    html = generation._repr_mimebundle_()["text/html"]
    found = re.search(r"data:image/jpeg;base64,([A-Za-z0-9+/=]+)", html)
    assert found, html[:300]
    return decoded(base64.b64decode(found.group(1)))


async def test_a_transparent_output_is_light_in_the_cell_and_keeps_alpha_on_disk(
    stand, stand_client, tmp_path
):
    serve(stand, encode(sticker(), "PNG"), "image/png", "png")
    generation = await stand_client.run(
        "flux-2-turbo-text-to-image", {"prompt": "a sticker"}, save_to=str(tmp_path)
    )
    sheet = embedded_thumbnail(generation)
    assert brightness(sheet, (2, 2)) > 200
    with Image.open(generation.paths[0]) as saved:
        assert saved.mode == "RGBA" and saved.getpixel((2, 2))[3] == 0


async def test_an_avif_output_is_an_image_saved_as_avif(stand, stand_client, tmp_path):
    from PIL import features

    if not features.check("avif"):
        pytest.skip("this Pillow cannot write AVIF")
    serve(stand, encode(sticker(), "AVIF"), "image/avif", "avif")
    generation = await stand_client.run(
        "flux-2-turbo-text-to-image", {"prompt": "a sticker"}, save_to=str(tmp_path)
    )
    assert generation.outputs[0].is_image and len(generation.images) == 1
    assert [p.suffix for p in generation.paths] == [".avif"]
    assert brightness(embedded_thumbnail(generation), (2, 2)) > 200


async def test_a_heic_output_without_pillow_heif_is_kept_and_linked_never_video(
    stand, stand_client, tmp_path, monkeypatch
):
    from eachlabs_widgets._display import thumbs

    monkeypatch.setitem(thumbs._codecs, "heif", False)  # as where pillow-heif is not installed
    serve(stand, ftyp(b"heic", b"mif1", b"heic") + b"\x00" * 256, "image/heic", "heic")
    generation = await stand_client.run(
        "flux-2-turbo-text-to-image", {"prompt": "a photo"}, save_to=str(tmp_path)
    )
    assert generation.outputs[0].is_image
    assert [p.suffix for p in generation.paths] == [".heic"]
    assert "pillow-heif" in generation.undecodable[0]
    html = generation._repr_mimebundle_()["text/html"]
    assert "video" not in html.lower() and ".heic" in html


async def test_full_embed_of_a_format_browsers_cannot_show_is_a_jpeg_of_it(stand, stand_client):
    from eachlabs_widgets._display.render import generation_bundle

    serve(stand, encode(Image.new("RGB", (40, 30), (10, 200, 10)), "TIFF"), "image/tiff", "tif")
    generation = await stand_client.run("flux-2-turbo-text-to-image", {"prompt": "x"})
    html = generation_bundle(generation, "full")["text/html"]
    assert "data:image/tiff" not in html and "data:image/jpeg;base64," in html
    assert "width='40' height='30'" in html
