"""Property-based: any request_schema the service could serve gives a working form."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eachlabs_widgets._schema.inputs import check_value, declared_type, properties_of
from eachlabs_widgets._schema.media import LocalMedia
from eachlabs_widgets.forms import ModelForm, field_specs, payload_from
from eachlabs_widgets.forms._fields import initial_raw, to_raw

NAMES = st.one_of(
    st.sampled_from(
        [
            "prompt",
            "negative_prompt",
            "seed",
            "image_url",
            "mask",
            "image_size",
            "num_images",
            "loras",
            "images_data_url",
            "sync_mode",
            "guidance_scale",
        ]
    ),
    st.text(min_size=0, max_size=10),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=6),
    st.sampled_from(["1", "0", "2.5", "False", "True", "-3", "1e3", "", " ", "None", "[1]", "{}"]),
)
JSONISH = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=6,
)
TYPES = st.sampled_from(
    [
        "string",
        "integer",
        "number",
        "boolean",
        "array",
        "object",
        "null",
        "file",
        "",
        ["string", "null"],
        7,
    ]
)
BOUNDS = st.one_of(
    st.integers(min_value=-10, max_value=10),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.sampled_from([0, 1, 4, 2147483647, "1", "10", "x", True, 1e308, -1e308, 0.5]),
    st.floats(allow_nan=False, allow_infinity=False),
)


@st.composite
def properties(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 9)) == 0:
        return draw(JSONISH)  # nested garbage instead of a property
    prop: dict[str, Any] = {}
    if draw(st.booleans()):
        prop["type"] = draw(TYPES)
    if draw(st.integers(0, 3)) == 0:
        prop["enum"] = draw(st.lists(SCALARS, max_size=5))
    if draw(st.booleans()):
        prop["default"] = draw(JSONISH)
    for key in ("minimum", "maximum"):
        if draw(st.integers(0, 2)) == 0:
            prop[key] = draw(BOUNDS)
    if draw(st.integers(0, 5)) == 0:
        prop["items"] = draw(st.one_of(st.fixed_dictionaries({"type": TYPES}), JSONISH))
    if draw(st.integers(0, 5)) == 0:
        prop["maxLength"] = draw(st.integers(0, 5))
    if draw(st.booleans()):
        prop["description"] = draw(st.one_of(st.text(max_size=20), JSONISH))
    return prop


@st.composite
def schemas(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 19)) == 0:
        return draw(JSONISH)
    props = draw(st.dictionaries(NAMES, properties(), max_size=6))
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if draw(st.booleans()):
        schema["required"] = draw(
            st.lists(st.one_of(st.sampled_from(list(props) or ["x"]), NAMES), max_size=4)
        )
    return schema


def typed(value: Any, prop: dict[str, Any]) -> bool:
    kind = declared_type(prop)
    if isinstance(value, LocalMedia):
        return kind in ("string", None)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    expected = {"boolean": bool, "string": str, "array": list, "object": dict}.get(kind or "")
    return expected is None or isinstance(value, expected)


@settings(max_examples=300, deadline=None)
@given(schemas())
def test_field_specs_never_raise_and_payload_is_typed(schema: Any) -> None:
    specs = field_specs(schema)
    props = properties_of(schema) if isinstance(schema, dict) else {}
    assert [s.name for s in specs] == list(props)
    raws = {s.name: initial_raw(s) for s in specs}
    payload, errors = payload_from(specs, raws)
    assert set(payload) <= set(props) and set(errors) <= set(props)
    assert not set(payload) & set(errors)
    for name, value in payload.items():
        assert typed(value, props[name]), (name, value, props[name])
        assert check_value(props[name], value)[1] is None
        spec = next(s for s in specs if s.name == name)
        assert payload_from([spec], {name: to_raw(spec, value)}) == ({name: value}, {})


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schemas())
def test_model_form_builds_and_value_is_a_fixed_point(schema: Any) -> None:
    form = ModelForm(schema)
    try:
        props = properties_of(schema) if isinstance(schema, dict) else {}
        value = form.value
        assert set(value) <= set(props)
        for name, item in value.items():
            assert typed(item, props[name]), (name, item, props[name])
        assert form.valid is (not form.errors)
        form.value = value
        assert form.value == value
        assert form.ignored == {}
        form.reset()
        assert form.value == value
    finally:
        form.close()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schemas(), st.data())
def test_any_value_set_reads_back_as_a_fixed_point(schema: Any, data: st.DataObject) -> None:
    form = ModelForm(schema)
    try:
        props = properties_of(schema) if isinstance(schema, dict) else {}
        names = st.sampled_from(list(props)) if props else NAMES
        given_value = data.draw(st.dictionaries(st.one_of(names, NAMES), JSONISH, max_size=6))
        form.value = given_value
        assert set(form.ignored) <= set(given_value)
        value = form.value
        assert set(value) <= set(props)
        for name, item in value.items():
            assert typed(item, props[name]), (name, item, props[name])
            assert check_value(props[name], item)[1] is None
        was_valid = form.valid
        form.value = value
        again = form.value
        assert form.ignored == {}
        if was_valid:
            assert again == value
        # otherwise a required field, emptied or invalid, came back with its default: only once
        form.value = again
        assert form.value == again
    finally:
        form.close()
