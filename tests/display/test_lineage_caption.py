"""A run made from another (vary, remix, recall…) says so wherever it is shown."""

from dataclasses import replace

from eachlabs_widgets._display.render import generation_bundle, summary_line
from eachlabs_widgets._generation import Generation


def _generation() -> Generation:
    return Generation(
        id="abc12345-0000",
        model="flux-2-turbo-text-to-image",
        status="success",
        inputs={"prompt": "a fox"},
        urls=[],
        metrics={"cost": 0.016},
    )


def test_a_run_made_from_another_says_so_in_its_caption_and_line():
    varied = replace(_generation(), parent="9f8e7d6c-1111-2222")
    for bundle in (generation_bundle(varied), summary_line(varied)):
        assert "from 9f8e7d6c" in bundle["text/html"]
    assert "from 9f8e7d6c" in summary_line(varied)["text/plain"]
    assert "from " not in summary_line(_generation())["text/plain"]
