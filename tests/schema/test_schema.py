import json
import random
from importlib import resources

import pytest

from eachlabs_widgets import InputValidationError
from eachlabs_widgets._schema.inputs import (
    SEED_MAX,
    choose_seed,
    coerce_value,
    default_of,
    enum_of,
    validate_inputs,
)

TURBO = {
    "type": "object",
    "required": ["prompt"],
    "properties": {
        "prompt": {"type": "string", "maxLength": 20},
        "image_size": {
            "type": "string",
            "enum": ["square_hd", "square", "landscape_16_9"],
            "default": "square_hd",
        },
        "num_images": {"type": "integer", "default": "1", "minimum": "1", "maximum": 4},
        "guidance_scale": {"type": "number", "default": "2.5"},
        "sync_mode": {"type": "boolean", "default": "False"},
        "safety_tolerance": {"type": "string", "enum": ["1", "2", "3"], "default": "2"},
        "loras": {"type": "array"},
        "extra": {"type": "object"},
        "seed": {"type": "integer"},
    },
}


def catalog() -> list[dict]:
    text = resources.files("eachlabs_widgets.emulator").joinpath("models.json").read_text()
    return json.loads(text)


@pytest.mark.parametrize(
    ("prop", "raw", "expected"),
    [
        ({"type": "integer"}, "1", 1),
        ({"type": "integer"}, "2.0", 2),
        ({"type": "integer"}, 3.0, 3),
        ({"type": "number"}, "2.5", 2.5),
        ({"type": "number"}, 4, 4),
        ({"type": "boolean"}, "False", False),
        ({"type": "boolean"}, "true", True),
        ({"type": "boolean"}, 1, True),
        ({"type": "string"}, 2, "2"),
        ({"type": "string"}, 2.0, "2"),
        ({"type": "array"}, '[{"path": "x"}]', [{"path": "x"}]),
        ({"type": "array", "items": {"type": "integer"}}, "1, 2", [1, 2]),
        ({"type": "object"}, '{"a": 1}', {"a": 1}),
        ({}, {"any": "thing"}, {"any": "thing"}),
    ],
)
def test_coerce_accepts_the_catalogs_string_forms(prop, raw, expected):
    value = coerce_value(prop, raw)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("prop", "raw"),
    [
        ({"type": "integer"}, "1.5"),
        ({"type": "integer"}, True),
        ({"type": "number"}, "abc"),
        ({"type": "number"}, "nan"),
        ({"type": "boolean"}, "maybe"),
        ({"type": "array"}, "[not json"),
        ({"type": "object"}, "[]"),
    ],
)
def test_coerce_rejects_what_cannot_be_converted(prop, raw):
    with pytest.raises(ValueError):
        coerce_value(prop, raw)


def test_defaults_and_enums_take_the_declared_type():
    props = TURBO["properties"]
    assert default_of(props["num_images"]) == 1
    assert default_of(props["guidance_scale"]) == 2.5
    assert default_of(props["sync_mode"]) is False
    assert enum_of(props["safety_tolerance"]) == ["1", "2", "3"]
    assert enum_of({"type": "integer", "enum": ["1", "2", "x"]}) == [1, 2]


def test_valid_inputs_are_coerced_in_schema_order():
    payload = validate_inputs(
        "m", TURBO, {"num_images": "2", "prompt": "fox", "sync_mode": "no", "safety_tolerance": 3}
    )
    assert payload == {
        "prompt": "fox",
        "num_images": 2,
        "sync_mode": False,
        "safety_tolerance": "3",
    }
    assert list(payload) == ["prompt", "num_images", "sync_mode", "safety_tolerance"]


def test_enum_error_names_the_field_and_the_allowed_values():
    with pytest.raises(InputValidationError) as info:
        validate_inputs("flux", TURBO, {"prompt": "x", "image_size": "huge"})
    message = str(info.value)
    assert "image_size" in message
    assert "'square_hd', 'square', 'landscape_16_9'" in message
    assert info.value.problems[0]["allowed"] == ["square_hd", "square", "landscape_16_9"]


def test_unknown_parameter_suggests_the_nearest_name():
    with pytest.raises(InputValidationError) as info:
        validate_inputs("flux", TURBO, {"prompt": "x", "num_image": 2})
    assert info.value.problems[0]["suggestion"] == "num_images"
    assert "did you mean 'num_images'" in str(info.value)


def test_every_problem_is_reported_at_once():
    with pytest.raises(InputValidationError) as info:
        validate_inputs(
            "m", TURBO, {"num_images": 9, "guidance_scale": "strong", "prompt": "x" * 21}
        )
    assert sorted(info.value.fields) == ["guidance_scale", "num_images", "prompt"]
    text = str(info.value)
    assert "between 1 and 4" in text
    assert "at most 20 characters" in text


def test_missing_required_field():
    with pytest.raises(InputValidationError, match="prompt: required"):
        validate_inputs("m", TURBO, {"num_images": 1})


def test_required_field_with_a_default_gets_it():
    schema = {"required": ["steps"], "properties": {"steps": {"type": "integer", "default": "10"}}}
    assert validate_inputs("m", schema, {}) == {"steps": 10}


def test_none_means_use_the_service_default():
    assert validate_inputs("m", TURBO, {"prompt": "x", "seed": None}) == {"prompt": "x"}


def test_a_schema_without_properties_passes_inputs_through():
    assert validate_inputs("m", {"type": "object"}, {"a": 1}) == {"a": 1}


def test_seed_is_chosen_within_bounds_and_kept_when_given():
    rng = random.Random(0)
    chosen = choose_seed(TURBO, {"prompt": "x"}, rng)
    assert 0 <= chosen["seed"] <= SEED_MAX
    assert choose_seed(TURBO, {"prompt": "x", "seed": 7}, rng)["seed"] == 7
    bounded = {"properties": {"seed": {"type": "integer", "minimum": 5, "maximum": 6}}}
    assert {choose_seed(bounded, {}, rng)["seed"] for _ in range(50)} == {5, 6}


def test_no_seed_for_models_without_an_integer_seed():
    string_seed = {"properties": {"seed": {"type": "string"}}}
    assert choose_seed(string_seed, {}) == {}
    assert choose_seed({"properties": {}}, {}) == {}


def test_every_catalog_default_validates_against_its_own_schema():
    for model in catalog():
        schema = model["request_schema"]
        defaults = {
            name: prop["default"]
            for name, prop in schema["properties"].items()
            if "default" in prop
        }
        required = {name: "x" for name in schema.get("required", [])}
        payload = validate_inputs(model["slug"], schema, {**defaults, **required})
        assert set(payload) >= set(defaults)
