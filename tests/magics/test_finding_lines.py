"""``%eachgen find`` and ``%eachgen recall`` in a real shell, on the embedded emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from PIL import Image
from PIL.PngImagePlugin import PngInfo

import eachlabs_widgets as el

from .conftest import FLUX

KLEIN = "flux-2-klein-9b-base-text-to-image"


def test_find_with_words_and_filters(shell: Any) -> None:
    shell.run_cell_magic("eachgen", f"{FLUX} --seed 1 -o t_a", "a red fox in snow")
    shell.run_cell_magic("eachgen", f"{KLEIN} --seed 2 -o t_b", "a red fox at dusk")
    shell.run_cell_magic("eachgen", f"{FLUX} --seed 3 -o t_c", "a grey wolf")
    a, b = shell.user_ns["t_a"], shell.user_ns["t_b"]
    el.star(a)
    el.tag(a, "hero")
    found = shell.run_line_magic("eachgen", f'find "red fox" --model {FLUX} --starred --tag hero')
    assert [g.id for g in found] == [a.id]
    found = shell.run_line_magic("eachgen", "find red fox -o t_found")
    assert {g.id for g in found} == {a.id, b.id} and shell.user_ns["t_found"] is found
    assert [g.id for g in shell.run_line_magic("eachgen", "find --unstarred --limit 1")] == [
        shell.user_ns["t_c"].id
    ]
    assert "<img" in found._repr_mimebundle_()["text/html"]


@pytest.mark.parametrize(
    "line,said",
    [
        ("find --colour red", "unknown option --colour"),
        ("find --limit zero", "--limit"),
        ("find --since someday", "since"),
        ("find --starred --unstarred", "exclude"),
        ("recall", "usage: %eachgen recall"),
    ],
)
def test_bad_lines_are_usage_errors(shell: Any, line: str, said: str) -> None:
    with pytest.raises(UsageError, match=said):
        shell.run_line_magic("eachgen", line)


def test_recall_puts_a_ready_cell_in_the_next_input(
    shell: Any, tmp_path: Path, monkeypatch
) -> None:
    info = PngInfo()
    info.add_text(
        "parameters",
        "a koi pond\nNegative prompt: murky\nSteps: 12, Sampler: Euler, CFG scale: 5, "
        "Seed: 77, Size: 1024x1024",
    )
    path = tmp_path / "a1111 image.png"
    Image.new("RGB", (16, 16)).save(path, pnginfo=info)
    given: list[tuple[str, bool]] = []
    monkeypatch.setattr(
        shell, "set_next_input", lambda text, replace=False: given.append((text, replace))
    )
    view = shell.run_line_magic("eachgen", f'recall "{path}" --model {KLEIN}')
    ((cell, replace),) = given
    assert replace is False
    assert cell.startswith(f"%%eachgen {KLEIN} ") and cell.endswith("\na koi pond")
    for part in ("--negative_prompt murky", "--seed 77", "--num_inference_steps 12"):
        assert part in cell
    assert "Sampler" in view.text
    # the cell runs as it is
    first, _, body = cell.partition("\n")
    shell.run_cell_magic("eachgen", first.removeprefix("%%eachgen ") + " -o t_r", body)
    made = shell.user_ns["t_r"]
    assert made.inputs["seed"] == 77 and made.inputs["image_size"] == "square_hd"
    # and a prediction's short id is recalled exactly
    given.clear()
    shell.run_line_magic("eachgen", f"recall {made.id[:8]}")
    assert given[0][0] == el.recall(made.id).cell()
    assert el.recall(made.id).inputs == made.inputs


def test_recall_of_what_cannot_be_read_is_a_usage_error(shell: Any, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        shell.run_line_magic("eachgen", f"recall {tmp_path / 'missing.png'}")
