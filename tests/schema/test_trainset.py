"""A training set made to fit the upload limit: gathered, scaled down, zipped."""

from __future__ import annotations

import io
import os
import zipfile

import pytest
from PIL import Image

from eachlabs_widgets._schema.trainset import (
    LONGEST_SIDE,
    UPLOAD_LIMIT,
    TrainingSetTooLarge,
    archive_input,
    training_zip,
)


def photo(size: tuple[int, int], colour=(200, 30, 30), fmt="PNG", orientation: int | None = None):
    image = Image.new("RGB", size, colour)
    buffer = io.BytesIO()
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation  # Orientation
        image.save(buffer, format=fmt, exif=exif)
    else:
        image.save(buffer, format=fmt)
    return buffer.getvalue()


def noise(size: tuple[int, int]) -> bytes:
    image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def members(media) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(media.data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_limit_is_the_records_100_mb_decimal():
    assert UPLOAD_LIMIT == 100_000_000


def test_large_images_are_scaled_down_with_exif_orientation_applied(tmp_path):
    # a phone photo stored landscape with "rotate 90°" in its EXIF: upright it is portrait
    (tmp_path / "face.jpg").write_bytes(photo((4000, 3000), fmt="JPEG", orientation=6))
    (tmp_path / "face.txt").write_text("a photo of TOK")
    (tmp_path / "small.png").write_bytes(small := photo((800, 600)))
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    media = training_zip(tmp_path)
    assert media.content_type == "application/zip"
    files = members(media)
    assert set(files) == {"face.jpg", "face.txt", "small.png"}  # the caption still matches
    with Image.open(io.BytesIO(files["face.jpg"])) as shrunk:
        assert shrunk.format == "JPEG"
        assert shrunk.size == (LONGEST_SIDE * 3 // 4, LONGEST_SIDE)  # upright, 1152×1536
    assert files["small.png"] == small  # already small enough: as it was


def test_a_list_of_pil_images_bytes_and_paths_and_a_zip(tmp_path):
    path = tmp_path / "a.png"
    path.write_bytes(photo((40, 40)))
    images = [Image.new("RGB", (2000, 1000)), photo((30, 30)), path, str(path)]
    files = members(training_zip(images))
    assert len(files) == 4
    assert any(name.endswith(".jpg") for name in files)  # the large PIL image was scaled
    again = members(training_zip(training_zip(images).data))  # a zip's bytes
    assert set(again) == set(files)


def test_no_images_is_refused():
    with pytest.raises(ValueError, match="no image"):
        training_zip([b"just text"])
    with pytest.raises(FileNotFoundError):
        training_zip("/no/such/folder")


def test_a_set_that_still_does_not_fit_says_how_many_images_to_drop():
    images = [noise((300, 300)) for _ in range(6)]  # ~270 KB each, not scaled (small)
    each = len(images[0])
    with pytest.raises(TrainingSetTooLarge) as info:
        training_zip(images, limit=int(each * 4.5))
    error = info.value
    assert error.drop == 2 and error.images == 6
    assert "drop at least 2 of its 6 images" in str(error)
    assert "MB upload limit" in str(error) and "Nothing was uploaded" in str(error)
    assert len(training_zip(images[:4], limit=int(each * 4.5)).data) <= each * 4.5


def test_the_archive_input_is_found_from_the_schema():
    assert archive_input({"properties": {"image_data_url": {"type": "string"}}}) == "image_data_url"
    both = {"properties": {"trigger_phrase": {"type": "string"}, "images_data_url": {}}}
    assert archive_input(both) == "images_data_url"
    assert archive_input({"properties": {"prompt": {"type": "string"}}}) is None
