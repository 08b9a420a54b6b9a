"""The pure parsing rules: tokens, templates, sweeps, jobs."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from eachlabs_widgets.magics._parse import (
    ModelOption,
    build_jobs,
    fill,
    fill_value,
    split_prompts,
    split_tokens,
    sweep_values,
)

SCHEMA = {
    "required": ["prompt"],
    "properties": {
        "prompt": {"type": "string"},
        "size": {"type": "string", "enum": ["a", "b", "a,b"]},
        "style": {"type": "string"},
        "steps": {"type": "integer", "minimum": 1, "maximum": 50},
        "scale": {"type": "number"},
        "fast": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}
PROPS = SCHEMA["properties"]


def test_split_tokens_separates_own_options_and_inputs():
    split = split_tokens(
        ["m", "-o", "x", "--steps=3", "--fast", "--no-fast2", "--scale", "-1.5", "--force"]
    )
    assert split.own == ["m", "-o", "x", "--force"]
    assert split.inputs == [
        ModelOption("steps", "3"),
        ModelOption("fast"),
        ModelOption("fast2", negated=True),
        ModelOption("scale", "-1.5"),
    ]


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("steps", "1,2, 3", ["1", "2", "3"]),
        ("scale", "2.5,4", ["2.5", "4"]),
        ("fast", "true,false", ["true", "false"]),
        ("size", "a,b", ["a,b"]),  # itself an allowed value: never split
        ("style", "oil, watercolour", ["oil, watercolour"]),  # free strings never sweep
        ("tags", "x,y", ["x,y"]),  # an array takes the list whole
        ("steps", range(1, 3), [1, 2]),
        ("steps", "7", ["7"]),
    ],
)
def test_sweep_rules(name, value, expected):
    assert sweep_values(name, PROPS[name], value) == expected


def test_enum_sweep_needs_every_part_allowed():
    props = {"size": {"type": "string", "enum": ["square", "wide"]}}
    assert sweep_values("size", props["size"], "square,wide") == ["square", "wide"]
    with pytest.raises(UsageError, match="'tall' not allowed; choose from: square, wide"):
        sweep_values("size", props["size"], "square,tall")


def test_templates():
    ns = {"n": 7, "d": {"k": "v"}, "s": "x y", "obj": [1, 2]}
    assert fill('{n:03d} {d[k]} {s!r} {{lit}} {"json": 1}', ns) == "007 v 'x y' {lit} {\"json\": 1}"
    assert fill_value("{obj}", ns) == [1, 2]
    assert fill_value("{n}-{n}", ns) == "7-7"
    with pytest.raises(UsageError, match="no variable 'missing'"):
        fill("{missing.attr}", ns)


def test_prompts_split_on_a_dashes_line_only():
    body = "one\n--- not a separator\n---\n  two  \n---\n\n"
    assert split_prompts(body) == ["one\n--- not a separator", "two"]


def test_jobs_are_the_product_with_labels():
    jobs = build_jobs(
        [("m", SCHEMA)],
        ["p1", "p2"],
        [ModelOption("steps", "1,2"), ModelOption("fast", "true,false")],
    )
    assert [j.label for j in jobs][:3] == [
        "p1 · steps=1 · fast=true",
        "p1 · steps=1 · fast=false",
        "p1 · steps=2 · fast=true",
    ]
    assert len(jobs) == 8
    assert jobs[0].inputs == {"prompt": "p1", "steps": 1, "fast": True}


def test_a_job_knows_its_pictures_shape_from_its_inputs_or_the_model_s_default():
    # the live tile takes the picture's shape before the picture exists
    schema = {
        "properties": {
            "prompt": {"type": "string"},
            "image_size": {
                "type": "string",
                "enum": ["square", "landscape_16_9", "portrait_4_3"],
                "default": "landscape_16_9",
            },
        }
    }
    jobs = build_jobs([("m", schema)], ["p"], [ModelOption("image_size", "square,portrait_4_3")])
    assert [j.aspect for j in jobs] == [1.0, 0.75]
    (default,) = build_jobs([("m", schema)], ["p"], [])
    assert default.aspect == pytest.approx(16 / 9) and "image_size" not in default.inputs
    (unknown,) = build_jobs([("m", SCHEMA)], ["p"], [])
    assert unknown.aspect is None


def test_a_local_file_for_a_file_input_is_uploaded(tmp_path):
    schema = {"properties": {"prompt": {"type": "string"}, "image_url": {"type": "string"}}}
    path = tmp_path / "in.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    (job,) = build_jobs([("m", schema)], ["p"], [ModelOption("image_url", str(path))])
    assert job.inputs["image_url"] == path
    (job,) = build_jobs([("m", schema)], ["p"], [ModelOption("image_url", "https://x/y.png")])
    assert job.inputs["image_url"] == "https://x/y.png"


def test_a_model_input_named_like_a_magic_flag():
    from eachlabs_widgets.magics._parse import split_tokens, tokenize

    split = split_tokens(tokenize("gpt-image --background opaque --force"))
    assert split.own == ["gpt-image", "--force"]
    assert [(o.name, o.value) for o in split.inputs] == [("background", "opaque")]
    split = split_tokens(tokenize("gpt-image --background --background=transparent"))
    assert split.own == ["gpt-image", "--background"]
    assert [(o.name, o.value) for o in split.inputs] == [("background", "transparent")]
    split = split_tokens(tokenize("m --input.timeout 5 --timeout 9"))
    assert split.own == ["m", "--timeout", "9"]
    assert [(o.name, o.value) for o in split.inputs] == [("timeout", "5")]
