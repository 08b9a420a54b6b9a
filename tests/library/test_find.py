"""find(), star(), tag(), untag() on generations made through the embedded emulator."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

import eachlabs_widgets as el
from eachlabs_widgets._journal.journal import default_journal

FLUX = "flux-2-turbo-text-to-image"
KLEIN = "flux-2-klein-9b-base-text-to-image"


@pytest.fixture
def made() -> dict[str, el.Generation]:
    return {
        "fox": el.generate(FLUX, "a red fox in fresh snow", seed=1),
        "foxes": el.generate(KLEIN, "Two foxes at dusk", negative_prompt="blurry", seed=2),
        "cafe": el.generate(FLUX, "a quiet café by the sea", seed=3),
        "blur": el.generate(KLEIN, "a lighthouse", negative_prompt="foxes, blur", seed=4),
    }


def ids(results: el.Results) -> list[str]:
    return [g.id for g in results if g is not None]


def test_words_and_prefixes_match_prompts_then_negative_prompts(made) -> None:
    found = el.find("fox")
    assert isinstance(found, el.Results)
    # the prompt's words weigh more than the negative prompt's
    assert set(ids(found)[:2]) == {made["fox"].id, made["foxes"].id}
    assert ids(found)[2] == made["blur"].id
    assert ids(el.find("RED fo")) == [made["fox"].id]
    assert ids(el.find("cafe")) == [made["cafe"].id]  # accents aside
    assert ids(el.find("fox snow dusk")) == []  # every word must be there
    assert ids(el.find('"NEAR( * -')) == []  # never FTS5 syntax, never an error


def test_without_text_newest_first_with_filters(made) -> None:
    assert ids(el.find()) == [g.id for g in reversed(made.values())]
    assert ids(el.find(model=KLEIN)) == [made["blur"].id, made["foxes"].id]
    assert ids(el.find(limit=1)) == [made["blur"].id]
    assert ids(el.find(since=timedelta(hours=1))) == ids(el.find())
    assert ids(el.find(since="2999-01-01")) == []
    with pytest.raises(ValueError, match="since"):
        el.find(since="last tuesday")
    with pytest.raises(ValueError, match="limit"):
        el.find(limit=0)


def test_results_hold_generations_read_from_the_saved_files(made) -> None:
    (g,) = list(el.find("lighthouse"))
    assert g is not None and g.images and g.images[0].size == made["blur"].images[0].size
    assert g.inputs == made["blur"].inputs
    assert "lighthouse" in g._repr_mimebundle_()["text/plain"] or g.prompt == "a lighthouse"
    html = el.find("lighthouse")._repr_mimebundle_()["text/html"]
    assert "<img" in html


def test_stars_and_tags_last_in_the_journal(made) -> None:
    fox = made["fox"]
    assert el.star(fox) is True
    assert el.star(made["cafe"].id[:8]) is True  # a short id
    assert el.star(made["cafe"].id, on=False) is False
    assert ids(el.find(starred=True)) == [fox.id]
    assert set(ids(el.find(starred=False))) == {g.id for g in made.values()} - {fox.id}
    assert el.tag(fox, "hero", "Winter", "hero") == ["hero", "Winter"]
    assert el.tag(fox.id, "HERO", "best") == ["hero", "Winter", "best"]
    assert el.untag(fox.id, "winter") == ["hero", "best"]
    assert ids(el.find("fox", starred=True, tag="Hero")) == [fox.id]
    entry = default_journal().get(fox.id)
    assert entry is not None and entry.starred and entry.tags == ["hero", "best"]
    # kept in the file: a new connection (another session) reads them
    with sqlite3.connect(default_journal().path) as conn:
        row = conn.execute("SELECT starred, tags FROM predictions WHERE id = ?", (fox.id,))
        assert row.fetchone() == (1, '["hero", "best"]')


def test_bad_targets_and_tags_say_what_is_wrong(made) -> None:
    with pytest.raises(el.PredictionNotFound, match="not in the journal"):
        el.star("nope-no-such-id")
    with pytest.raises(el.PredictionNotFound, match="not in the journal"):
        el.star("ab")  # too short to be a short id
    with pytest.raises(TypeError, match="Generation"):
        el.star(42)
    with pytest.raises(ValueError, match="empty"):
        el.tag(made["fox"], "  ")
    with pytest.raises(ValueError, match="at least one tag"):
        el.tag(made["fox"])


def test_an_old_journal_gets_the_marks_and_index_silently(tmp_path: Path) -> None:
    home = Path(default_journal().path)
    home.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(home) as conn:  # a journal of the previous version, with a row
        from eachlabs_widgets._journal.journal import _INDEXES, _TABLE

        conn.execute(_TABLE)
        for statement in _INDEXES:
            conn.execute(statement)
        conn.execute("PRAGMA user_version = 2")
        conn.execute(
            "INSERT INTO predictions (id, base_url, model, inputs, input_key, status,"
            " created_at, updated_at) VALUES ('old-1', 'https://api.eachlabs.ai', 'm',"
            " '{\"prompt\": \"an old red barn\"}', 'k', 'success', 1, 1)"
        )
    found = el.find("barn")
    assert [e.id for e in found.entries] == ["old-1"]  # type: ignore[attr-defined]
    assert el.star("old-1") and default_journal().get("old-1").starred  # type: ignore[union-attr]
    # kept in step from now on, by whoever writes: a row written by plain SQL is found too
    with sqlite3.connect(home) as conn:
        conn.execute(
            "INSERT INTO predictions (id, base_url, model, inputs, input_key, status,"
            " created_at, updated_at) VALUES ('old-2', 'x', 'm', '{\"prompt\": \"barns\"}',"
            " 'k', 'success', 2, 2)"
        )
        conn.execute("UPDATE predictions SET inputs = '{\"prompt\": \"a silo\"}' WHERE id='old-1'")
    assert [e.id for e in el.find("barn").entries] == ["old-2"]  # type: ignore[attr-defined]
    assert [e.id for e in el.find("silo").entries] == ["old-1"]  # type: ignore[attr-defined]


def test_an_index_whose_triggers_were_lost_is_built_again(made) -> None:
    assert ids(el.find("lighthouse")) == [made["blur"].id]
    path = default_journal().path
    with sqlite3.connect(path) as conn:  # as a table rebuild by a migration would leave it
        for name in ("insert", "update", "delete"):
            conn.execute(f"DROP TRIGGER predictions_fts_{name}")
        conn.execute(
            'UPDATE predictions SET inputs = \'{"prompt": "a windmill"}\' WHERE id = ?',
            (made["blur"].id,),
        )
    default_journal()._store_state().pop("fts", None)  # a new process
    assert ids(el.find("windmill")) == [made["blur"].id]
    assert ids(el.find("lighthouse")) == []


def test_found_results_say_what_they_cost_not_reused(made) -> None:
    found = el.find("fox")
    fox = next(g for g in found if g is not None and g.id == made["fox"].id)
    assert fox.cost == made["fox"].cost and fox.cost
    assert not fox.reused and "nothing spent" not in repr(fox)
    html = found._repr_mimebundle_()["text/html"]
    assert "(reused)" not in html
