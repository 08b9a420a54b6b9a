"""A1111's ``parameters`` text in every saved image: PNG text chunk before the image data, JPEG
and WebP EXIF ``UserComment``; read back by Pillow as other tools read it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from eachlabs_widgets._journal.files import embed_metadata, write_output
from eachlabs_widgets._journal.metadata import a1111_text, parse_a1111

PARAMS = {
    "model": "flux-2-pro",
    "prediction_id": "abc123",
    "inputs": {
        "prompt": "a red fox, in snow",
        "negative_prompt": "blurry",
        "seed": 7,
        "num_inference_steps": 28,
        "guidance_scale": 3.5,
    },
}


def _image(fmt: str, size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, fmt)
    return buffer.getvalue()


def _user_comment(image: Image.Image) -> str:
    raw = image.getexif().get_ifd(0x8769)[0x9286]
    assert raw[:8] == b"UNICODE\x00"
    return str(raw[8:].decode("utf-16-be"))


EXPECTED = (
    "a red fox, in snow\nNegative prompt: blurry\n"
    "Steps: 28, CFG scale: 3.5, Seed: 7, Size: 64x48, Model: flux-2-pro"
)


def test_a_saved_png_carries_a1111_parameters_before_its_image_data(tmp_path: Path) -> None:
    path = write_output(tmp_path, "fox", ".png", _image("PNG"), PARAMS)
    data = path.read_bytes()
    assert data.index(b"tEXtparameters") < data.index(b"IDAT")
    with Image.open(path) as image:
        assert image.info["parameters"] == EXPECTED
        assert json.loads(image.info["eachlabs"])["prediction_id"] == "abc123"
        assert image.size == (64, 48)  # the pixels are untouched


@pytest.mark.parametrize("fmt,ext", [("JPEG", ".jpg"), ("WEBP", ".webp")])
def test_jpeg_and_webp_carry_it_as_exif_user_comment(tmp_path: Path, fmt: str, ext: str) -> None:
    path = write_output(tmp_path, "fox", ext, _image(fmt), PARAMS)
    with Image.open(path) as image:
        image.load()
        assert image.format == fmt and image.size == (64, 48)
        assert _user_comment(image) == EXPECTED


def test_a_staged_download_gets_the_same_text(tmp_path: Path) -> None:
    data = _image("PNG")
    staged = tmp_path / ".staged"
    staged.write_bytes(data)
    path = write_output(tmp_path, "fox", ".png", data, PARAMS, staged=staged)
    with Image.open(path) as image:
        assert image.info["parameters"] == EXPECTED


def test_a_prompt_beyond_latin1_is_kept_whole() -> None:
    params = {"model": "m", "inputs": {"prompt": "雪の中の狐 🦊"}}
    with Image.open(io.BytesIO(embed_metadata(_image("PNG"), params))) as image:
        assert image.info["parameters"].splitlines()[0] == "雪の中の狐 🦊"


def test_only_what_the_model_has_is_written() -> None:
    text = a1111_text({"model": "gpt-image", "inputs": {"prompt": "p"}}, (1024, 1024))
    assert text == "p\nSize: 1024x1024, Model: gpt-image"
    assert a1111_text({"model": "m", "inputs": {"image_url": "x"}}, None) is None


def test_values_with_commas_are_quoted_and_read_back() -> None:
    params = {"model": "m", "inputs": {"prompt": "p", "seed": 1, "guidance_scale": "a, b"}}
    text = a1111_text(params, (8, 8))
    assert text is not None and 'CFG scale: "a, b"' in text
    assert parse_a1111(text)["settings"]["CFG scale"] == "a, b"


def test_parse_reads_an_a1111_text() -> None:
    text = (
        "masterpiece, a castle\non a hill\nNegative prompt: lowres, bad hands\n"
        "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 1234, Size: 768x512, "
        "Model hash: abc, Model: sdxl"
    )
    parsed = parse_a1111(text)
    assert parsed["prompt"] == "masterpiece, a castle\non a hill"
    assert parsed["negative_prompt"] == "lowres, bad hands"
    assert parsed["settings"]["Sampler"] == "DPM++ 2M Karras"
    assert parsed["settings"]["Size"] == "768x512"
    assert parse_a1111("just a prompt, nothing else") == {
        "prompt": "just a prompt, nothing else",
        "settings": {},
    }
