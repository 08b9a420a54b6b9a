"""How an output reads: shown as written (math typesetting skips ``$`` amounts), and a run made
from another says so wherever it is shown."""

from dataclasses import replace

from eachlabs_widgets._display.markup import NO_MATH, as_written
from eachlabs_widgets._display.render import Results, generation_bundle, summary_line
from eachlabs_widgets._display.tables import TextView
from eachlabs_widgets._generation import Generation

WRAPPED = f"<div class='{NO_MATH}'>"


def _generation() -> Generation:
    return Generation(
        id="abc12345-0000",
        model="flux-2-turbo-text-to-image",
        status="success",
        inputs={"prompt": "a fox"},
        urls=[],
        metrics={"cost": 0.016},
    )


def test_each_kind_of_output_is_wrapped():
    g = _generation()
    bundles = [
        generation_bundle(g),
        summary_line(g),
        Results([("a", g), ("b", g)])._repr_mimebundle_(),
        TextView("spent $0.016 of $0.020 budget")._repr_mimebundle_(),
    ]
    for bundle in bundles:
        assert bundle["text/html"].startswith(WRAPPED), bundle["text/html"][:80]
    assert "$0.016 of $0.020" in bundles[-1]["text/html"]


def test_both_mathjax_versions_class_names():
    assert set(NO_MATH.split()) == {"tex2jax_ignore", "mathjax_ignore"}
    assert as_written("<b>$1</b>") == f"{WRAPPED}<b>$1</b></div>"


def test_a_run_made_from_another_says_so_in_its_caption_and_line():
    varied = replace(_generation(), parent="9f8e7d6c-1111-2222")
    for bundle in (generation_bundle(varied), summary_line(varied)):
        assert "from 9f8e7d6c" in bundle["text/html"]
    assert "from 9f8e7d6c" in summary_line(varied)["text/plain"]
    assert "from " not in summary_line(_generation())["text/plain"]
