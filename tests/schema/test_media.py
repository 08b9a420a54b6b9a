import io
from pathlib import Path

import pytest
from PIL import Image

from eachlabs_widgets._schema.media import LocalMedia, is_local_media, media_kind, to_local_media
from eachlabs_widgets.emulator import load_catalog

STRING = {"type": "string"}


@pytest.mark.parametrize(
    ("name", "prop", "kind"),
    [
        ("image_url", STRING, "image"),
        ("image", STRING, "image"),
        ("mask", STRING, "image"),
        ("images_data_url", STRING, "archive"),
        ("audio_url", STRING, "audio"),
        ("video", STRING, "video"),
        ("resume_from_checkpoint", STRING, "other"),
        ("reference", {"description": "URL of the reference image"}, "image"),
        ("image_size", STRING, None),
        ("num_images", {"type": "integer"}, None),
        ("output_format", STRING, None),
        ("prompt", STRING, None),
        ("image", {"type": "integer"}, None),
    ],
)
def test_media_fields_by_name_and_description(name, prop, kind):
    assert media_kind(name, prop) == kind


def test_the_catalogues_file_inputs():
    found = {
        (m["slug"], name)
        for m in load_catalog()
        for name, prop in m["request_schema"]["properties"].items()
        if media_kind(name, prop)
    }
    assert ("wan-v2-6-text-to-image", "image_url") in found
    assert ("ideogram-v3-turbo", "mask") in found
    assert ("flux-lora-portrait-trainer", "images_data_url") in found
    assert not any(name in ("image_size", "num_images", "max_images") for _, name in found)


def test_local_values_become_uploads(tmp_path):
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "PNG")
    path = tmp_path / "photo.png"
    path.write_bytes(buffer.getvalue())
    for value in (buffer.getvalue(), path, str(path), Image.open(path)):
        media = to_local_media(value)
        assert media.content_type == "image/png"
        assert media.data.startswith(b"\x89PNG")
    assert is_local_media(Path("x")) and not is_local_media("https://cdn/x.png")
    assert is_local_media(Image.new("RGB", (2, 2))) and not is_local_media(Image)
    assert "bytes" in repr(LocalMedia(b"123", "application/zip", "a.zip"))
    with pytest.raises(TypeError):
        to_local_media(42)
