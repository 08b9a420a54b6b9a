"""What a person reads: suggestions, usage errors before anything is sent, notes said once, help
without markup, sweeps laid out as labelled grids, costs."""

from __future__ import annotations

import re

import pytest
from IPython.core.error import UsageError

from eachlabs_widgets import Generation
from eachlabs_widgets.magics._catalogue import nearest_slugs

from .conftest import FLUX


def created(emulator) -> int:
    return int(emulator.stats.predictions_created)


def test_a_mistyped_command_suggests_the_right_one(shell, emulator):
    before = created(emulator)
    with pytest.raises(UsageError, match=r"did you mean %eachgen models\?"):
        shell.run_line_magic("eachgen", "modles")
    with pytest.raises(UsageError, match=r"did you mean %eachgen history\?"):
        shell.run_line_magic("eachgen", "histroy 5")
    assert created(emulator) == before


def test_a_slug_is_found_from_its_tokens(shell):
    known = [
        "flux-2-pro",
        "flux-2-turbo-text-to-image",
        "flux-2-flash-text-to-image",
        "imagen-4-fast",
    ]
    assert nearest_slugs("flux2-turbo", known)[0] == "flux-2-turbo-text-to-image"
    assert nearest_slugs("imagen4", known)[0] == "imagen-4-fast"
    assert nearest_slugs("zzz", known) == []
    with pytest.raises(UsageError, match=r"did you mean 'flux-2-turbo-text-to-image'"):
        shell.run_cell_magic("eachgen", "flux2-turbo", "a fox")


def test_a_line_form_without_a_prompt_says_how_to_give_one(shell, emulator):
    before = created(emulator)
    with pytest.raises(UsageError, match=r"needs a prompt: give it with --prompt .*%%eachgen"):
        shell.run_line_magic("eachgen", FLUX)
    assert created(emulator) == before


@pytest.mark.parametrize("path", ["photos/nope.png", "~/no-such-folder/x.jpg"])
def test_a_missing_local_file_is_a_usage_error_naming_the_flag(shell, emulator, path):
    before = created(emulator)
    with pytest.raises(UsageError) as caught:
        shell.run_cell_magic("eachgen", f"wan-v2-6-text-to-image --image_url {path}", "a fox")
    message = str(caught.value)
    assert "\n" not in message and message.count("--image_url") == 1
    assert "no such file" in message and path in message
    assert created(emulator) == before  # nothing was sent


def test_a_model_that_does_not_take_an_option_is_named_once(shell, displays):
    shell.run_cell_magic("eachgen", f"{FLUX},imagen-4-fast --seed 3 -o t_r", "a fox")
    flux, imagen = shell.user_ns["t_r"]
    assert flux.seed == 3 and "seed" not in imagen.inputs
    final = displays.final
    assert final["text/html"].count("imagen-4-fast has no seed input; ran without it") == 1


def test_help_is_plain_text_with_an_example_per_form(shell):
    shown = shell.run_line_magic("eachgen", "")
    text = shown._repr_mimebundle_()["text/plain"]
    assert "``" not in text and ":func:" not in text and "\\\\n" not in text
    for example in ("%%eachgen MODEL", "%eachgen MODEL --prompt", "--seed 1,2,3", "resume"):
        assert example in text
    assert "How model inputs become options" in text
    doc = shell.find_cell_magic("eachgen").__doc__
    assert "``" not in doc and "How model inputs become options" in doc


def test_a_two_parameter_sweep_is_a_matrix_with_headers(shell, displays):
    shell.run_cell_magic(
        "eachgen", f"{FLUX} --seed 1,2,3 --image_size square,portrait_4_3 -o t_r", "a fox"
    )
    results = shell.user_ns["t_r"]
    assert len(results) == 6
    html = displays.final["text/html"]
    table = re.search(r"<table class='eachlabs-matrix'.*</table>", html, re.S).group(0)
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", table)
    assert headers == [
        "",
        "image_size=square",
        "image_size=portrait_4_3",
        "seed=1",
        "seed=2",
        "seed=3",
    ]
    # the model and prompt are said once, above the grid; each cell has its short id
    assert html.count("a fox") == 1 + 6  # the shared caption, and each thumbnail's alt text
    assert html.count(f"<b>{FLUX}</b>") == 1  # cells do not repeat the model
    for g in results:
        assert f">{g.id[:8]}</code>" in html
    assert "6 runs · total $" in html


def test_a_one_parameter_sweep_is_one_labelled_row(shell, displays):
    shell.run_cell_magic("eachgen", f"{FLUX} --seed 4,5 -o t_r", "a fox")
    html = displays.final["text/html"]
    assert "eachlabs-grid" in html and "eachlabs-matrix" not in html
    assert ">seed=4</div>" in html and ">seed=5</div>" in html


def test_captions_use_short_ids_and_short_file_names(shell, displays):
    shell.run_cell_magic("eachgen", f"{FLUX} --seed 6 -o t_g", "a fox " * 30)
    g: Generation = shell.user_ns["t_g"]
    html = displays.final["text/html"]
    shown = re.findall(r"<a href='[^']*' title='[^']*' target='_blank'>([^<]*)</a>", html)
    assert shown and all(len(name) <= 60 for name in shown)
    assert len(g.paths[0].name) > 60  # it was cut, and the link keeps the whole path
    assert f"href='{g.paths[0].as_posix()}'" in html


def test_a_reused_result_costs_nothing_and_says_so(shell, displays, emulator):
    shell.run_cell_magic("eachgen", f"{FLUX} --seed 7,8 -o t_a", "a fox")
    first = displays.final["text/html"]
    assert "2 runs · total $" in first and "reused" not in first
    shell.run_cell_magic("eachgen", f"{FLUX} --seed 7,8 -o t_b", "a fox")
    again = displays.final["text/html"]
    assert "total $0 (reused)" in again and again.count("$0 (reused)") == 3
