"""A schema's keywords are checked against their draft's metaschema once per distinct piece
(the schema without its properties, and each property's schema), remembered by content: a
second model or a form field sharing a property is not checked again, and what is malformed
stays left out wherever it appears."""

from __future__ import annotations

import json
import uuid

import pytest

from eachlabs_widgets import InputValidationError
from eachlabs_widgets._schema import rules as _rules
from eachlabs_widgets._schema.inputs import check_value, validate_inputs
from eachlabs_widgets._schema.rules import rules_for

DRAFT4 = "http://json-schema.org/draft-04/schema#"


@pytest.fixture
def checks(monkeypatch):
    """The pieces checked against a metaschema, as JSON, in order."""
    seen: list[str] = []
    real = _rules._cleaned

    def cleaned(cls, piece):
        seen.append(json.dumps(piece, sort_keys=True))
        return real(cls, piece)

    monkeypatch.setattr(_rules, "_cleaned", cleaned)
    return seen


def _unique() -> str:
    """A value no other test's schema holds, so that nothing here was checked before."""
    return f"v-{uuid.uuid4().hex}"


def test_a_property_shared_by_two_models_is_checked_once(checks):
    size = _unique()
    shared = {"type": "string", "enum": [size, "square"]}
    first = {
        "type": "object",
        "properties": {
            "size": {**shared, "description": "The size."},
            "steps": {"type": "integer", "maximum": 7, "title": _unique()},
        },
    }
    second = {
        "type": "object",
        "required": ["size"],
        "properties": {"size": {**shared, "description": "Another text: an annotation."}},
    }
    rules_for(first, root=True)
    rules_for(second, root=True)
    check_value(second["properties"]["size"], "square")  # a form field of the same input
    assert [c for c in checks if size in c] == [json.dumps(shared, sort_keys=True)]
    # each model still applies the shared rule, the allowed values named
    for schema in (first, second):
        with pytest.raises(InputValidationError) as info:
            validate_inputs("m", schema, {"size": "squar"})
        assert info.value.problems[0]["allowed"] == [size, "square"]
        assert info.value.problems[0]["suggestion"] == "square"


def test_a_schema_is_checked_once_then_not_again(checks):
    schema = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 1}}}
    schema["properties"]["tag"] = {"type": "string", "enum": [_unique()]}
    rules_for(schema, root=True)
    count = len(checks)
    assert count >= 1
    rules_for(json.loads(json.dumps(schema)), root=True)  # an equal schema, another object
    assert len(checks) == count


def test_a_malformed_keyword_is_left_out_each_time_it_is_met(checks):
    tag = _unique()
    bad = {"type": "string", "pattern": "(", "enum": [tag, "(x"]}  # "(" is no regex
    for _ in range(2):  # checked, then remembered: the same outcome
        schema = {"type": "object", "properties": {"bad": bad, "n": {"maximum": 3}}}
        assert validate_inputs("m", schema, {"bad": "(x"}) == {"bad": "(x"}
        with pytest.raises(InputValidationError) as info:
            validate_inputs("m", schema, {"bad": "nope", "n": 4})
        assert info.value.fields == ["bad", "n"]  # the rest of the rules still apply
        assert info.value.problems[0]["allowed"] == [tag, "(x"]
    assert len([c for c in checks if tag in c]) == 1


def test_the_same_piece_under_another_draft_is_checked_under_that_draft():
    tag = _unique()
    # Draft 4 reads exclusiveMaximum as a flag on maximum; 2020-12 finds a boolean malformed
    # there and leaves it out, so only "at most 1" applies.
    prop = {"type": "number", "maximum": 1, "exclusiveMaximum": True, "title": tag}
    latest = {"type": "object", "properties": {"x": prop}}
    draft4 = {"$schema": DRAFT4, "type": "object", "properties": {"x": prop}}
    assert validate_inputs("m", latest, {"x": 1}) == {"x": 1}
    with pytest.raises(InputValidationError, match="less than 1"):
        validate_inputs("m", draft4, {"x": 1})
    assert validate_inputs("m", latest, {"x": 1}) == {"x": 1}


def test_a_property_malformed_as_a_whole_is_left_out_and_the_others_still_apply(monkeypatch):
    # No normalized property schema is malformed as a whole against the bundled metaschemas
    # (what is not a schema becomes {}), so the metaschema's verdict is stood in for here.
    tag = _unique()
    real = _rules._cleaned

    def cleaned(cls, piece):
        return None if tag in json.dumps(piece) else real(cls, piece)

    monkeypatch.setattr(_rules, "_cleaned", cleaned)
    schema = {
        "type": "object",
        "properties": {"odd": {"type": "string", "const": tag}, "n": {"maximum": 3}},
    }
    assert validate_inputs("m", schema, {"odd": "anything"}) == {"odd": "anything"}
    with pytest.raises(InputValidationError) as info:
        validate_inputs("m", schema, {"n": 4})
    assert info.value.fields == ["n"]
