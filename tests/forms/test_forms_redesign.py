"""The form as a person reads it: human labels, help lines, ranges, Advanced, pristine
errors, service errors on their field, values kept across models, previews, exact defaults."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from eachlabs_widgets.forms import ModelForm, field_specs
from eachlabs_widgets.forms._fields import PLUMBING_FIELDS, human_label
from eachlabs_widgets.forms._widgets import MediaField

from .conftest import MODELS


def png(size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def test_human_labels() -> None:
    assert human_label("num_inference_steps") == "Inference steps"
    assert human_label("num_images") == "Number of images"
    assert human_label("image_url") == "Image URL"
    assert human_label("loras") == "LoRAs"
    assert human_label("guidanceScale") == "Guidance scale"
    assert human_label("x", {"title": "Strength of X"}) == "Strength of X"


def test_plumbing_sits_under_advanced_in_every_catalog_model() -> None:
    for model in MODELS:
        schema = model["request_schema"]
        for spec in field_specs(schema):
            plumbing = spec.name in PLUMBING_FIELDS or "safety" in spec.name
            if plumbing and not spec.required:
                assert spec.advanced, (model["slug"], spec.name)


def test_ranges_and_help_lines_are_visible(schema_of: Any) -> None:
    form = ModelForm(schema_of("flux-2-flex"))
    steps = form.fields["num_inference_steps"]
    assert steps.spec.range_text and steps.spec.range_text in steps.label.value
    assert "Inference steps" in steps.label.value
    described = [f for f in form.fields.values() if f.spec.description]
    assert described and all(f.spec.description[:20] in f.help.value for f in described)
    form.close()


def test_pristine_form_hides_required_until_touched_or_revealed(schema_of: Any) -> None:
    form = ModelForm(schema_of("flux-2-turbo-text-to-image"))
    prompt = form.fields["prompt"]
    assert form.errors == {"prompt": "required"} and prompt.error.value == ""
    prompt.control.value = "x"  # typed, then erased: touched
    prompt.control.value = ""
    assert "required" in prompt.error.value
    other = ModelForm(schema_of("flux-2-turbo-text-to-image"))
    assert other.fields["prompt"].error.value == ""
    other.reveal_errors()
    assert "required" in other.fields["prompt"].error.value
    form.close()
    other.close()


def test_service_errors_sit_on_their_field_until_edited(schema_of: Any) -> None:
    form = ModelForm(schema_of("flux-2-turbo-text-to-image"), value={"prompt": "a"})
    form.show_service_errors({"image_size": "not available for this account", "nope": "x"})
    assert "not available for this account" in form.fields["image_size"].error.value
    form.fields["image_size"].dropdown.value = "square"
    assert form.fields["image_size"].error.value == ""
    form.close()


def test_switching_models_keeps_compatible_values(schema_of: Any) -> None:
    turbo = ModelForm(
        {
            "slug": "flux-2-turbo-text-to-image",
            "request_schema": schema_of("flux-2-turbo-text-to-image"),
        }
    )
    turbo.update({"prompt": "a red fox", "seed": 42, "image_size": "square"})
    turbo.fields["guidance_scale"].control.value = "3.5"
    wan = ModelForm(schema_of("wan-v2-6-text-to-image"))
    kept = wan.carry_from(turbo)
    assert wan.value["prompt"] == "a red fox" and wan.value["seed"] == 42
    assert "prompt" in kept and "seed" in kept
    assert "guidance_scale" not in wan.fields or wan.value.get("guidance_scale") == 3.5
    assert wan.value["image_size"] == "square"
    # a size the other model does not offer is not forced on it: its own default stays
    gpt = ModelForm(schema_of("gpt-image-v1-5-text-to-image"))
    before = gpt.value.get("image_size")
    kept = gpt.carry_from(turbo)
    assert "image_size" not in kept and gpt.value.get("image_size") == before
    assert gpt.value["prompt"] == "a red fox"
    for form in (turbo, wan, gpt):
        form.close()


def test_defaults_are_kept_exactly() -> None:
    schema = {
        "type": "object",
        "properties": {
            "negative_prompt": {"type": "string", "default": " "},
            "caption": {"type": "string", "default": "  two  "},
            "prompt": {"type": "string"},
        },
        "required": ["prompt"],
    }
    form = ModelForm(schema, value={"prompt": "p"})
    assert form.value == {"negative_prompt": " ", "caption": "  two  ", "prompt": "p"}
    form.fields["prompt"].control.value = "   "  # a required field of only spaces is missing
    assert form.errors == {"prompt": "required"}
    form.close()


def test_image_fields_preview_uploads_urls_and_results(schema_of: Any) -> None:
    form = ModelForm(schema_of("wan-v2-6-text-to-image"))
    field = form.fields["image_url"]
    assert isinstance(field, MediaField)
    assert field.preview_box.layout.display == "none"
    form.update({"image_url": png()})  # bytes from the kernel
    assert field.preview.value[:2] == b"\xff\xd8" and field.preview_box.layout.display is None
    url = "https://files.example/result.png"
    ModelForm.remember_preview(url, png((64, 64)))
    form.update({"image_url": url})  # a result used as input: previewed from its bytes
    assert field.preview.value[:2] == b"\xff\xd8" and field.preview.layout.display is None
    form.update({"image_url": "https://elsewhere.example/x.png"})  # a URL: the browser loads it
    assert "https://elsewhere.example/x.png" in field.preview_link.value
    assert field.preview.layout.display == "none"
    form.close()
