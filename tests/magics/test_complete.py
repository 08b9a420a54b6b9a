"""Tab completion of ``%%eachgen`` lines through the shell's own completer."""

from __future__ import annotations

import pytest
from IPython.core.completer import provisionalcompleter

from eachlabs_widgets.magics._complete import candidates

from .conftest import FLUX, NANO


def complete(shell, text: str) -> list[str]:
    with provisionalcompleter():
        found = list(shell.Completer.completions(text, len(text)))
    return [text[: c.start] + c.text for c in found]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("%%eachgen flux-2-tu", [f"%%eachgen {FLUX}"]),
        (f"%%eachgen {FLUX} --image_si", [f"%%eachgen {FLUX} --image_size"]),
        (f"%%eachgen {FLUX} --no-enable_s", [f"%%eachgen {FLUX} --no-enable_safety_checker"]),
        (f"%%eachgen {FLUX} --backg", [f"%%eachgen {FLUX} --background"]),
        (
            f"%%eachgen {FLUX} --image_size landscape_",
            [
                f"%%eachgen {FLUX} --image_size landscape_4_3",
                f"%%eachgen {FLUX} --image_size landscape_16_9",
            ],
        ),
        (
            f"%%eachgen {FLUX} --image_size square,landscape_1",
            [f"%%eachgen {FLUX} --image_size square,landscape_16_9"],
        ),
        (f"%%eachgen {FLUX} --output_format=we", [f"%%eachgen {FLUX} --output_format=webp"]),
        (f"%%eachgen --model {FLUX},nano", [f"%%eachgen --model {FLUX},{NANO}"]),
        (
            f"%%eachgen --model {NANO} --aspect_ratio 21",
            [f"%%eachgen --model {NANO} --aspect_ratio 21:9"],
        ),
        ("%eachgen sche", ["%eachgen schema"]),
        ("%eachgen schema nano-b", [f"%eachgen schema {NANO}"]),
        (f"%%eachgen {FLUX} --embed fu", [f"%%eachgen {FLUX} --embed full"]),
    ],
)
def test_completions(shell, typed, expected):
    assert complete(shell, typed)[: len(expected)] == expected


def test_inputs_of_the_default_model_without_model(shell):
    shell.run_line_magic("config", f"EachGen.default_model = '{NANO}'")
    assert "%%eachgen --aspect_ratio" in complete(shell, "%%eachgen --aspect_r")


def test_other_lines_are_left_alone(shell):
    shell.user_ns["t_value"] = 1
    assert "t_value" in complete(shell, "t_val")
    assert candidates("print(1)", slugs=list, schema=lambda s: None) is None


def test_the_catalogue_is_fetched_once(shell, emulator):
    complete(shell, "%%eachgen flux")
    complete(shell, "%%eachgen nano")
    assert emulator.stats.requests.get("models") == 1
