"""Property: whatever a user types on a ``%%eachgen`` line, the magic's parser ends in jobs that
can be sent, or in one usage/validation error naming the problem; never a crash."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from IPython.core.error import UsageError

from eachlabs_widgets import InputValidationError
from eachlabs_widgets.magics._parse import (
    ModelOption,
    build_jobs,
    fill_value,
    split_prompts,
    split_tokens,
    tokenize,
)

SCHEMA = {
    "type": "object",
    "required": ["prompt"],
    "properties": {
        "prompt": {"type": "string"},
        "image_size": {"type": "string", "enum": ["square", "landscape_4_3"], "default": "square"},
        "num_images": {"type": "integer", "default": 1, "minimum": 1, "maximum": 4},
        "guidance_scale": {"type": "number", "minimum": 0, "maximum": 20},
        "seed": {"type": "integer"},
        "sync_mode": {"type": "boolean", "default": False},
        "image_url": {"type": "string", "description": "URL of the input image"},
        "loras": {"type": "array", "items": {"type": "object"}},
    },
}
NAMES = ["prompt", "image_size", "num_images", "guidance_scale", "seed", "sync_mode", "loras"]
WORDS = st.one_of(
    st.sampled_from(
        [
            *(f"--{n}" for n in NAMES),
            "--no-sync_mode",
            "--input.seed",
            "--seed=1..3",
            "--force",
            "--background",
            "-o",
            "out",
            "1,2,3",
            "1..4",
            "square,landscape_4_3",
            "huge",
            "nan",
            "inf",
            "1e999",
            "99999999999999999999999",
            '"a b"',
            "'x'",
            "{x}",
            "{{",
            "[1,2]",
            '[{"path":"p","scale":1}]',
            "true",
            "=",
            "--",
            "-",
        ]
    ),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=8),
)
BODIES = st.text(st.sampled_from(list("ab {}\n-—\t'\"")), max_size=30)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(WORDS, max_size=8), BODIES)
def test_any_line_ends_in_sendable_jobs_or_one_clear_error(words, body):
    line = " ".join(words)
    try:
        split = split_tokens(tokenize(line))
        options = [
            ModelOption(o.name, fill_value(o.value, {"x": 3}), o.negated) for o in split.inputs
        ]
        jobs = build_jobs([("m", SCHEMA)], split_prompts(body), options, max_runs=64)
    except (UsageError, InputValidationError) as exc:
        assert str(exc).strip()  # says something
        return
    for job in jobs:
        json.dumps(job.inputs, allow_nan=False)  # what would be sent is valid JSON
        assert set(job.inputs) <= set(SCHEMA["properties"])
