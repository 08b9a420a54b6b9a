"""What a result looks like with no kernel and no widget state: its MIME bundle."""

import base64
import io
import re
from pathlib import Path

import pytest
from PIL import Image

from eachlabs_widgets import Generation, Output, PredictionFailedError, Results
from eachlabs_widgets._display.render import generation_bundle, set_embed_mode

EVIL = '<script>alert("x")</script> & fox'


def png(size=(1024, 576)) -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise(size, 60).convert("RGB").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def generation() -> Generation:
    return Generation(
        id="p<1>", model="flux", status="success", inputs={"prompt": EVIL, "seed": 3},
        urls=["https://cdn/0.png", "https://cdn/1.png"],
        outputs=[Output("https://cdn/0.png", png()), Output("https://cdn/1.png", png())],
        metrics={"cost": 0.016}, elapsed=1.25, emulated=True, paths=[Path("out/a b.png")],
    )  # fmt: skip


def test_thumbnail_bundle_is_small_and_escaped(generation):
    bundle = generation_bundle(generation, "thumbnail")
    html = bundle["text/html"]
    # the thumbnail is stored once, inside the HTML (every frontend shows it there)
    assert "image/jpeg" not in bundle and html.count("data:image/jpeg;base64,") == 1
    encoded = re.search(r"data:image/jpeg;base64,([^']+)", html).group(1)
    sheet = Image.open(io.BytesIO(base64.b64decode(encoded)))
    assert sheet.height == 256 and sheet.width > 2 * 455  # both images side by side
    assert len(encoded) < 150_000
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "p&lt;1&gt;" in html and "emulator" in html and "seed 3" in html and "$0.016" in html
    assert "out/a b.png" in html
    assert "flux (emulator) 2 output(s) seed=3" in bundle["text/plain"]


def test_full_embeds_the_images_as_made_and_none_only_links(generation):
    full = generation_bundle(generation, "full")["text/html"]
    assert full.count("data:image/png;base64,") == 2
    none = generation_bundle(generation, "none")
    assert "data:image" not in none["text/html"] and "image/jpeg" not in none
    assert "a b.png" in none["text/html"]


def test_embed_mode_is_checked(generation):
    with pytest.raises(ValueError, match="thumbnail, full, none"):
        set_embed_mode("huge")


def test_results_grid_labels_and_failures(generation):
    failure = PredictionFailedError(prediction_id="p2", message="flagged <b>")
    bundle = Results([("seed=1", generation), ("seed=<2>", failure)])._repr_mimebundle_()
    assert "seed=&lt;2&gt;" in bundle["text/html"] and "flagged &lt;b&gt;" in bundle["text/html"]
    assert "[seed=1]" in bundle["text/plain"]
    assert Results([("a", generation), ("b", failure)]).generations == [generation, None]


def test_the_emulator_label_keeps_the_theme_s_text_colour():
    # JupyterLab's orange as a text colour reads at 2.7:1 on its Light theme (WCAG AA: 4.5:1)
    import re

    from eachlabs_widgets._display.render import EMULATOR_TAG

    assert "eachlabs-emulator" in EMULATOR_TAG and "border:1px solid" in EMULATOR_TAG
    assert not re.search(r"(?:'|;)\s*color\s*:", EMULATOR_TAG)


def test_a_grid_names_no_shared_prompt_when_its_failed_runs_had_another(generation):
    failure = PredictionFailedError(prediction_id="p2", model="flux", message="flagged")
    two_prompts = Results(
        [("a cat", failure), ("a dog", generation)], [{"prompt": "a cat"}, {"prompt": "a dog"}]
    )
    assert two_prompts._shared()[1] is None  # not the one prompt that succeeded
    one_prompt = Results([("seed 1", failure), ("seed 2", generation)], [{"seed": 1}, {"seed": 2}])
    assert one_prompt._shared()[1] == generation.prompt


def test_a_matrix_overrides_the_notebook_s_table_styles(generation):
    # JupyterLab right-aligns cells and stripes rows of any HTML table
    axes = [{"seed": s, "image_size": z} for s in (1, 2) for z in ("square", "wide")]
    html = Results([(str(a), generation) for a in axes], axes)._repr_mimebundle_()["text/html"]
    assert "eachlabs-matrix" in html
    rows = re.findall(r"<tr[^>]*>", html)
    cells = re.findall(r"<td[^>]*>", html)
    assert len(rows) == 3 and all("background:transparent" in r for r in rows)
    assert len(cells) == 4 and all("text-align:left" in c for c in cells)


def test_a_grid_is_laid_out_by_one_or_two_inputs_that_vary_in_every_run():
    from eachlabs_widgets._display.render import cell_title, grid_keys, matrix

    assert grid_keys([{"seed": 1}, {"seed": 2}]) == ["seed"]
    two = [{"seed": s, "size": z} for s in (2, 1) for z in ("a", "b")]
    assert grid_keys(two) == ["seed", "size"]
    rows, cols, where = matrix(two, ["seed", "size"])
    assert (rows, cols) == ([2, 1], ["a", "b"])  # in the order the runs came
    assert where == {(2, "a"): 0, (2, "b"): 1, (1, "a"): 2, (1, "b"): 3}
    # three inputs, or not the same ones: cells titled by their labels
    assert grid_keys([{"a": 1, "b": 1, "c": 1}]) == []
    assert grid_keys([{"seed": 1}, {"size": "a"}]) == []
    assert grid_keys([]) == []
    assert cell_title("seed=1 · x", {"seed": 1}, ["seed"]) == "seed=1"
    assert cell_title("the label", {"a": 1, "b": 1, "c": 1}, []) == "the label"
    long = "a prompt far longer than forty characters, cut"
    assert cell_title(long, {"prompt": long}, ["prompt"]) == long[:39] + "…"


def test_what_every_run_shares_is_said_once():
    from eachlabs_widgets._display.render import said_once

    axes = [{"seed": 1}, {"seed": 2}]
    assert said_once(["m", "m"], ["a fox", "a fox"], axes) == ("m", "a fox")
    assert said_once(["m", "n"], ["a fox", "a fox"], [{"model": "m"}, {"model": "n"}]) == (
        None,
        "a fox",
    )
    # a value seen once is not shared when the axes say it varies (a run that failed)
    assert said_once(["m"], ["a cat"], [{"prompt": "a cat"}, {"prompt": "a dog"}]) == ("m", None)
    assert said_once([], [], axes) == (None, None)
