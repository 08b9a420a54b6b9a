"""validate_inputs on any schema the service could serve and any inputs a user could type:
a sendable payload or one InputValidationError, never another exception."""

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from eachlabs_widgets import InputValidationError
from eachlabs_widgets._schema.inputs import check_value, choose_seed, declared_type, validate_inputs
from eachlabs_widgets._schema.jsonsafe import Unsendable, json_ready

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=True),
    st.text(max_size=8), st.sampled_from(["1", "False", "2.5", "", "nan", "[1]", "{}"]),
)  # fmt: skip
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=5,
)
TYPES = st.sampled_from(
    [None, "string", "integer", "number", "boolean", "array", "object", "file", ["string", "null"]]
)
PROPS = st.fixed_dictionaries(
    {},
    optional={
        "type": TYPES,
        "enum": st.lists(SCALARS, max_size=4),
        "default": SCALARS,
        "minimum": SCALARS,
        "maximum": SCALARS,
        "maxLength": st.integers(0, 5),
        "items": st.just({"type": "integer"}) | st.just({}) | SCALARS,
    },
)
NAMES = st.sampled_from(["prompt", "seed", "num_images", "image_size", "x", "loras"])
SCHEMAS = st.fixed_dictionaries(
    {"properties": st.dictionaries(NAMES, PROPS | SCALARS, max_size=5)},
    optional={"required": st.lists(NAMES, max_size=3)},
)

TYPE_CHECKS = {
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


@settings(max_examples=400, deadline=None)
@given(schema=SCHEMAS, inputs=st.dictionaries(NAMES, VALUES, max_size=4))
def test_valid_or_one_clear_error_never_a_crash(schema, inputs):
    try:
        payload = choose_seed(schema, validate_inputs("m", schema, inputs))
    except InputValidationError as error:
        assert error.problems and all(p["field"] and p["message"] for p in error.problems)
        return
    props = schema["properties"]
    if props:
        assert set(payload) <= set(props)
    for name, value in payload.items():
        prop = props.get(name)
        kind = declared_type(prop) if isinstance(prop, dict) else None
        if kind in TYPE_CHECKS:
            assert TYPE_CHECKS[kind](value), (name, kind, value)


# -- schemas with every kind of rule, inputs with values JSON cannot carry -------------------

UNSENDABLE = st.sampled_from(
    [math.nan, math.inf, -math.inf, 10**30, -(2**70), "lone \ud800", b"raw", {1, 2}, (1, 2)]
)
LEAVES = SCALARS | UNSENDABLE | st.integers() | st.text(max_size=6)
WILD_VALUES = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=3) | st.integers(0, 3), inner, max_size=3)
    ),
    max_leaves=6,
)
WRITTEN_NUMBERS = st.integers(-5, 5) | st.floats(-5, 5) | st.sampled_from(["1", "2.5", "-1", "x"])
RULE = st.fixed_dictionaries(
    {},
    optional={
        "type": TYPES,
        "enum": st.lists(SCALARS, max_size=4),
        "const": SCALARS,
        "default": SCALARS,
        "minimum": WRITTEN_NUMBERS,
        "maximum": WRITTEN_NUMBERS,
        "exclusiveMinimum": WRITTEN_NUMBERS | st.booleans(),
        "multipleOf": WRITTEN_NUMBERS,
        "minLength": WRITTEN_NUMBERS,
        "maxItems": WRITTEN_NUMBERS,
        "uniqueItems": st.booleans(),
        "pattern": st.sampled_from(["^a", "[0-9]+", "(", ""]),
        "format": st.sampled_from(["uri", "date", "nonsense"]),
        "items": st.just({"type": "integer"}) | st.just({"required": ["a"]}) | SCALARS,
        "required": st.lists(NAMES, max_size=2) | SCALARS,
        "$ref": st.sampled_from(["#/$defs/n", "#/nowhere", "http://127.0.0.1:9/x"]),
    },
)
WILD_PROPS = st.recursive(
    RULE,
    lambda inner: (
        st.fixed_dictionaries(
            {},
            optional={"anyOf": st.lists(inner, max_size=3), "oneOf": st.lists(inner, max_size=3)},
        )
        | st.fixed_dictionaries({"not": inner})
    ),
    max_leaves=4,
)
WILD_SCHEMAS = st.fixed_dictionaries(
    {"properties": st.dictionaries(NAMES, WILD_PROPS | SCALARS, max_size=5)},
    optional={
        "required": st.lists(NAMES, max_size=3),
        "$schema": st.sampled_from(
            [
                "http://json-schema.org/draft-04/schema#",
                "http://json-schema.org/draft-07/schema#",
                "https://json-schema.org/draft/2020-12/schema",
                "nonsense",
            ]
        ),
        "$defs": st.just({"n": {"type": "integer", "maximum": 3}}),
        "anyOf": st.lists(
            st.fixed_dictionaries({"required": st.lists(NAMES, max_size=2)}), max_size=2
        ),
        "additionalProperties": st.booleans(),
    },
)


@settings(max_examples=200, deadline=None)
@given(schema=WILD_SCHEMAS, inputs=st.dictionaries(NAMES, WILD_VALUES, max_size=4))
def test_any_schema_and_any_input_give_a_sendable_payload_or_one_clear_error(schema, inputs):
    try:
        payload = validate_inputs("m", schema, inputs)
    except InputValidationError as error:
        assert error.problems
        for problem in error.problems:
            assert problem["field"] and problem["message"]
            assert isinstance(problem["message"], str)
        return
    json.dumps(payload, allow_nan=False).encode("utf-8")


DEFAULTS = st.one_of(
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from(["1", "False", "2.5", "None", "square_hd"]),
)
DEFAULTED_PROPS = st.fixed_dictionaries(
    {"default": DEFAULTS},
    optional={
        "type": TYPES,
        "enum": st.lists(DEFAULTS, max_size=4),
        "minimum": WRITTEN_NUMBERS,
        "maximum": WRITTEN_NUMBERS,
        "maxLength": st.integers(0, 5),
    },
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(NAMES, DEFAULTED_PROPS, min_size=1, max_size=5), st.data())
def test_defaults_that_keep_their_own_rules_always_pass(properties, data):
    valid = {
        n: p["default"] for n, p in properties.items() if check_value(p, p["default"])[1] is None
    }
    required = data.draw(st.lists(st.sampled_from(sorted(properties)), max_size=3))
    schema = {"properties": properties, "required": required}
    given_now = data.draw(st.sampled_from(["all", "none"]))
    inputs = valid if given_now == "all" else {}
    if any(r not in valid for r in required):
        return  # a required input whose default breaks its rules must be given: not this test
    payload = validate_inputs("m", schema, inputs)
    assert set(payload) >= set(inputs) | set(required)


@settings(max_examples=200, deadline=None)
@given(WILD_VALUES)
def test_json_ready_values_encode_and_round_trip(value):
    try:
        ready = json_ready(value)
    except Unsendable as exc:
        assert str(exc)
        return
    text = json.dumps(ready, allow_nan=False)
    text.encode("utf-8")
    assert json.loads(text) == ready
