"""validate_inputs on any schema the service could serve and any inputs a user could type."""

from hypothesis import given, settings
from hypothesis import strategies as st

from eachlabs_widgets import InputValidationError
from eachlabs_widgets._schema import choose_seed, declared_type, validate_inputs

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
