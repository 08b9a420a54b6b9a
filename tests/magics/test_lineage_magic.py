"""``--parent`` in ``%%eachgen`` and the ``--parent`` that ``%eachgen recall`` writes: the
runs are recorded as made from that prediction (``lineage()``)."""

from __future__ import annotations

from typing import Any

import pytest
from IPython.core.error import UsageError

import eachlabs_widgets as el
from eachlabs_widgets._journal.journal import default_journal

from .conftest import FLUX


def test_parent_records_every_run_of_the_cell(shell: Any) -> None:
    shell.run_cell_magic("eachgen", f"{FLUX} --seed 1 -o t_root", "a red fox")
    root = shell.user_ns["t_root"]
    shell.run_cell_magic("eachgen", f"{FLUX} --seed 2,3 --parent {root.id[:8]} -o t_kids", "a fox")
    kids = list(shell.user_ns["t_kids"])
    assert len(kids) == 2
    for kid in kids:
        assert kid.parent == root.id  # the short id is resolved to the whole one
        assert default_journal().get(kid.id).parent == root.id
        assert [e.id for e in el.lineage(kid)] == [kid.id, root.id]


def test_an_unknown_parent_is_refused_before_anything_is_sent(shell: Any, emulator: Any) -> None:
    before = emulator.stats.predictions_created
    with pytest.raises(UsageError, match=r"--parent nope-nope: .*not in the journal"):
        shell.run_cell_magic("eachgen", f"{FLUX} --parent nope-nope", "a fox")
    assert emulator.stats.predictions_created == before


def test_recall_writes_the_parent_into_the_cell_it_puts_next(shell: Any, monkeypatch) -> None:
    shell.run_cell_magic("eachgen", f"{FLUX} --seed 5 -o t_src", "a koi pond")
    source = shell.user_ns["t_src"]
    given: list[str] = []
    monkeypatch.setattr(shell, "set_next_input", lambda text, replace=False: given.append(text))
    view = shell.run_line_magic("eachgen", f'recall "{source.paths[0]}"')
    [cell] = given
    first, _, body = cell.partition("\n")
    assert first.endswith(f"--parent {source.id}") and body == "a koi pond"
    assert "made from it" in view.text
    shell.run_cell_magic("eachgen", first.removeprefix("%%eachgen ") + " --force -o t_again", body)
    again = shell.user_ns["t_again"]
    assert again.parent == source.id and again.id != source.id
