"""The pure layer: request_schema -> FieldSpecs, raw widget values -> payload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eachlabs_widgets._schema.inputs import SEED_MAX, enum_of, validate_inputs
from eachlabs_widgets._schema.media import LocalMedia
from eachlabs_widgets.forms import field_specs, payload_from
from eachlabs_widgets.forms._fields import (
    FieldSpec,
    field_spec,
    initial_raw,
    parse_raw,
    seed_range,
    to_raw,
)

TYPES = {
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "string": (str,),
    "array": (list,),
    "object": (dict,),
}


def has_type(value: Any, declared: str | None) -> bool:
    if declared not in TYPES:
        return True
    if declared in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, TYPES[declared])


def spec_of(prop: Any, name: str = "x", required: bool = False) -> FieldSpec:
    return field_spec(name, prop, required)


# -- every catalog schema ---------------------------------------------------------------------


def test_every_property_gets_a_spec_in_schema_order(catalog_model: dict[str, Any]) -> None:
    schema = catalog_model["request_schema"]
    specs = field_specs(schema)
    assert [s.name for s in specs] == list(schema["properties"])
    for spec in specs:
        prop = schema["properties"][spec.name]
        if enum_of(prop):
            assert spec.kind == "dropdown"
            assert list(spec.options) == enum_of(prop)
        elif prop.get("type") == "boolean":
            assert spec.kind in ("checkbox", "dropdown")
        elif spec.name == "seed":
            assert spec.kind == "seed"
        elif prop.get("type") in ("integer", "number"):
            bounded = "minimum" in prop and "maximum" in prop
            assert spec.kind == ("slider" if bounded else "number")
        elif prop.get("type") == "array":
            assert spec.kind == "list"
        else:
            assert spec.kind in ("text", "textarea", "media")


def test_defaults_are_typed_and_required_marked(catalog_model: dict[str, Any]) -> None:
    schema = catalog_model["request_schema"]
    required = set(schema.get("required", []))
    for spec in field_specs(schema):
        assert spec.required is (spec.name in required)
        assert spec.label == (f"{spec.title} *" if spec.required else spec.title)
        assert "_" not in spec.title and spec.title[:1].isupper()
        assert spec.default is None or has_type(spec.default, spec.type), spec
        if spec.required:
            assert not spec.advanced
        if spec.kind == "dropdown" and spec.default is not None:
            assert spec.default in spec.options


def test_payload_round_trip(catalog_model: dict[str, Any]) -> None:
    schema = catalog_model["request_schema"]
    specs = field_specs(schema)
    raws = {s.name: initial_raw(s) for s in specs}
    payload, errors = payload_from(specs, raws)
    defaults = {s.name: s.default for s in specs if s.default is not None}
    assert payload == defaults
    assert set(errors) == {s.name for s in specs if s.required and s.default is None}
    assert all(m == "required" for m in errors.values())

    # fill the required fields, then read the payload back through the raw values
    for spec in specs:
        if spec.required and spec.default is None:
            raws[spec.name] = to_raw(spec, "https://example.com/a.zip" if spec.media else "a cat")
    payload, errors = payload_from(specs, raws)
    assert errors == {}
    assert validate_inputs(catalog_model["slug"], schema, payload) == payload
    again = {s.name: to_raw(s, payload.get(s.name)) for s in specs}
    assert payload_from(specs, again) == (payload, {})
    for name, value in payload.items():
        assert has_type(value, schema["properties"][name].get("type")), (name, value)


def test_flux_2_turbo_kinds_and_advanced(schema_of: Any) -> None:
    specs = {s.name: s for s in field_specs(schema_of("flux-2-turbo-text-to-image"))}
    assert {n: s.kind for n, s in specs.items()} == {
        "prompt": "textarea",
        "guidance_scale": "number",
        "image_size": "dropdown",
        "num_images": "number",
        "enable_prompt_expansion": "checkbox",
        "sync_mode": "checkbox",
        "enable_safety_checker": "checkbox",
        "output_format": "dropdown",
        "seed": "seed",
    }
    assert {n for n, s in specs.items() if s.advanced} == {
        "guidance_scale",
        "enable_prompt_expansion",
        "sync_mode",
        "enable_safety_checker",
    }
    assert specs["prompt"].label == "Prompt *"
    assert specs["guidance_scale"].title == "Guidance scale"
    assert specs["prompt"].description.startswith("The prompt")


def test_catalog_media_fields(schema_of: Any) -> None:
    ideogram = {s.name: s for s in field_specs(schema_of("ideogram-v3-turbo"))}
    assert (ideogram["image"].kind, ideogram["image"].media) == ("media", "image")
    assert (ideogram["mask"].kind, ideogram["mask"].media) == ("media", "image")
    trainer = {s.name: s for s in field_specs(schema_of("flux-lora-portrait-trainer"))}
    assert (trainer["images_data_url"].kind, trainer["images_data_url"].media) == (
        "media",
        "archive",
    )
    assert trainer["data_archive_format"].kind == "text"  # "format" names no file


def test_bounded_fields_are_sliders_and_huge_ranges_are_not(schema_of: Any) -> None:
    flex = {s.name: s for s in field_specs(schema_of("flux-2-flex"))}
    steps = flex["num_inference_steps"]
    assert (steps.kind, steps.minimum, steps.maximum, steps.step) == ("slider", 2, 50, 1)
    scale = flex["guidance_scale"]
    assert (scale.kind, scale.minimum, scale.maximum) == ("slider", 1.5, 10.0)
    assert scale.step is not None and scale.step <= 0.1
    assert (
        field_spec("n", {"type": "integer", "minimum": 0, "maximum": 2147483647}).kind == "number"
    )
    assert field_spec("n", {"type": "integer", "minimum": 1, "maximum": 1}).kind == "number"
    assert (
        field_spec("n", {"type": "number", "minimum": 0, "maximum": 1, "default": 0.125}).step
        == 0.001
    )


# -- string forms, enums, defaults outside the enum -------------------------------------------


def test_string_defaults_are_coerced() -> None:
    schema = {
        "properties": {
            "n": {"type": "integer", "default": "1"},
            "flag": {"type": "boolean", "default": "False"},
            "scale": {"type": "number", "default": "2.5"},
            "tol": {"type": "string", "enum": [1, 2, 3], "default": 2},
        }
    }
    specs = {s.name: s for s in field_specs(schema)}
    assert specs["n"].default == 1 and type(specs["n"].default) is int
    assert specs["flag"].default is False and specs["flag"].kind == "checkbox"
    assert specs["scale"].default == 2.5
    assert specs["tol"].options == ("1", "2", "3") and specs["tol"].default == "2"
    payload, errors = payload_from(list(specs.values()), {})
    assert (payload, errors) == ({}, {})  # nothing given: every key left to the service
    payload, _ = payload_from(
        list(specs.values()), {s.name: initial_raw(s) for s in specs.values()}
    )
    assert payload == {"n": 1, "flag": False, "scale": 2.5, "tol": "2"}


def test_enum_of_numbers_as_strings_with_integer_type() -> None:
    spec = spec_of({"type": "integer", "enum": ["1", "2", "4"], "default": "2"})
    assert spec.kind == "dropdown" and spec.options == (1, 2, 4) and spec.default == 2
    assert parse_raw(spec, to_raw(spec, "4")) == (4, None)
    numbers = spec_of({"type": "number", "enum": [0.5, 1, "1.5"]})
    assert numbers.options == (0.5, 1, 1.5)
    assert numbers.blank_label == "(service default)"


def test_default_outside_its_enum_is_left_to_the_service() -> None:
    spec = spec_of({"type": "string", "enum": ["a", "b"], "default": "zzz"})
    assert spec.default is None
    assert spec.blank_label == "(service default: zzz)"
    assert initial_raw(spec) is None
    assert parse_raw(spec, None) == (None, None)  # left out of the payload
    required = spec_of({"type": "string", "enum": ["a", "b"], "default": "zzz"}, required=True)
    assert required.blank_label == "— choose —"
    assert parse_raw(required, None) == (None, "required")


def test_a_choice_not_offered_cannot_be_set() -> None:
    spec = spec_of({"type": "string", "enum": ["a", "b"], "default": "a"})
    assert spec.blank_label is None
    assert to_raw(spec, "b") == "b"
    with pytest.raises(ValueError, match="not one of the choices"):
        to_raw(spec, "c")


def test_optional_boolean_without_default_is_three_way() -> None:
    spec = spec_of({"type": "boolean"})
    assert spec.kind == "dropdown" and spec.options == (True, False)
    assert parse_raw(spec, None) == (None, None)
    assert parse_raw(spec, to_raw(spec, "false")) == (False, None)
    assert spec_of({"type": "boolean"}, required=True).kind == "checkbox"


# -- numbers -----------------------------------------------------------------------------------


def test_number_text_is_parsed_and_checked() -> None:
    spec = spec_of({"type": "integer", "minimum": 1, "maximum": 4})
    assert parse_raw(spec, "3") == (3, None)
    assert parse_raw(spec, " ") == (None, None)
    value, problem = parse_raw(spec, "9")
    assert value is None and problem is not None and "between 1 and 4" in problem
    value, problem = parse_raw(spec, "abc")
    assert value is None and problem is not None and "integer" in problem
    assert to_raw(spec, 2) == "2"


def test_seed_range() -> None:
    assert seed_range(spec_of({"type": "integer"}, name="seed")) == (0, SEED_MAX)
    assert seed_range(spec_of({"type": "integer", "minimum": 5, "maximum": 9}, name="seed")) == (
        5,
        9,
    )
    assert seed_range(spec_of({"type": "integer", "maximum": 10**20}, name="seed")) == (0, 10**20)
    assert seed_range(spec_of({"type": "integer", "minimum": 9, "maximum": 5}, name="seed")) == (
        9,
        9,
    )
    assert spec_of({"type": "string"}, name="seed").kind == "seed"


# -- lists and objects -------------------------------------------------------------------------


def test_array_without_items() -> None:
    spec = spec_of({"type": "array"}, name="loras")
    assert spec.kind == "list"
    assert parse_raw(spec, "user/a\n\n  user/b \n") == (["user/a", "user/b"], None)
    assert parse_raw(spec, '[{"path": "x", "scale": 1}]') == ([{"path": "x", "scale": 1}], None)
    assert parse_raw(spec, '{"path": "x"}\nuser/b') == ([{"path": "x"}, "user/b"], None)
    value, problem = parse_raw(spec, "[1, 2")
    assert value is None and problem is not None and "invalid JSON list" in problem
    assert to_raw(spec, ["a", "b"]) == "a\nb"
    assert to_raw(spec, ["a b", 1]) == '["a b", 1]'
    assert parse_raw(spec, to_raw(spec, [])) == ([], None)


def test_array_items_are_typed() -> None:
    spec = spec_of({"type": "array", "items": {"type": "integer"}, "maxItems": 2})
    assert parse_raw(spec, "1\n2") == ([1, 2], None)
    assert parse_raw(spec, "1\n2\n3")[1] == "allows at most 2 items, got 3"
    assert parse_raw(spec, "1\nx")[1] is not None


def test_object_without_properties() -> None:
    spec = spec_of({"type": "object"})
    assert spec.kind == "json"
    assert parse_raw(spec, '{"a": [1]}') == ({"a": [1]}, None)
    value, problem = parse_raw(spec, "{oops")
    assert value is None and problem is not None and "JSON object" in problem
    assert parse_raw(spec, to_raw(spec, {"k": "v"})) == ({"k": "v"}, None)


# -- odd schemas -------------------------------------------------------------------------------


@pytest.mark.parametrize("schema", [None, {}, [], "x", {"properties": []}, {"properties": None}])
def test_schemas_without_properties(schema: Any) -> None:
    assert field_specs(schema) == []
    assert payload_from([], {"anything": 1}) == ({}, {})


def test_missing_unknown_and_garbage_types_are_text() -> None:
    schema = {
        "required": ["ghost", "raw"],
        "properties": {
            "plain": {},
            "odd": {"type": "file"},
            "raw": 5,
            "many": {"type": ["string", "null"]},
        },
    }
    specs = {s.name: s for s in field_specs(schema)}
    assert [s.kind for s in specs.values()] == ["text", "text", "text", "text"]
    assert specs["raw"].required and "ghost" not in specs
    assert specs["many"].type == "string"
    payload, errors = payload_from(list(specs.values()), {"plain": "1", "raw": "", "ghost": "x"})
    assert payload == {"plain": "1"}
    assert errors == {"raw": "required"}


# -- media -------------------------------------------------------------------------------------


def test_media_values(tmp_path: Path) -> None:
    spec = spec_of({"type": "string"}, name="image_url")
    assert spec.kind == "media" and spec.media == "image"
    assert to_raw(spec, "https://x/y.png") == "https://x/y.png"
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 8
    local = to_raw(spec, png)
    assert isinstance(local, LocalMedia) and local.content_type == "image/png"
    path = tmp_path / "cat.png"
    path.write_bytes(png)
    from_path = to_raw(spec, str(path))
    assert isinstance(from_path, LocalMedia) and from_path.filename == "cat.png"
    assert parse_raw(spec, from_path) == (from_path, None)
    assert parse_raw(spec, "not a url") == (None, "expected a URL (https://…) or a file")
    with pytest.raises(ValueError, match="cannot use"):
        to_raw(spec, object())
