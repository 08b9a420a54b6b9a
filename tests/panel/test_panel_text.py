"""The text of a run (``%%eachgen`` cell, Python call): pure, no widgets."""

from __future__ import annotations

import ast
import inspect
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from IPython.core.inputtransformer2 import TransformerManager

import eachlabs_widgets
from eachlabs_widgets import LocalMedia
from eachlabs_widgets._schema.inputs import coerce_value, properties_of
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
from eachlabs_widgets.panel._text import escape_braces, format_cli_value, run_text

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
        elif kind == "string" and "pattern" in prop:  # ideogram's WxH resolution
            inputs[name] = "1536x640"
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


def ipython_parts(text: str) -> tuple[str, str]:
    """The (line, body) IPython hands to the cell magic for the cell ``text``: its own input
    transformation (which also adds a final newline), not ours."""
    code = TransformerManager().transform_cell(text)
    call = ast.parse(code).body[0].value  # get_ipython().run_cell_magic('eachgen', line, body)
    assert isinstance(call, ast.Call) and call.func.attr == "run_cell_magic"
    name, line, body = (ast.literal_eval(a) for a in call.args)
    assert name == "eachgen"
    return line, body


def magic_reads(text: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The inputs the magic sends for the cell ``text``: IPython's split of the cell, then the
    magic's own tokenizer, templating, prompt split and validation against ``schema``."""
    line, body = ipython_parts(text)
    split = split_tokens(tokenize(line))
    [model] = split.own
    options = [ModelOption(o.name, fill_value(o.value, {}), o.negated) for o in split.inputs]
    prompts = [fill(p, {}) for p in split_prompts(body)]
    [job] = build_jobs([(model, schema)], prompts, options)
    return job.inputs


# Values of every kind the magic's line carries, with the characters that break naive copies.
AWKWARD = st.sampled_from(list("{}'\"\\ ,=-$`#\t\r\n\x0b\x1e\x85\u2028ﬁｓé"))
TEXT = st.text(st.one_of(AWKWARD, st.characters(exclude_categories=("Cs",))), max_size=12)
NAMES = st.one_of(
    st.text(st.sampled_from(list("ab_-.=ﬁｓ ")), min_size=1, max_size=6),
    st.sampled_from(["background", "out", "model", "help", "h", "no-seed", "input.x", "timeout"]),
).filter(lambda n: n != "prompt")
VALUES = st.one_of(
    TEXT,
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.one_of(TEXT, st.integers(-(2**63), 2**63 - 1)), max_size=3),
)
PROMPTS = st.one_of(
    TEXT.filter(bool),
    st.lists(st.sampled_from(["a fox", "---", " --- ", "", "  ", "{x}", '"q"']), min_size=1).map(
        "\n".join
    ),
).filter(bool)
JSON_TYPE = {str: "string", bool: "boolean", int: "integer", float: "number", list: "array"}
LINE_BREAK = re.compile(r"[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def unwritable(inputs: dict[str, Any]) -> list[str]:
    """The inputs the magic's one line cannot carry, by the rule the module states."""
    seen: set[str] = set()
    out = []
    for name, value in inputs.items():
        if name == "prompt":
            continue
        broken = isinstance(value, str) and LINE_BREAK.search(value)
        canonical = name.replace("-", "_")
        if broken or "=" in name or canonical in seen:
            out.append(name)
        if "=" not in name and canonical not in seen:
            seen.add(canonical)
    return out


@settings(max_examples=150, deadline=None)
@given(prompt=PROMPTS, others=st.dictionaries(NAMES, VALUES, max_size=4))
def test_a_copied_cell_makes_the_same_request_or_names_what_it_cannot(prompt, others):
    inputs = {"prompt": prompt, **others}
    schema = {
        "type": "object",
        "properties": {n: {"type": JSON_TYPE[type(v)]} for n, v in inputs.items()},
    }
    copied = eachgen_cell("some-model", inputs)
    assert copied.missing == unwritable(inputs)
    sent = magic_reads(copied.text, schema)
    assert sent["prompt"] == prompt  # every prompt, always exactly
    for name, value in inputs.items():
        if name not in copied.missing:
            assert sent[name] == value and type(sent[name]) is type(value), name


@pytest.mark.parametrize(
    "prompt",
    [
        "a fox\n---\na hen",
        "  a fox  ",
        "\n\na fox\n",
        "a fox\r\nin snow",
        '"quoted"',
        "",
        " ",
        "{x} and {{y}}",
        "a\u2028b",
        "a fox\n  \na fox",
        "---",
    ],
)
def test_prompts_plain_text_cannot_hold_read_back_exactly(prompt):
    copied = eachgen_cell("imagen4-preview", {"prompt": prompt})
    assert split_prompts(copied.text.partition("\n")[2]) == [escape_braces(prompt)]
    assert [fill(p, {}) for p in split_prompts(ipython_parts(copied.text)[1])] == [prompt]


def test_ordinary_prompts_stay_plain_text():
    text = eachgen_cell("imagen4-preview", {"prompt": "a fox\nin snow, {at} dusk"}).text
    assert text.endswith("\na fox\nin snow, {{at}} dusk")


def test_a_json_string_body_is_one_prompt_and_other_bodies_are_unchanged():
    assert split_prompts('"  a\\n---\\nb  "') == ["  a\n---\nb  "]
    assert split_prompts('"a" and "b"') == ['"a" and "b"']  # not one JSON string
    assert split_prompts('a\n---\n"b"\n') == ["a", "b"]


def generate_inputs(monkeypatch: pytest.MonkeyPatch, text: str) -> dict[str, Any]:
    """What ``generate()`` receives when the copied call runs (bound to its real signature)."""
    real = eachlabs_widgets.generate
    calls = []
    monkeypatch.setattr(
        eachlabs_widgets,
        "generate",
        lambda *a, **k: calls.append(inspect.signature(real).bind(*a, **k)),
    )
    exec(compile(text, "<copied>", "exec"), {})
    [bound] = calls
    arguments = bound.arguments
    inputs = dict(arguments.get("inputs", {}))
    if arguments.get("prompt") is not None:
        inputs["prompt"] = arguments["prompt"]
    return inputs


@settings(max_examples=100, deadline=None)
@given(
    prompt=st.one_of(st.none(), TEXT),
    others=st.dictionaries(
        NAMES | st.sampled_from(["ﬁlter_strength", "ｓeed", "class", "def"]), VALUES, max_size=4
    ),
)
def test_a_copied_python_call_makes_the_same_request(prompt, others):
    inputs = {**others, **({"prompt": prompt} if prompt is not None else {})}
    copied = python_call("some-model", inputs)
    # only inputs named like generate()'s own parameters cannot be passed, and they are named
    own = set(inspect.signature(eachlabs_widgets.generate).parameters) - {"prompt", "inputs"}
    assert copied.missing == [n for n in inputs if n in own]
    with pytest.MonkeyPatch.context() as monkeypatch:
        sent = generate_inputs(monkeypatch, copied.text)
    assert sent == {k: v for k, v in inputs.items() if k not in copied.missing}


def test_names_python_would_fold_go_into_the_dict():
    text = python_call("m", {"prompt": "x", "ﬁlter_strength": 2, "seed": 1}).text
    assert "seed=1" in text and "**{'ﬁlter_strength': 2}" in text


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
