"""The panel's lineage on the in-process emulator: Vary and Remix on the stage and in the
lightbox, "from <short id>" on a result and above Generate, and the parent that Load into
form, Use as input and a recalled image give the next run."""

from __future__ import annotations

from eachlabs_widgets import lineage
from eachlabs_widgets._journal.journal import default_journal
from eachlabs_widgets.panel import Panel
from eachlabs_widgets.panel._lineage import VARY_COUNT, variations

TURBO = "flux-2-turbo-text-to-image"
WAN = "wan-v2-6-text-to-image"  # takes an image (image_url)


async def finished_panel(**inputs) -> Panel:
    panel = Panel(model=TURBO, value={"prompt": "a red fox", **inputs})
    await panel.ready()
    panel.generate_button.click()
    await panel.wait()
    return panel


def parent_in_journal(generation) -> str | None:
    entry = default_journal().get(generation.id)
    assert entry is not None
    return entry.parent


async def test_vary_on_the_stage_runs_four_new_seeds_each_from_the_result(emulated):
    panel = await finished_panel(seed=5)
    [first] = panel.generations
    assert panel.viewer.parent_button.layout.display == "none"  # made from nothing
    created = emulated.stats.predictions_created
    panel.viewer.vary_button.click()
    assert panel.running == VARY_COUNT
    await panel.wait()
    assert emulated.stats.predictions_created == created + VARY_COUNT
    kids = panel.generations[1:]
    assert len({k.seed for k in kids}) == VARY_COUNT and first.seed not in {k.seed for k in kids}
    assert {k.parent for k in kids} == {first.id}
    assert {parent_in_journal(k) for k in kids} == {first.id}
    # the newest result is shown, saying where it came from, on one short line
    shown = panel.viewer.generation
    assert shown in kids
    assert panel.viewer.parent_button.layout.display is None
    assert panel.viewer.parent_button.description == f"from {first.id[:8]}"
    assert first.id in panel.viewer.parent_button.tooltip
    # a click on it shows the run it was made from
    panel.viewer.parent_button.click()
    assert panel.viewer.generation is first


async def test_vary_above_the_limit_asks_first(emulated):
    panel = await finished_panel(seed=5)
    created = emulated.stats.predictions_created
    panel.confirm_above = 0.0001
    assert panel.vary() == []
    assert "Vary (4 runs)" in panel.confirm_text.value
    assert emulated.stats.predictions_created == created
    panel.confirm_yes.click()
    assert panel.running == VARY_COUNT
    await panel.wait()
    assert len(panel.generations) == 1 + VARY_COUNT


async def test_remix_loads_the_inputs_marked_from_the_result_and_generate_records_it(emulated):
    panel = await finished_panel(seed=8, image_size="square")
    [first] = panel.generations
    panel.viewer.remix_button.click()
    await panel.ready()
    assert panel.parent == first.id
    assert panel.from_chip.layout.display is None
    assert f"remix of <code>{first.id[:8]}</code>" in panel.from_chip.text.value
    assert "Remix of" in panel.message.value
    assert panel.form.value["seed"] == 8
    panel.form.update({"prompt": "a red fox at night"})
    panel.generate_button.click()
    await panel.wait()
    remixed = panel.generations[-1]
    assert remixed.parent == first.id and parent_in_journal(remixed) == first.id
    assert remixed.inputs["prompt"] == "a red fox at night" and remixed.seed == 8
    assert [e.id for e in lineage(remixed.id)] == [remixed.id, first.id]
    # the × forgets it: the next run is made from nothing
    panel.from_chip.forget.click()
    assert panel.parent is None and panel.from_chip.layout.display == "none"
    panel.generate_button.click()
    await panel.wait()
    assert panel.generations[-1].parent is None
    assert parent_in_journal(panel.generations[-1]) is None


async def test_load_into_form_then_generate_records_the_parent(emulated):
    panel = await finished_panel(seed=2)
    [first] = panel.generations
    panel.viewer.load_button.click()
    await panel.ready()
    assert panel.parent == first.id
    assert f"loaded from <code>{first.id[:8]}</code>" in panel.from_chip.text.value
    panel.generate_button.click()
    await panel.wait()
    assert panel.generations[-1].parent == first.id


async def test_use_as_input_marks_the_next_run_of_the_other_model(emulated):
    panel = await finished_panel(seed=3)
    [first] = panel.generations
    panel.viewer.use_button.click()  # Turbo takes no image: the image waits for a model
    assert panel.parent == first.id
    panel.select(WAN)
    await panel.ready()
    panel.form.update({"prompt": "the same fox, in watercolour"})
    panel.generate_button.click()
    await panel.wait()
    edited = panel.generations[-1]
    assert edited.model == WAN
    assert edited.parent == first.id and parent_in_journal(edited) == first.id


async def test_a_recalled_image_of_ours_marks_the_run_it_came_from(emulated):
    panel = await finished_panel(seed=4)
    [first] = panel.generations
    other = Panel(model=TURBO)
    await other.ready()
    task = other.recall_image(first.paths[0].read_bytes(), "fox.png")
    assert task is not None
    await task
    await other.ready()
    assert other.parent == first.id
    other.generate_button.click()
    await other.wait()
    assert other.generations[-1].parent == first.id


async def test_the_lightbox_says_where_a_run_came_from_and_varies_and_remixes_it(emulated):
    panel = await finished_panel(seed=6)
    [first] = panel.generations
    panel.vary(first, n=2)
    await panel.wait()
    kid = panel.generations[-1]
    item = next(i for i in panel.strip.items if i["key"] == f"{kid.id}:0")
    assert item["parent"] == first.id
    assert ["made from", first.id] in item["params"]
    root = next(i for i in panel.strip.items if i["key"] == f"{first.id}:0")
    assert root["parent"] == ""
    # Vary and Remix from the lightbox act on its image
    panel.strip.handle({"type": "vary", "key": f"{kid.id}:0"})
    assert panel.running == VARY_COUNT
    await panel.wait()
    assert {g.parent for g in panel.generations[-VARY_COUNT:]} == {kid.id}
    panel.strip.handle({"type": "remix", "key": f"{first.id}:0"})
    await panel.ready()
    assert panel.parent == first.id


async def test_history_from_the_journal_keeps_the_parent(emulated):
    panel = await finished_panel(seed=9)
    [first] = panel.generations
    panel.vary(first, n=1)
    await panel.wait()
    kid = panel.generations[-1]
    later = Panel(model=TURBO)  # another session: the strip is read from the journal
    await later.ready()
    shot = later.strip.shots[f"{kid.id}:0"]
    assert shot.parent == first.id
    later.strip.handle({"type": "select", "key": shot.key})
    assert later.viewer.parent_button.description == f"from {first.id[:8]}"


def test_variations_change_only_the_seed():
    inputs = {"prompt": "a fox", "seed": 10, "image_size": "square"}
    out = variations(inputs, 3)
    assert len(out) == 3 and len({v["seed"] for v in out}) == 3
    assert all(v["seed"] != 10 for v in out)
    assert all({k: v for k, v in o.items() if k != "seed"} == {"prompt": "a fox",
               "image_size": "square"} for o in out)  # fmt: skip
    assert variations({"prompt": "no seed"}, 2) == [{"prompt": "no seed"}] * 2


async def test_the_parent_comes_from_the_journal_but_not_in_a_session_only_panel(emulated):
    panel = await finished_panel(seed=12)
    [first] = panel.generations
    panel.vary(first, n=1)
    await panel.wait()
    kid = panel.generations[-1]
    # a panel whose strip does not hold the parent reads it from the journal…
    later = Panel(model=TURBO)
    await later.ready()
    later.strip.shots = {k: s for k, s in later.strip.shots.items() if s.run_id != first.id}
    later.view(kid)
    later.show_parent()
    assert later.viewer.generation is not None and later.viewer.generation.id == first.id
    # …but a shared app's panel (history="session") shows no run of another session
    shared = Panel(model=TURBO, history="session")
    await shared.ready()
    shared.view(kid)
    shared.show_parent()
    assert shared.viewer.generation is kid
    assert "not in this session" in shared.message.value
