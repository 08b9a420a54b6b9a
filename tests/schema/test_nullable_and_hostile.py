"""Nullable properties as Pydantic/FastAPI publish them, and hostile schemas: numbers beyond a
float's range, non-finite or text bounds, junk in every keyword — validation and the schema
table never crash (one clear InputValidationError at most)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eachlabs_widgets import InputValidationError
from eachlabs_widgets._display.tables import schema_table
from eachlabs_widgets._schema.coerce import nullable_collapsed
from eachlabs_widgets._schema.inputs import choose_seed, properties_of, validate_inputs

STEPS = {
    "anyOf": [{"type": "integer", "minimum": 1, "maximum": 50}, {"type": "null"}],
    "default": None,
    "title": "Steps",
}
SCHEMA = {"type": "object", "required": ["prompt"], "properties": {"prompt": {"type": "string"}}}


def with_property(prop: dict) -> dict:
    return {**SCHEMA, "properties": {**SCHEMA["properties"], "x": prop}}


@pytest.mark.parametrize("key", ["anyOf", "oneOf"])
def test_this_or_null_reads_as_this_with_its_bounds(key):
    prop = {key: STEPS["anyOf"], "default": None, "title": "Steps"}
    collapsed = nullable_collapsed(prop)
    assert collapsed == {
        "type": "integer",
        "minimum": 1,
        "maximum": 50,
        "default": None,
        "title": "Steps",
        "nullable": True,
    }
    assert properties_of(with_property(prop))["x"]["type"] == "integer"


@pytest.mark.parametrize(("given", "sent"), [("28", 28), (28, 28), ("  7 ", 7), (None, "omitted")])
def test_a_nullable_integer_from_text_is_sent_as_an_integer(given, sent):
    payload = validate_inputs("m", with_property(STEPS), {"prompt": "a fox", "x": given})
    assert payload.get("x", "omitted") == sent
    assert type(payload.get("x", "omitted")) is type(sent)


@pytest.mark.parametrize(
    ("given", "says"),
    [("500", "x: must be between 1 and 50, got 500"), ("abc", "x: expected an integer, got 'abc'")],
)
def test_a_nullable_integer_out_of_bounds_names_the_bounds_not_null(given, says):
    with pytest.raises(InputValidationError) as caught:
        validate_inputs("m", with_property(STEPS), {"prompt": "a fox", "x": given})
    assert says in str(caught.value) and "null" not in str(caught.value)


def test_what_is_not_this_or_null_is_left_alone():
    both = {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]}
    assert nullable_collapsed(both) == both
    only_null = {"anyOf": [{"type": "null"}]}
    assert nullable_collapsed(only_null) == only_null
    junk = {"anyOf": [7, {"type": "null"}]}
    assert nullable_collapsed(junk) == junk


@pytest.mark.parametrize(
    "prop",
    [
        {"type": "array", "minItems": 10**400},
        {"type": "string", "maxLength": 10**400, "minLength": -(10**400)},
        {"type": "integer", "minimum": "1e999", "maximum": float("nan")},
        {"type": "number", "multipleOf": 10**400},
        {"type": "array", "items": {"type": "integer"}, "maxItems": "inf"},
        {"anyOf": [{"type": "integer", "maximum": 10**400}, {"type": "null"}]},
    ],
)
def test_numbers_beyond_a_floats_range_never_crash(prop):
    schema = with_property(prop)
    for value in ("3", [1, 2], 10**400, "x"):
        with contextlib.suppress(InputValidationError):
            choose_seed(schema, validate_inputs("m", schema, {"prompt": "a", "x": value}))
    assert "x" in schema_table({"slug": "m", "request_schema": schema}).html()


HUGE = st.sampled_from([10**400, -(10**400), 2**63, 1e308, 5e-324, "1e999", "inf", "nan", "１２"])
JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4) | HUGE,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=5,
)
KEYWORDS = st.sampled_from(
    ["type", "enum", "default", "minimum", "maximum", "exclusiveMinimum", "multipleOf",
     "minLength", "maxLength", "minItems", "maxItems", "items", "anyOf", "oneOf", "const"]
)  # fmt: skip
PROPS = st.dictionaries(KEYWORDS, JUNK | HUGE, max_size=5)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.dictionaries(st.sampled_from(["prompt", "seed", "x", "num_images"]), PROPS, max_size=4),
    st.dictionaries(st.sampled_from(["prompt", "seed", "x", "num_images"]), JUNK, max_size=3),
)
def test_hostile_keywords_give_a_payload_or_one_clear_error(properties, inputs):
    schema = {"properties": properties, "required": ["prompt"]}
    try:
        choose_seed(schema, validate_inputs("m", schema, inputs))
    except InputValidationError as error:
        assert all(isinstance(p["message"], str) and p["message"] for p in error.problems)
    schema_table({"slug": "m", "request_schema": schema}).html()
