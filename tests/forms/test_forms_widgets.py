"""ModelForm: widgets built from the real schemas, their value, validation and media inputs."""

from __future__ import annotations

import datetime
import io
import random
from pathlib import Path
from typing import Any

import ipywidgets as w
import pytest
from PIL import Image

from eachlabs_widgets._schema.media import LocalMedia
from eachlabs_widgets.forms import ModelForm
from eachlabs_widgets.forms._widgets import (
    CheckboxField,
    DropdownField,
    MediaField,
    SeedField,
    SliderField,
    TextField,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def upload_entry(name: str, content: bytes, ctype: str) -> dict[str, Any]:
    return {
        "name": name,
        "type": ctype,
        "size": len(content),
        "content": memoryview(content),
        "last_modified": datetime.datetime.now(datetime.timezone.utc),
    }


@pytest.fixture
def turbo(schema_of: Any) -> ModelForm:
    form = ModelForm(schema_of("flux-2-turbo-text-to-image"), model="flux-2-turbo-text-to-image")
    yield form
    form.close()


def test_every_catalog_model_builds(catalog_model: dict[str, Any]) -> None:
    schema = catalog_model["request_schema"]
    form = ModelForm(schema, model=catalog_model["slug"])
    props = schema["properties"]
    assert set(form.value) <= set(props)
    assert list(form.fields) == list(props)
    for name, field in form.fields.items():
        assert field.spec.label in field.label.value  # the human label, "*" when required
        assert field.spec.label.endswith(" *") is (name in schema["required"])
    assert form.valid is (not form.errors)
    assert set(form.errors) == {
        n for n in schema["required"] if n in props and form.fields[n].spec.default is None
    }
    advanced = [f for f in form.fields.values() if f.spec.advanced]
    if advanced:
        assert form.advanced is not None
        assert form.advanced.titles == ("Advanced",) and form.advanced.selected_index is None
        assert [f.row for f in advanced] == list(form.advanced.children[0].children)
    form.value = form.value
    assert form.ignored == {}
    form.close()


def test_turbo_payload_is_typed(turbo: ModelForm) -> None:
    assert not turbo.valid and turbo.errors == {"prompt": "required"}
    assert turbo.fields["prompt"].error.value == ""  # a pristine form shows no "required"
    assert turbo.reveal_errors() == {"prompt": "required"}  # what Generate does
    assert "required" in turbo.fields["prompt"].error.value
    seen: list[dict[str, Any]] = []
    turbo.observe(lambda change: seen.append(change["new"]), "payload")

    turbo.fields["prompt"].control.value = "a red fox"
    image_size = turbo.fields["image_size"]
    assert isinstance(image_size, DropdownField)
    image_size.dropdown.value = "portrait_16_9"
    num = turbo.fields["num_images"]
    assert isinstance(num, TextField)
    num.text.value = "3"

    assert turbo.valid and turbo.errors == {}
    assert turbo.fields["prompt"].error.value == ""
    value = turbo.value
    assert value["prompt"] == "a red fox"
    assert value["image_size"] == "portrait_16_9"
    assert value["num_images"] == 3 and type(value["num_images"]) is int
    assert value["guidance_scale"] == 2.5 and value["enable_safety_checker"] is True
    assert "seed" not in value  # empty optional field: the service picks it
    assert seen[-1] == value and len(seen) == 3
    assert turbo.heading.value == "<b>flux-2-turbo-text-to-image</b>"


def test_setting_value_fills_widgets(turbo: ModelForm) -> None:
    turbo.value = {
        "prompt": "dune",
        "image_size": "square",
        "num_images": "2",
        "sync_mode": "True",
        "seed": 42,
        "bogus": 1,
    }
    assert turbo.fields["prompt"].control.value == "dune"
    assert turbo.fields["image_size"].control.value == "square"
    assert turbo.fields["num_images"].control.value == "2"
    assert turbo.fields["sync_mode"].control.value is True
    assert turbo.fields["seed"].control.value == "42"
    assert turbo.fields["guidance_scale"].control.value == ""  # missing: the service decides
    assert turbo.value == {
        "prompt": "dune",
        "image_size": "square",
        "num_images": 2,
        "enable_prompt_expansion": False,
        "sync_mode": True,
        "enable_safety_checker": True,
        "output_format": "png",
        "seed": 42,
    }
    assert set(turbo.ignored) == {"bogus"}
    assert "bogus" in turbo.notice.value

    # a choice that is not offered is not applied; a field that cannot be empty shows its default
    turbo.value = {"prompt": "dune", "image_size": "huge", "num_images": None}
    assert turbo.value == {
        "prompt": "dune",
        "image_size": "landscape_4_3",
        "enable_prompt_expansion": False,
        "sync_mode": False,
        "enable_safety_checker": True,
        "output_format": "png",
    }
    assert "image_size" in turbo.ignored and "not one of the choices" in turbo.ignored["image_size"]
    turbo.reset()
    assert turbo.value["num_images"] == 1 and turbo.value["guidance_scale"] == 2.5
    turbo.value = {"prompt": "dune", "num_images": 4, "sync_mode": True}

    before = turbo.value
    turbo.value = before
    assert turbo.value == before and turbo.ignored == {}
    assert turbo.notice.value == ""


def test_update_and_reset(turbo: ModelForm) -> None:
    turbo.update({"prompt": "a", "num_images": 2})
    turbo.update({"seed": 7, "image_size": "nope"})
    assert turbo.value["num_images"] == 2 and turbo.value["seed"] == 7
    assert turbo.value["guidance_scale"] == 2.5 and turbo.value["image_size"] == "landscape_4_3"
    assert list(turbo.ignored) == ["image_size"]
    turbo.update({"seed": None})
    assert "seed" not in turbo.value
    turbo.reset()
    assert "prompt" not in turbo.value and turbo.value["num_images"] == 1 and not turbo.valid
    assert turbo.ignored == {}
    with pytest.raises(TypeError):
        turbo.value = ["prompt"]  # type: ignore[assignment]


def test_constructor_value_is_applied_on_top_of_the_defaults(schema_of: Any) -> None:
    form = ModelForm(schema_of("flux-2-turbo-text-to-image"), value={"prompt": "x", "seed": 3})
    assert form.valid
    assert form.value["prompt"] == "x" and form.value["seed"] == 3
    assert form.value["guidance_scale"] == 2.5 and form.value["num_images"] == 1


def test_out_of_range_shows_an_error_and_flips_valid(schema_of: Any) -> None:
    form = ModelForm(schema_of("flux-2-flex"), value={"prompt": "x"})
    assert form.valid
    flips: list[bool] = []
    form.observe(lambda change: flips.append(change["new"]), "valid")
    steps = form.fields["num_inference_steps"]
    assert isinstance(steps, SliderField)
    steps.text.value = "99"
    assert not form.valid and flips == [False]
    assert "between 2 and 50" in steps.error.value
    assert "between 2 and 50" in form.errors["num_inference_steps"]
    assert "num_inference_steps" not in form.value
    assert steps.slider.value == 28  # the slider keeps its last valid position
    steps.text.value = "30"
    assert form.valid and flips == [False, True] and steps.error.value == ""
    assert steps.slider.value == 30 and form.value["num_inference_steps"] == 30
    steps.slider.value = 12
    assert steps.text.value == "12" and form.value["num_inference_steps"] == 12
    scale = form.fields["guidance_scale"]
    assert isinstance(scale, SliderField)
    scale.slider.value = 4.25
    assert form.value["guidance_scale"] == 4.25
    form.fields["num_inference_steps"].control.value = "twelve"
    assert "integer" in form.errors["num_inference_steps"]


def test_invalid_json_in_list_and_object_fields() -> None:
    schema = {
        "required": ["prompt"],
        "properties": {
            "prompt": {"type": "string"},
            "loras": {"type": "array"},
            "extra": {"type": "object"},
        },
    }
    form = ModelForm(schema, value={"prompt": "p"})
    assert form.valid
    form.fields["loras"].control.value = '[{"path": "a"'
    assert not form.valid and "invalid JSON list" in form.fields["loras"].error.value
    form.fields["loras"].control.value = 'user/a\n{"path": "b", "scale": 0.5}'
    form.fields["extra"].control.value = "{nope"
    assert list(form.errors) == ["extra"] and "JSON object" in form.fields["extra"].error.value
    form.fields["extra"].control.value = '{"k": 1}'
    assert form.valid
    assert form.value == {
        "prompt": "p",
        "loras": ["user/a", {"path": "b", "scale": 0.5}],
        "extra": {"k": 1},
    }
    form.value = form.value
    assert form.fields["loras"].control.value == '["user/a", {"path": "b", "scale": 0.5}]'
    assert form.value["loras"] == ["user/a", {"path": "b", "scale": 0.5}]


def test_file_upload_becomes_local_media(schema_of: Any) -> None:
    form = ModelForm(schema_of("ideogram-v3-turbo"), value={"prompt": "p"})
    image = form.fields["image"]
    assert isinstance(image, MediaField) and image.upload.accept == "image/*"
    image.upload.value = (upload_entry("cat.png", PNG, "image/png"),)
    value = form.value["image"]
    assert value == LocalMedia(PNG, "image/png", "cat.png")
    assert image.upload.value == ()  # ready for the next file
    assert "cat.png" in image.file_label.value and image.clear_button.layout.display is None
    assert form.valid

    image.text.value = "https://cdn.example/cat.png"  # a URL replaces the chosen file
    assert form.value["image"] == "https://cdn.example/cat.png"
    assert image.file_label.value == "" and image.clear_button.layout.display == "none"

    image.upload.value = (upload_entry("dog.png", PNG, ""),)  # no type: sniffed
    assert form.value["image"].content_type == "image/png"
    image.clear_button.click()
    assert "image" not in form.value

    image.text.value = "just words"
    assert "URL" in form.errors["image"] and not form.valid


def test_kernel_objects_as_media_values(schema_of: Any, tmp_path: Path) -> None:
    form = ModelForm(schema_of("wan-v2-6-text-to-image"))
    pil = Image.new("RGB", (4, 4), "red")
    form.value = {"prompt": "p", "image_url": pil}
    local = form.value["image_url"]
    assert isinstance(local, LocalMedia) and local.content_type == "image/png"
    assert Image.open(io.BytesIO(local.data)).size == (4, 4)
    assert form.valid

    form.value = {"prompt": "p", "image_url": PNG}
    assert form.value["image_url"].data == PNG
    path = tmp_path / "ref.png"
    path.write_bytes(PNG)
    form.value = {"prompt": "p", "image_url": path}
    assert form.value["image_url"].filename == "ref.png"
    form.value = form.value  # a LocalMedia survives the round trip
    assert form.value["image_url"].filename == "ref.png"

    form.value = {"prompt": "p", "image_url": tmp_path / "missing.png"}
    assert "image_url" not in form.value and "image_url" in form.ignored


def test_seed_randomise(schema_of: Any) -> None:
    form = ModelForm(schema_of("wan-v2-6-text-to-image"), rng=random.Random(3))
    seed = form.fields["seed"]
    assert isinstance(seed, SeedField)
    drawn = seed.randomise()
    assert 0 <= drawn <= 2147483647 and form.value["seed"] == drawn
    seed.button.click()
    assert form.value["seed"] != drawn and seed.text.value == str(form.value["seed"])

    bounded = ModelForm({"properties": {"seed": {"type": "integer", "minimum": 5, "maximum": 7}}})
    values = set()
    for _ in range(40):
        bounded.fields["seed"].button.click()
        values.add(bounded.value["seed"])
    assert values == {5, 6, 7}

    text_seed = ModelForm(schema_of("imagen4-preview"))  # a seed declared as a string
    text_seed.fields["seed"].button.click()
    assert isinstance(text_seed.value["seed"], str) and text_seed.value["seed"].isdigit()


def test_optional_boolean_without_default(schema_of: Any) -> None:
    form = ModelForm(schema_of("p-image-text-to-image"))
    field = form.fields["prompt_upsampling"]
    assert isinstance(field, DropdownField)
    assert field.dropdown.options[0][0] == "(service default)"
    assert field.dropdown.label == "(service default)"
    assert "prompt_upsampling" not in form.value
    form.update({"prompt_upsampling": False})
    assert form.value["prompt_upsampling"] is False
    assert field.dropdown.index == 2


def test_valid_drives_a_generate_button(schema_of: Any) -> None:
    form = ModelForm(schema_of("xai-grok-imagine-text-to-image"))
    button = w.Button(description="Generate")
    w.dlink((form, "valid"), (button, "disabled"), transform=lambda ok: not ok)
    assert button.disabled
    form.fields["prompt"].control.value = "sunrise"
    assert not button.disabled
    form.fields["prompt"].control.value = "   "
    assert button.disabled


def test_odd_schemas_build() -> None:
    empty = ModelForm({})
    assert empty.value == {} and empty.valid and "no parameters" in empty.children[2].value
    assert empty.advanced is None
    garbage = ModelForm(
        {
            "required": ["nope", "n"],
            "properties": {
                "n": {"type": "integer", "enum": ["1", "x", 2], "default": "9"},
                "big": {"type": "integer", "minimum": 0, "maximum": 2**40, "default": "7"},
                "nested": ["garbage"],
                "blob": {"type": "object", "default": "{}"},
                "lst": {"type": "array", "default": "a,b"},
                "weird": {"type": "tensor", "default": 3},
            },
        }
    )
    assert garbage.errors == {"n": "required"}
    assert garbage.value == {"big": 7, "blob": {}, "lst": ["a", "b"], "weird": "3"}
    assert isinstance(garbage.fields["big"], TextField)
    assert not isinstance(garbage.fields["big"], SliderField)
    detail = ModelForm({"slug": "s", "title": "T", "request_schema": {"properties": {"a": {}}}})
    assert list(detail.fields) == ["a"] and "T" in detail.heading.value


def test_checkbox_and_description_help_line(turbo: ModelForm) -> None:
    field = turbo.fields["enable_safety_checker"]
    assert isinstance(field, CheckboxField)
    field.checkbox.value = False
    assert turbo.value["enable_safety_checker"] is False
    prompt = turbo.fields["prompt"]
    assert "The prompt to generate an image from." in prompt.help.value  # visible, not a tooltip
    assert prompt.help.layout.display is None
    assert prompt.control.tooltip == "The prompt to generate an image from."
