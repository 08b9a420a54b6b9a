"""LoRAs: the family table, the Lora a trainer's output makes, and ``loras`` inputs."""

from __future__ import annotations

import json

import pytest

from eachlabs_widgets import InputValidationError
from eachlabs_widgets._generation import Generation
from eachlabs_widgets._schema.inputs import validate_inputs
from eachlabs_widgets._schema.lora import (
    FAMILY_OF_MODEL,
    TRAINERS,
    Lora,
    lora_from_output,
    resolve_loras,
    with_trigger,
)
from eachlabs_widgets._service.status import output_urls

WEIGHTS = "https://cdn.example/files/p1/pytorch_lora_weights.safetensors"
OUTPUT = {
    "diffusers_lora_file": {"url": WEIGHTS, "file_name": "pytorch_lora_weights.safetensors"},
    "config_file": {"url": "https://cdn.example/files/p1/config.json"},
}
LORA_SCHEMA = {
    "type": "object",
    "required": ["prompt"],
    "properties": {
        "prompt": {"type": "string"},
        "loras": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"path": {"type": "string"}, "scale": {"type": "number"}},
                "required": ["path"],
            },
        },
    },
}


def test_the_table_follows_the_record():
    # API.md, "LoRA training"
    assert {t: s.loads_in for t, s in TRAINERS.items()} == {
        "z-image-trainer": "z-image-turbo-lora",
        "flux-lora-portrait-trainer": "bfl-flux-lora",
        "flux-turbo-trainer": "bfl-flux-lora",
    }
    assert TRAINERS["flux-turbo-trainer"].default_trigger == "ohwx"
    assert FAMILY_OF_MODEL["flux-2-lora"] == "FLUX.2 [dev]"
    # flux-2-lora loads no trainer's LoRA of this catalogue
    assert "flux-2-lora" not in {s.loads_in for s in TRAINERS.values()}


@pytest.mark.parametrize("output", [OUTPUT, json.dumps(OUTPUT), [WEIGHTS]])
def test_a_trainers_output_as_object_json_string_or_list_gives_the_lora(output):
    lora = lora_from_output("flux-lora-portrait-trainer", output, {"trigger_phrase": " TOK "})
    assert lora == Lora(
        url=WEIGHTS, model="bfl-flux-lora", trigger="TOK", trainer="flux-lora-portrait-trainer"
    )
    assert lora.scale == 1.0 and lora.family == "FLUX.1 [dev]"


def test_the_json_string_output_names_its_files():
    assert output_urls(json.dumps(OUTPUT)) == [WEIGHTS]
    assert output_urls("not json {") == []


def test_no_lora_from_a_model_that_is_not_a_trainer_or_an_output_without_weights():
    assert lora_from_output("flux-2-pro", OUTPUT) is None
    assert lora_from_output("z-image-trainer", {"config_file": {"url": "https://x/c.json"}}) is None
    assert lora_from_output("z-image-trainer", "{broken") is None


def test_the_trainers_default_trigger_when_none_was_given():
    assert lora_from_output("flux-turbo-trainer", OUTPUT, {}).trigger == "ohwx"
    assert lora_from_output("z-image-trainer", OUTPUT, {}).trigger is None
    assert lora_from_output("z-image-trainer", OUTPUT, {}).model == "z-image-turbo-lora"


def test_generation_lora_and_repr():
    g = Generation(
        id="p1",
        model="flux-turbo-trainer",
        status="success",
        inputs={"images_data_url": "https://cdn.example/u.zip"},
        urls=[WEIGHTS],
        output=json.dumps(OUTPUT),
    )
    assert g.lora is not None and g.lora.model == "bfl-flux-lora" and g.lora.trigger == "ohwx"
    assert "a LoRA for bfl-flux-lora in .lora" in repr(g)
    assert not g.raw_output
    picture = Generation(id="p2", model="flux-2-pro", status="success", inputs={}, urls=[])
    assert picture.lora is None


def test_a_lora_is_sent_as_path_and_scale_with_its_trigger_in_the_prompt():
    lora = Lora(WEIGHTS, "bfl-flux-lora", trigger="ohwx", scale=0.8)
    payload = validate_inputs(
        "bfl-flux-lora", LORA_SCHEMA, {"prompt": "a portrait", "loras": [lora]}
    )
    assert payload == {"prompt": "ohwx, a portrait", "loras": [{"path": WEIGHTS, "scale": 0.8}]}
    # one Lora alone counts as a list of one; strings and dicts go with it
    payload = validate_inputs(
        "bfl-flux-lora", LORA_SCHEMA, {"prompt": "x", "loras": [lora, "user/repo", {"path": "u"}]}
    )
    assert payload["loras"][1:] == [{"path": "user/repo", "scale": 1.0}, {"path": "u"}]
    single = validate_inputs("bfl-flux-lora", LORA_SCHEMA, {"prompt": "x", "loras": lora})
    assert single["loras"] == [{"path": WEIGHTS, "scale": 0.8}]


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("a photo of ohwx person", "a photo of ohwx person"),
        ("OHWX at the beach", "OHWX at the beach"),
        ("ohwxy at the beach", "ohwx, ohwxy at the beach"),
        ("a dog", "ohwx, a dog"),
        ("", "ohwx"),
    ],
)
def test_the_trigger_is_added_unless_the_prompt_has_it(prompt, expected):
    assert with_trigger(prompt, "ohwx") == expected


def test_a_lora_of_another_family_is_refused_naming_the_model_that_loads_it():
    lora = Lora(WEIGHTS, "bfl-flux-lora", trainer="flux-turbo-trainer")
    with pytest.raises(InputValidationError) as info:
        validate_inputs("flux-2-lora", LORA_SCHEMA, {"prompt": "x", "loras": [lora]})
    assert info.value.fields == ["loras"]
    text = str(info.value)
    assert "'bfl-flux-lora'" in text and "FLUX.1 [dev]" in text and "flux-turbo-trainer" in text


def test_inputs_without_a_lora_are_unchanged():
    inputs = {"prompt": "x", "loras": [{"path": "a", "scale": 2}]}
    assert resolve_loras("flux-2-lora", inputs) == (inputs, [])


def test_a_lora_needs_weights_and_a_numeric_scale():
    with pytest.raises(ValueError, match="URL"):
        Lora("", "bfl-flux-lora")
    with pytest.raises(TypeError, match="scale"):
        Lora(WEIGHTS, "bfl-flux-lora", scale="1")  # type: ignore[arg-type]
    assert Lora(WEIGHTS, "bfl-flux-lora").with_scale(0.5).entry() == {"path": WEIGHTS, "scale": 0.5}


def test_download_refuses_a_repo_id(tmp_path):
    with pytest.raises(ValueError, match="not a URL"):
        Lora("user/flux2-style", "flux-2-lora").download(tmp_path)


def test_download_uses_the_fetcher_it_was_given(tmp_path):
    calls = []

    def fetch(url, path):
        calls.append((url, path))
        path.write_bytes(b"weights")
        return path

    lora = lora_from_output("z-image-trainer", OUTPUT, {}, fetch=fetch)
    assert lora.download(tmp_path) == tmp_path / "pytorch_lora_weights.safetensors"
    assert calls == [(WEIGHTS, tmp_path / "pytorch_lora_weights.safetensors")]


def test_download_into_a_new_folder_named_with_a_slash(tmp_path):
    def fetch(url, path):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"weights")
        return path

    lora = Lora(WEIGHTS, "bfl-flux-lora", _fetch=fetch)
    written = lora.download(f"{tmp_path}/weights/")
    assert written == tmp_path / "weights" / "pytorch_lora_weights.safetensors"
    assert lora.download(tmp_path / "mine.safetensors") == tmp_path / "mine.safetensors"
