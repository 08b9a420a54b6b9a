"""A ``%%eachgen`` line as people paste it: curly quotes, no-break spaces, dashes that a word
processor or chat app put in; the prompt body is never altered."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from eachlabs_widgets import Generation
from eachlabs_widgets._display.cellsyntax import tokenize

from .conftest import FLUX


@pytest.mark.parametrize(
    ("line", "tokens"),
    [
        ("m –seed 3 —image_size square", ["m", "--seed", "3", "--image_size", "square"]),
        ("m ‐‐seed 3 –o fox –h", ["m", "--seed", "3", "-o", "fox", "-h"]),
        ("m --negative_prompt “blurry, dark”", ["m", "--negative_prompt", "blurry, dark"]),
        ("m --negative_prompt ‘blurry, dark’", ["m", "--negative_prompt", "blurry, dark"]),
        (
            "m --negative_prompt „unscharf“ --seed 2",
            ["m", "--negative_prompt", "unscharf", "--seed", "2"],
        ),
        ('m --text “say "hi"”', ["m", "--text", 'say "hi"']),
        ("m --negative_prompt don’t --seed 1", ["m", "--negative_prompt", "don’t", "--seed", "1"]),
        ("m\u00a0--seed\u202f3\u200b", ["m", "--seed", "3"]),
        ("m --negative_prompt=“blurry dark”", ["m", "--negative_prompt=blurry dark"]),
        ("m --guidance −2.5 --x -1", ["m", "--guidance", "-2.5", "--x", "-1"]),
        # inside straight quotes, text is kept as typed
        ('m --negative_prompt "— “x” —"', ["m", "--negative_prompt", "— “x” —"]),
    ],
)
def test_pasted_typography_reads_as_the_plain_syntax(line, tokens):
    assert tokenize(line) == tokens


def test_quotes_that_do_not_pair_are_named():
    with pytest.raises(UsageError, match="curly quotes: use straight quotes"):
        tokenize("m --negative_prompt “blurry")
    with pytest.raises(UsageError, match="check the quotes"):
        tokenize('m --negative_prompt "blurry')


def test_a_pasted_line_runs_and_the_body_is_sent_as_written(shell, emulator):
    body = "a “quoted” fox — in snow,\u00a0at dawn"
    shell.run_cell_magic("eachgen", f"{FLUX} —seed 7 –image_size “square” –o t_typed", body)
    generation = shell.user_ns["t_typed"]
    assert isinstance(generation, Generation)
    assert generation.inputs["seed"] == 7 and generation.inputs["image_size"] == "square"
    assert generation.inputs["prompt"] == body


def test_a_line_form_with_a_pasted_space_finds_its_command(shell, emulator):
    listing = shell.run_line_magic("eachgen", "models\u00a0flux-2-turbo")
    assert "flux-2-turbo-text-to-image" in repr(listing)
