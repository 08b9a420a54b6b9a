"""Nullable fields (``anyOf``/``oneOf`` with ``{"type": "null"}``, ``type: [T, "null"]``,
``nullable``) make the field of their non-null type; an empty field sends nothing (null)."""

from __future__ import annotations

import eachlabs_widgets as el

SCHEMA = {
    "type": "object",
    "required": ["prompt"],
    "properties": {
        "prompt": {"type": "string"},
        "steps": {
            "anyOf": [{"type": "integer", "minimum": 1, "maximum": 50}, {"type": "null"}],
            "default": None,
        },
        "mode": {"anyOf": [{"type": "string", "enum": ["fast", "slow"]}, {"type": "null"}]},
        "safe": {"anyOf": [{"type": "boolean"}, {"type": "null"}], "default": None},
        "scale": {"oneOf": [{"type": "number", "minimum": 0, "maximum": 2}, {"type": "null"}]},
        "guidance": {"type": ["number", "null"], "minimum": 0, "maximum": 20, "default": 3.5},
        "strength": {"type": "number", "nullable": True, "minimum": 0, "maximum": 1, "default": 0},
        "image_url": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Image URL"},
    },
}


def test_each_nullable_field_is_the_field_of_its_type():
    form = el.ModelForm(SCHEMA, model="stand-in")
    kinds = {s.name: s.kind for s in form.specs}
    assert kinds == {
        "prompt": "textarea",
        "steps": "slider",
        "mode": "dropdown",
        "safe": "dropdown",  # true / false / blank: null is allowed
        "scale": "slider",
        "guidance": "slider",
        "strength": "slider",
        "image_url": "media",
    }
    # Nothing typed: only the defaults that are values (0 kept, null omitted).
    assert form.value == {"guidance": 3.5, "strength": 0}
    form.close()


def test_typed_values_are_sent_in_their_type_and_checked_against_their_bounds():
    form = el.ModelForm(SCHEMA, model="stand-in")
    form.fields["prompt"].raw = "a fox"
    form.fields["steps"].raw = "28"
    form.fields["scale"].raw = "1.25"
    form.fields["mode"].raw = "slow"
    value = form.value
    assert value["steps"] == 28 and type(value["steps"]) is int
    assert value["scale"] == 1.25 and value["mode"] == "slow"
    form.fields["steps"].raw = "500"
    assert "steps" not in form.value
    assert form.errors["steps"] == "must be between 1 and 50, got 500"
    form.fields["steps"].raw = ""  # emptied: null, i.e. left out for the service's default
    assert "steps" not in form.value and "steps" not in form.errors
    form.close()
