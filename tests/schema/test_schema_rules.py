"""Every rule a schema states, checked before anything is sent; inputs JSON cannot carry."""

import fractions
import json
import math

import pytest

from eachlabs_widgets import InputValidationError
from eachlabs_widgets._schema.coerce import enum_of
from eachlabs_widgets._schema.inputs import check_value, default_of, validate_inputs
from eachlabs_widgets._schema.jsonsafe import MAX_DEPTH, Unsendable, json_ready
from eachlabs_widgets.emulator.catalog import load_catalog, served_schema


def problems_of(schema, inputs):
    with pytest.raises(InputValidationError) as info:
        validate_inputs("m", schema, inputs)
    return info.value


def props(**properties):
    return {"type": "object", "properties": properties}


# -- what JSON cannot carry -------------------------------------------------------------------

LOOSE = props(
    prompt={"type": "string"},
    seed={"type": "integer"},
    scale={"type": "number"},
    loras={"type": "array"},
    extra={"type": "object"},
    anything={},
)


@pytest.mark.parametrize(
    ("inputs", "field", "words"),
    [
        ({"seed": 10**5000}, "seed", "too large to send"),
        ({"seed": -(2**64)}, "seed", "too large to send"),
        ({"scale": 10**30}, "scale", "too large to send"),
        ({"prompt": "a fox \ud800"}, "prompt", "lone surrogate '\\ud800' at position 6"),
        ({"loras": [{"path": "x", "scale": math.nan}]}, "loras", "loras[0].scale: NaN"),
        ({"extra": {"a": math.inf}}, "extra", "extra.a: Infinity is not valid JSON"),
        ({"extra": {"a": -math.inf}}, "extra", "-Infinity"),
        ({"extra": {"a": b"x"}}, "extra", "extra.a: bytes cannot be sent"),
        ({"extra": {"a": {1, 2}}}, "extra", "a set cannot be sent as JSON; give a list"),
        ({"extra": {1: "x"}}, "extra", "the key 1 is not text"),
        ({"extra": {"k\udfff": 1}}, "extra", "the key 'k\\udfff' holds a lone surrogate"),
        ({"anything": object()}, "anything", "a value of type object cannot be sent"),
        ({"anything": b"raw"}, "anything", "bytes cannot be sent"),
        ({"loras": '[{"scale": NaN}]'}, "loras", "NaN is not valid JSON"),
    ],
)
def test_unsendable_inputs_name_the_field_and_the_place(inputs, field, words):
    error = problems_of(LOOSE, inputs)
    assert error.fields == [field]
    assert words in str(error)


def test_nesting_is_bounded_and_a_value_that_holds_itself_is_refused():
    deep: list = []
    for _ in range(MAX_DEPTH + 5):
        deep = [deep]
    assert "nested more than" in str(problems_of(LOOSE, {"loras": deep}))
    itself: list = []
    itself.append(itself)
    assert "contains itself" in str(problems_of(LOOSE, {"loras": itself}))


def test_a_schema_without_properties_still_refuses_unsendable_values():
    error = problems_of({"type": "object"}, {"a": 1, "b": math.nan})
    assert error.fields == ["b"]


def test_json_ready_converts_what_json_can_carry():
    assert json_ready({"a": (1, 2.5, fractions.Fraction(1, 4)), "b": [None, True]}) == {
        "a": [1, 2.5, 0.25],
        "b": [None, True],
    }
    with pytest.raises(Unsendable) as info:
        json_ready({"a": [1, {"b c": math.nan}]})
    assert info.value.where == ".a[1]['b c']"


def test_numbers_of_other_libraries_are_coerced():
    schema = props(seed={"type": "integer"}, scale={"type": "number"})
    payload = validate_inputs("m", schema, {"seed": fractions.Fraction(8, 2), "scale": 0.5})
    assert payload == {"seed": 4, "scale": 0.5}
    assert type(payload["seed"]) is int


# -- required ---------------------------------------------------------------------------------

REQUIRED = {
    "required": ["prompt", "steps"],
    "properties": {
        "prompt": {"type": "string"},
        "steps": {"type": "integer", "default": "10"},
        "note": {"type": "string"},
    },
}


def test_an_empty_required_text_counts_as_missing():
    error = problems_of(REQUIRED, {"prompt": ""})
    assert error.fields == ["prompt"]
    assert "prompt: required, but empty" in str(error)


def test_whitespace_is_a_value_and_an_optional_empty_text_is_kept():
    assert validate_inputs("m", REQUIRED, {"prompt": " ", "note": ""}) == {
        "prompt": " ",
        "steps": 10,
        "note": "",
    }


def test_an_empty_required_input_with_a_default_gets_the_default():
    assert validate_inputs("m", REQUIRED, {"prompt": "x", "steps": ""})["steps"] == 10


def test_a_default_that_breaks_its_own_rule_is_not_filled_in():
    schema = {
        "required": ["n"],
        "properties": {"n": {"type": "integer", "default": 9, "maximum": 4}},
    }
    assert "n: required, but not given" in str(problems_of(schema, {}))


# -- the rules the schema states --------------------------------------------------------------


@pytest.mark.parametrize(
    ("prop", "value", "words"),
    [
        (
            {"type": "integer", "minimum": "1", "maximum": "4"},
            "9",
            "must be between 1 and 4, got 9",
        ),
        ({"type": "number", "minimum": 0.5}, 0.1, "must be at least 0.5, got 0.1"),
        ({"type": "number", "exclusiveMaximum": 1}, 1, "must be less than 1, got 1"),
        (
            {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            0,
            "strictly between 0 and 1",
        ),
        ({"type": "integer", "multipleOf": 8}, 12, "must be a multiple of 8, got 12"),
        ({"type": "string", "minLength": "3"}, "ab", "needs at least 3 characters, got 2"),
        ({"type": "string", "maxLength": 2}, "abc", "allows at most 2 characters, got 3"),
        ({"type": "string", "pattern": "^[0-9]+x[0-9]+$"}, "big", "does not match the pattern"),
        ({"type": "array", "maxItems": 1}, [1, 2], "allows at most 1 items, got 2"),
        ({"type": "array", "uniqueItems": True}, [{"a": 1}, {"a": 1}], "appears more than once"),
        ({"type": "array", "items": {"type": "integer"}}, ["1", "x"], "expected an integer"),
        (
            {"type": "array", "items": {"type": "object", "required": ["path"]}},
            [{"scale": 1}],
            "x[0]: required, but not given: 'path'",
        ),
        ({"type": "object", "maxProperties": 1}, {"a": 1, "b": 2}, "allows at most 1 keys"),
        ({"const": "fixed"}, "other", "must be 'fixed', got 'other'"),
        ({"type": "integer", "enum": ["1", "2"]}, 3, "3 is not allowed; choose one of: 1, 2"),
        ({"anyOf": [{"const": "a"}, {"enum": ["b", "c"]}]}, "d", "choose one of: 'a', 'b', 'c'"),
        (
            {"anyOf": [{"type": "integer"}, {"type": "string", "maxLength": 1}]},
            "long",
            "matches none",
        ),
        ({"oneOf": [{"type": "integer"}, {"type": "number"}]}, 3, "matches more than one"),
        ({"allOf": [{"type": "integer"}, {"minimum": 5}]}, 3, "must be at least 5"),
        ({"not": {"const": "x"}}, "x", "'x' is not allowed here"),
    ],
)
def test_every_rule_is_checked_with_a_message_naming_the_field(prop, value, words):
    error = problems_of(props(x=prop), {"x": value})
    assert error.fields == ["x"]
    assert str(error).startswith("m: x")
    assert words in str(error)


def test_rules_pass_values_that_keep_them():
    schema = props(
        n={"type": "integer", "minimum": "1", "maximum": "4", "multipleOf": 2},
        size={"type": "string", "pattern": "^[0-9]+x[0-9]+$"},
        mode={"oneOf": [{"const": "a"}, {"const": "b"}]},
    )
    assert validate_inputs("m", schema, {"n": "4", "size": "1024x768", "mode": "b"}) == {
        "n": 4,
        "size": "1024x768",
        "mode": "b",
    }


def test_rules_about_the_inputs_together():
    either = {
        "properties": {"prompt": {"type": "string"}, "image_url": {"type": "string"}},
        "anyOf": [{"required": ["prompt"]}, {"required": ["image_url"]}],
    }
    error = problems_of(either, {})
    assert "give at least one of: 'prompt' or 'image_url'" in str(error)
    assert error.fields == ["prompt"]
    assert validate_inputs("m", either, {"image_url": "https://x/y.png"})
    only_one = {**either, "oneOf": either["anyOf"]}
    del only_one["anyOf"]
    assert "give exactly one of" in str(problems_of(only_one, {}))
    assert "give only one of" in str(problems_of(only_one, {"prompt": "a", "image_url": "b"}))
    paired = {
        "properties": {"width": {"type": "integer"}, "height": {"type": "integer"}},
        "dependentRequired": {"width": ["height"]},
    }
    assert "height" in str(problems_of(paired, {"width": 5}))


def test_references_and_the_schemas_own_draft():
    shared = {
        "properties": {"n": {"$ref": "#/$defs/count"}},
        "$defs": {"count": {"type": "integer", "maximum": 3}},
    }
    assert "n: must be at most 3, got 5" in str(problems_of(shared, {"n": 5}))
    draft4 = {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "properties": {"n": {"type": "number", "maximum": 1, "exclusiveMaximum": True}},
    }
    assert "less than 1" in str(problems_of(draft4, {"n": 1}))
    assert validate_inputs("m", draft4, {"n": 0.5}) == {"n": 0.5}


@pytest.mark.parametrize(
    "prop",
    [
        {"type": "file"},
        {"type": "string", "minimum": "abc", "maxLength": -1},
        {"type": "string", "pattern": "("},
        {"type": "string", "$ref": "http://127.0.0.1:9/nowhere.json"},
        {"type": "string", "enum": []},
        {"type": "string", "anyOf": "not a list", "items": 3},
        {"type": "string", "required": [1, 2]},
    ],
)
def test_a_malformed_rule_is_left_out_not_a_crash(prop):
    assert validate_inputs("m", props(x=prop), {"x": "value"}) == {"x": "value"}


def test_an_unknown_schema_draft_falls_back_to_the_latest():
    schema = {"$schema": "https://example.com/not-a-draft", **props(n={"maximum": 2})}
    assert "at most 2" in str(problems_of(schema, {"n": 3}))


def test_enum_problems_carry_the_allowed_values_and_the_nearest():
    schema = props(size={"type": "string", "enum": ["square_hd", "square", "landscape_16_9"]})
    error = problems_of(schema, {"size": "squar"})
    problem = error.problems[0]
    assert problem["allowed"] == ["square_hd", "square", "landscape_16_9"]
    assert problem["suggestion"] == "square"
    assert str(error) == (
        "m: size: 'squar' is not allowed; choose one of: 'square_hd', 'square', "
        "'landscape_16_9'; did you mean 'square'?"
    )


def test_a_long_enum_is_listed_in_part_but_allowed_in_full():
    members = [f"v{i}" for i in range(500)]
    error = problems_of(props(x={"type": "string", "enum": members}), {"x": "nope"})
    assert "… and 470 more" in str(error)
    assert error.problems[0]["allowed"] == members


def test_unknown_names_suggest_the_nearest_and_list_known_ones_in_part():
    many = props(**{f"p{i}": {"type": "string"} for i in range(100)}, num_images={})
    error = problems_of(many, {"num_image": 1, "zzz": 2})
    assert error.problems[0]["suggestion"] == "num_images"
    assert "… and 61 more" in str(error)
    assert error.fields == ["num_image", "zzz"]


def test_enum_of_keeps_first_occurrences_and_tells_true_from_one():
    assert enum_of({"enum": [1, True, 1.0, "1", [1], [1], {"a": 1}, {"a": 1}]}) == [
        1,
        True,
        "1",
        [1],
        {"a": 1},
    ]


def test_check_value_is_what_a_form_field_shows():
    assert check_value({"type": "integer", "maximum": "4"}, "3") == (3, None)
    value, problem = check_value({"type": "integer", "maximum": "4"}, "5")
    assert value == "5" and problem is not None and problem["message"] == "must be at most 4, got 5"
    _, nested = check_value({"type": "array"}, [1, math.nan])
    assert nested is not None and nested["message"] == "[1]: NaN is not valid JSON"


# -- the catalogue ----------------------------------------------------------------------------


def _literal_defaults(schema):
    return {n: p["default"] for n, p in schema["properties"].items() if "default" in p}


@pytest.mark.parametrize("string_defaults", [False, True])
def test_every_models_defaults_pass_their_own_schema(string_defaults):
    """Every model of the catalogue, as the service serves them (typed, or written as strings)."""
    models = load_catalog()
    assert len(models) == len(load_catalog())
    for model in models:
        schema = served_schema(model["request_schema"], string_defaults=string_defaults)
        defaults = _literal_defaults(schema)
        literal = {
            n: p["x-source-default-literal"]
            for n, p in model["request_schema"]["properties"].items()
            if "x-source-default-literal" in p
        }
        required = {n: "x" for n in schema.get("required", []) if n not in defaults}
        for given in (defaults, literal, {}):
            payload = validate_inputs(model["slug"], schema, {**given, **required})
            assert set(payload) >= set(given) | set(required), model["slug"]
            json.dumps(payload, allow_nan=False).encode("utf-8")


def test_a_default_its_own_rules_refuse_is_no_default():
    assert default_of({"type": "string", "enum": [False], "default": False, "maxLength": 0}) is None
    assert default_of({"type": "string", "enum": ["a"], "default": "b"}) is None
    assert default_of({"type": "integer", "default": "3", "maximum": "4"}) == 3
