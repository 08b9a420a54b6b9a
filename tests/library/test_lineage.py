"""Variations with lineage through the public API, on the in-process emulator: ``vary`` and
``remix`` record their parent, ``lineage()`` reads the chain, a Generation rebuilt from the
journal varies too, and a recalled run records where it came from."""

from __future__ import annotations

import pytest

import eachlabs_widgets as el
from eachlabs_widgets._embedded import shared_emulator
from eachlabs_widgets._generation import Generation
from eachlabs_widgets._journal.journal import default_journal
from eachlabs_widgets._service.client import AsyncEachLabs
from eachlabs_widgets._service.rerun import ClientRunner
from eachlabs_widgets._service.sync import run_sync

FLUX = "flux-2-turbo-text-to-image"


def _created() -> int:
    return shared_emulator().stats.predictions_created


def test_vary_makes_new_seeds_of_the_same_inputs_each_made_from_the_run():
    g = el.generate(FLUX, "a red fox in snow", image_size="square", seed=7)
    assert g.parent is None
    results = g.vary(n=3)
    assert isinstance(results, el.Results) and len(results) == 3
    kids = list(results)
    assert all(isinstance(k, Generation) for k in kids)
    seeds = [k.seed for k in kids]
    assert len(set(seeds)) == 3 and 7 not in seeds
    for kid in kids:
        assert kid.parent == g.id and kid.model == g.model
        assert {k: v for k, v in kid.inputs.items() if k != "seed"} == {
            k: v for k, v in g.inputs.items() if k != "seed"
        }
        entry = default_journal().get(kid.id)
        assert entry is not None and entry.parent == g.id
    assert [a["seed"] for a in results.axes] == seeds  # a labelled row by seed
    # the parent is in what is saved beside each file, and in the repr
    assert kids[0].parameters()["parent"] == g.id
    assert f"from {g.id}" in repr(kids[0])


def test_vary_refuses_a_count_that_is_not_a_whole_number_before_anything_is_sent():
    g = el.generate(FLUX, "a fox", seed=1)
    before = _created()
    for bad in (0, -2, 2.5, True, "4"):
        with pytest.raises(ValueError, match="whole number"):
            g.vary(n=bad)  # type: ignore[arg-type]
    assert _created() == before


def test_remix_changes_some_inputs_keeps_the_seed_and_records_the_parent():
    g = el.generate(FLUX, "a red fox in snow", image_size="square", seed=11)
    r = g.remix(prompt="a red fox at night", image_size="landscape_16_9")
    assert isinstance(r, Generation) and r.id != g.id
    assert r.parent == g.id
    assert r.inputs["prompt"] == "a red fox at night"
    assert r.inputs["image_size"] == "landscape_16_9" and r.seed == 11
    # a remix of the remix: lineage reads child → root
    rr = r.remix(seed=None)  # None leaves the input out: a new seed is picked
    assert rr.seed != 11 and rr.parent == r.id
    assert [e.id for e in el.lineage(rr)] == [rr.id, r.id, g.id]
    assert [e.id for e in el.lineage(rr.id[:10])] == [rr.id, r.id, g.id]  # a short id
    assert el.lineage(g.id)[0].parent is None


def test_a_wrong_remix_names_the_field_and_the_allowed_values_before_anything_is_sent():
    g = el.generate(FLUX, "a fox", seed=3)
    before = _created()
    with pytest.raises(el.InputValidationError) as bad_value:
        g.remix(image_size="huge")
    text = str(bad_value.value)
    assert "image_size" in text and "'huge'" in text and "landscape_16_9" in text
    with pytest.raises(el.InputValidationError) as bad_name:
        g.remix(imag_size="square")
    assert "imag_size" in str(bad_name.value) and "image_size" in str(bad_name.value)
    with pytest.raises(ValueError, match="changes nothing"):
        g.remix()
    with pytest.raises(ValueError, match="changes nothing"):
        g.remix(prompt="a fox")
    assert _created() == before


def test_lineage_of_an_unknown_id_is_a_clear_error():
    with pytest.raises(el.PredictionNotFound, match="not in the journal"):
        el.lineage("no-such-prediction")


def test_a_generation_from_the_journal_varies_through_the_default_runner():
    g = el.generate(FLUX, "a lighthouse at dusk", seed=5)
    found = el.find("lighthouse")[0]
    assert isinstance(found, Generation) and found.id == g.id
    assert found._runner is None  # rebuilt from the files: no client made it
    kids = list(found.vary(n=2))
    assert [k.parent for k in kids] == [g.id, g.id]
    assert [e.id for e in el.lineage(kids[0])] == [kids[0].id, g.id]


def test_a_clients_generation_varies_on_that_client():
    async def go() -> tuple[Generation, list[Generation | None], Generation]:
        async with AsyncEachLabs() as client:
            g = await client.run(FLUX, {"prompt": "a cat", "seed": 9})
            assert isinstance(g._runner, ClientRunner) and g._runner.client is client
            results = await g.avary(2)
            remixed = await g.aremix("a cat in a hat")
            return g, list(results), remixed

    g, kids, remixed = run_sync(go())
    assert all(k is not None and k.parent == g.id for k in kids)
    assert remixed.parent == g.id and remixed.seed == 9


def test_a_recalled_run_records_where_it_came_from(tmp_path):
    g = el.generate(FLUX, "a red fox", seed=21)
    by_id = el.recall(g.id)
    assert by_id.parent == g.id
    from_file = el.recall(g.paths[0])  # our picture says which prediction made it
    assert from_file.parent == g.id
    again = from_file.generate(image_size="square")
    assert again.parent == g.id
    assert default_journal().get(again.id).parent == g.id
    plain = el.generate(FLUX, "another", seed=22, parent=g.id)
    assert [e.id for e in el.lineage(plain)] == [plain.id, g.id]
