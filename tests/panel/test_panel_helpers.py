"""The panel's pure helpers: catalogue filter, zipping training images, LoRA."""

from __future__ import annotations

import io
import zipfile

import pytest

from eachlabs_widgets import Generation, LocalMedia, Output
from eachlabs_widgets.emulator import load_catalog
from eachlabs_widgets.panel import (
    filter_models,
    lora_inputs,
    lora_url,
    model_label,
    zip_folder,
    zip_images,
)
from eachlabs_widgets.panel._catalog import model_category, picker_options
from eachlabs_widgets.panel._picker import ModelPicker

from .conftest import png

MODELS = [
    {"slug": "flux-2-turbo-text-to-image", "title": "Flux 2 | Turbo", "category": "Text to Image"},
    {"slug": "flux-2-lora", "title": "Flux 2 | Text to Image Lora", "category": "Text to Image"},
    {"slug": "flux-lora-portrait-trainer", "title": "Flux Lora | Portrait", "category": "Training"},
    {"slug": "imagen-4-fast", "title": "imagen-4-fast"},
]


def slugs(models):
    return [m["slug"] for m in models]


def test_filter_needs_every_word_in_any_case():
    assert slugs(filter_models(MODELS, "FLUX lora")) == [
        "flux-2-lora",
        "flux-lora-portrait-trainer",
    ]
    assert slugs(filter_models(MODELS, "training")) == ["flux-lora-portrait-trainer"]
    assert slugs(filter_models(MODELS, "  ")) == slugs(MODELS)
    assert filter_models(MODELS, "nothing-like-this") == []


def test_labels_and_options_keep_the_current_model():
    assert model_label(MODELS[0]) == "flux-2-turbo-text-to-image — Flux 2 | Turbo"
    assert model_label(MODELS[3]) == "imagen-4-fast"
    options = picker_options(MODELS, "trainer", current="flux-2-lora")
    assert [slug for _, slug in options] == ["flux-2-lora", "flux-lora-portrait-trainer"]
    assert [s for _, s in picker_options(MODELS, "lora", "flux-2-lora")] == [
        "flux-2-lora",
        "flux-lora-portrait-trainer",
    ]


def listed(slug: str) -> dict:
    """The model as ``GET /v1/models`` lists it: no category (API.md, "Endpoints")."""
    [model] = [m for m in load_catalog() if m["slug"] == slug]
    return {k: model[k] for k in ("title", "slug", "version", "output_type", "request_schema")}


def test_category_is_read_from_what_the_list_carries():
    assert model_category(listed("flux-lora-portrait-trainer")) == "Training"
    assert model_category(listed("z-image-trainer")) == "Training"
    assert model_category(listed("flux-2-lora")) == "LoRA"
    assert model_category(listed("bfl-flux-lora")) == "LoRA"
    assert model_category(listed("flux-2-pro")) == "Text to Image"
    assert model_category(listed("imagen-4-fast")) == "Text to Image"
    edit = {"slug": "x-edit", "request_schema": {"required": ["prompt", "image_url"]}}
    edit["request_schema"]["properties"] = {"prompt": {}, "image_url": {}}
    assert model_category(edit) == "Image to Image"
    assert model_category({"slug": "clip", "output_type": "video"}) == "Video"
    assert model_category({"slug": "mystery"}) == ""
    # a listing that does say its category is believed
    assert model_category({"slug": "a", "category": " Upscale "}) == "Upscale"


def test_picker_filters_and_shows_the_derived_category():
    models = [listed(s) for s in ("flux-2-pro", "flux-lora-portrait-trainer", "bfl-flux-lora")]
    assert slugs(filter_models(models, "training")) == ["flux-lora-portrait-trainer"]
    assert slugs(filter_models(models, "lora")) == ["flux-lora-portrait-trainer", "bfl-flux-lora"]
    picker = ModelPicker()
    picker.set_models(models)
    assert [e["category"] for e in picker.models] == ["Text to Image", "Training", "LoRA"]
    assert picker.matches("text to image") == ["flux-2-pro"]


def names(media: LocalMedia) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(media.data)) as archive:
        return archive.namelist()


def test_zip_images_keeps_images_and_captions_only():
    media = zip_images(
        [
            ("a.png", png((255, 0, 0))),
            ("dir/a.png", png((0, 255, 0))),  # same name: renamed, not overwritten
            ("a.txt", b"a caption"),
            ("notes.pdf", b"%PDF-1.4"),
            ("photo.JPG", b"\xff\xd8\xff\xe0 not really"),
        ]
    )
    assert media.content_type == "application/zip"
    assert names(media) == ["a.png", "a-1.png", "a.txt", "photo.JPG"]
    with zipfile.ZipFile(io.BytesIO(media.data)) as archive:
        assert archive.read("a-1.png") == png((0, 255, 0))


def test_one_zip_passes_through_and_no_images_is_an_error(tmp_path):
    inner = zip_images([("x.png", png((1, 2, 3)))])
    assert zip_images([("mine.zip", inner.data)]).data == inner.data
    with pytest.raises(ValueError, match="no images"):
        zip_images([("readme.txt", b"hi")])
    with pytest.raises(ValueError, match="no such folder"):
        zip_folder(tmp_path / "missing")


def test_zip_folder(tmp_path):
    for i in range(3):
        (tmp_path / f"{i}.png").write_bytes(png((i, i, i)))
    (tmp_path / ".hidden.png").write_bytes(png((9, 9, 9)))
    media = zip_folder(tmp_path)
    assert names(media) == ["0.png", "1.png", "2.png"]
    assert media.filename == f"{tmp_path.name}.zip"


def test_lora_url_and_inputs():
    weights = "http://e/files/p1/0.safetensors"
    trained = Generation(
        id="p1",
        model="flux-turbo-trainer",
        status="success",
        inputs={"images_data_url": "u", "trigger_phrase": "TOK"},
        urls=[weights],
        outputs=[Output(url=weights, data=b"\x10\x00\x00\x00\x00\x00\x00\x00{}")],
    )
    assert lora_url(trained) == weights
    assert lora_inputs(weights, trained.inputs) == {
        "loras": [{"path": weights, "scale": 1.0}],
        "prompt": "TOK, ",
    }
    picture = Generation(
        id="p2",
        model="m",
        status="success",
        inputs={},
        urls=["http://e/0.png"],
        outputs=[Output(url="http://e/0.png", data=png((0, 0, 0)))],
    )
    assert lora_url(picture) is None
