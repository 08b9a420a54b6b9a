"""The text of a run (``%%eachgen`` cell, Python call): pure, no widgets."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import eachlabs_widgets
from eachlabs_widgets import LocalMedia
from eachlabs_widgets._schema import coerce_value, properties_of
from eachlabs_widgets.magics._parse import (
    ModelOption,
    build_jobs,
    fill,
    fill_value,
    split_prompts,
    split_tokens,
    tokenize,
)
from eachlabs_widgets.panel import eachgen_cell, python_call
from eachlabs_widgets.panel._text import format_cli_value, run_text

CATALOG = json.loads(
    (Path(eachlabs_widgets.__file__).parent / "emulator" / "models.json").read_text("utf-8")
)
BY_SLUG = {m["slug"]: m for m in CATALOG}


def read_back(text: str) -> tuple[str, dict[str, Any]]:
    """What the ``%%eachgen`` magic makes of the cell: its own tokenizer, templating (with an
    empty namespace), prompt split and per-model validation (``magics._parse``)."""
    first, _, body = text.partition("\n")
    assert first.startswith("%%eachgen ")
    split = split_tokens(tokenize(first.removeprefix("%%eachgen ")))
    [model] = split.own
    options = [ModelOption(o.name, fill_value(o.value, {}), o.negated) for o in split.inputs]
    prompts = [fill(p, {}) for p in split_prompts(body)]
    [job] = build_jobs([(model, BY_SLUG[model]["request_schema"])], prompts, options)
    return model, job.inputs


def test_cell_layout():
    text = eachgen_cell(
        "flux-2-turbo-text-to-image",
        {"prompt": "a fox\nin snow", "num_images": 2, "sync_mode": False, "seed": 7},
    ).text
    assert text == (
        "%%eachgen flux-2-turbo-text-to-image --num_images 2 --sync_mode false --seed 7\n"
        "a fox\nin snow"
    )


def test_cell_quotes_strings_and_glues_values_that_look_like_options():
    inputs = {"prompt": "p", "negative_prompt": "--blurry -o", "seed": -1}
    text = eachgen_cell("hunyuan-image-v3-text-to-image", inputs).text
    assert "--seed=-1" in text and "--negative_prompt='--blurry -o'" in text
    assert read_back(text) == ("hunyuan-image-v3-text-to-image", inputs)


def test_json_values_are_one_word():
    value = [{"path": "https://x/a b.safetensors", "scale": 1.0}]
    word = format_cli_value(value)
    [token] = shlex.split(word)
    assert json.loads(fill(token, {})) == value  # braces doubled for the magic's templating


@pytest.mark.parametrize("model", [m["slug"] for m in CATALOG])
def test_every_catalog_model_round_trips(model):
    """Defaults of every property, plus awkward strings, survive cell -> shlex -> coercion."""
    inputs: dict[str, Any] = {}
    for name, prop in properties_of(BY_SLUG[model]["request_schema"]).items():
        kind = prop.get("type")
        if name == "prompt":
            inputs[name] = 'a "quoted" {prompt}; $HOME `x` \\ end, with, commas'
        elif "enum" in prop:
            inputs[name] = coerce_value(prop, prop["enum"][-1])
        elif "default" in prop:
            inputs[name] = coerce_value(prop, prop["default"])
        elif kind == "string":
            inputs[name] = "https://cdn.example/it's a {file},1.zip"
        elif kind == "array":
            inputs[name] = [{"path": "https://x/w.safetensors", "scale": 0.5}]
        elif kind == "integer":
            inputs[name] = 42
    text = eachgen_cell(model, inputs)
    assert text.missing == []
    if "background" in inputs:  # named like the magic's own --background flag
        assert "--input.background" in text.text
    assert read_back(text.text) == (model, inputs)


SEPARATOR = re.compile(r"^[ \t]*---[ \t]*$", re.MULTILINE)  # the magic's prompt separator


@settings(max_examples=80, deadline=None)
@given(
    prompt=st.text(min_size=1).filter(
        lambda s: s == s.strip() and "\r" not in s and not SEPARATOR.search(s)
    ),
    negative=st.text().filter(lambda s: "\n" not in s and "\r" not in s),
    seed=st.integers(-(2**31), 2**31 - 1),
    scale=st.floats(allow_nan=False, allow_infinity=False, width=32),
)
def test_arbitrary_values_read_back_by_the_magic(prompt, negative, seed, scale):
    inputs = {"prompt": prompt, "negative_prompt": negative, "seed": seed, "guidance_scale": scale}
    model = "hunyuan-image-v3-text-to-image"
    assert read_back(eachgen_cell(model, inputs).text) == (model, inputs)


def test_a_line_break_in_an_option_cannot_be_written():
    text = eachgen_cell("imagen4-preview", {"prompt": "p", "negative_prompt": "a\nb"})
    assert text.missing == ["negative_prompt"]
    assert read_back(text.text)[1]["negative_prompt"] == "a b"


def test_python_call_execs_to_the_same_request(monkeypatch):
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(eachlabs_widgets, "generate", lambda *a, **k: calls.append((a, k)))
    inputs = {
        "prompt": 'it\'s "fine"\nsecond line',
        "loras": [{"path": "https://x/w.safetensors", "scale": 1.0}],
        "guidance_scale": 2.5,
        "enable_safety_checker": False,
        "seed": 5,
        "class": "a keyword",
        "odd-name": 1,
    }
    text = python_call("flux-2-lora", inputs).text
    assert text.startswith("import eachlabs_widgets\n")
    exec(compile(text, "<copied>", "exec"), {})
    [(args, kwargs)] = calls
    assert args == ("flux-2-lora", inputs["prompt"])
    assert {"prompt": args[1], **kwargs} == inputs


def test_python_call_without_prompt_keeps_it_out():
    text = python_call("z-image-trainer", {"image_data_url": "https://x/a.zip"}).text
    assert "generate('z-image-trainer', image_data_url='https://x/a.zip')" in text


def test_kernel_only_files_are_reported_not_written():
    media = LocalMedia(b"PK\x03\x04zip", "application/zip", "a.zip")
    for kind in ("eachgen", "python"):
        text = run_text(kind, "flux-turbo-trainer", {"images_data_url": media, "steps": 10})
        assert text.missing == ["images_data_url"]
        assert "LocalMedia" not in text.text and "upload the file" in text.text
    with pytest.raises(ValueError):
        run_text("yaml", "m", {})
