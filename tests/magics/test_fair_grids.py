"""Fair grids: a sweep or grid given no seed shares one seed across its cells; ``--seed random``
gives each its own; widening a grid with an explicit seed pays only for the new cells."""

from __future__ import annotations

import random

from eachlabs_widgets._display.cellsyntax import ModelOption
from eachlabs_widgets._notebook.runs import Job
from eachlabs_widgets._schema.inputs import SEED_MAX, shared_seed
from eachlabs_widgets.magics._fair import share_seed, wants_random_seeds

from .conftest import FLUX, NANO


def created(emulator) -> int:
    return emulator.stats.predictions_created


def _schema(**seed: int) -> dict:
    return {"properties": {"prompt": {"type": "string"}, "seed": {"type": "integer", **seed}}}


# -- the seed, without a notebook ----------------------------------------------------------------


def test_the_shared_seed_lies_within_every_models_bounds():
    rng = random.Random(4)
    narrow, wide = _schema(minimum=10, maximum=20), _schema(minimum=0, maximum=1000)
    seeds = {shared_seed([narrow, wide, {"properties": {}}], rng) for _ in range(50)}
    assert seeds <= set(range(10, 21)) and len(seeds) > 3
    assert 0 <= shared_seed([_schema()], rng) <= SEED_MAX  # type: ignore[operator]
    assert shared_seed([_schema(minimum=5, maximum=6), _schema(minimum=7)], rng) is None
    assert shared_seed([{"properties": {"prompt": {"type": "string"}}}], rng) is None


def test_share_seed_fills_the_jobs_that_take_one_and_notes_it():
    schemas = {"a": _schema(), "b": {"properties": {"prompt": {"type": "string"}}}}
    shared_notes: list[str] = []  # build_jobs hands one list to a model's jobs: left alone
    jobs = [Job("1", "a", {"prompt": "x"}, notes=shared_notes), Job("2", "b", {"prompt": "x"})]
    seed = share_seed(jobs, schemas, random.Random(1))
    assert seed is not None and jobs[0].inputs["seed"] == seed and "seed" not in jobs[1].inputs
    assert jobs[1].notes == [
        f"seed {seed} for every cell that takes a seed (--seed random: one each)"
    ]
    assert shared_notes == []
    one = [Job("1", "a", {"prompt": "x"})]
    assert share_seed(one, schemas) is None and "seed" not in one[0].inputs
    given = [Job("1", "a", {"prompt": "x", "seed": 1}), Job("2", "a", {"prompt": "x", "seed": 2})]
    assert share_seed(given, schemas) is None and [j.notes for j in given] == [[], []]


def test_seed_random_is_taken_off_the_options():
    options = [ModelOption("seed", "Random"), ModelOption("num_images", "2")]
    kept, wanted = wants_random_seeds(options)
    assert wanted and kept == [ModelOption("num_images", "2")]
    assert wants_random_seeds([ModelOption("seed", "3")]) == ([ModelOption("seed", "3")], False)


# -- in a shell, on the emulator -----------------------------------------------------------------


def test_a_sweep_given_no_seed_uses_one_seed_and_says_so(shell, displays, emulator):
    shell.run_cell_magic("eachgen", f"{FLUX} --image_size square,landscape_16_9 -o t_r", "a fox")
    first, second = shell.user_ns["t_r"]
    assert first.seed is not None and first.seed == second.seed
    assert first.inputs["seed"] == second.inputs["seed"] == first.seed
    assert f"seed {first.seed} for every cell" in displays.final["text/html"]
    assert f"seed {first.seed} for every cell" in displays.final["text/plain"]
    assert created(emulator) == 2


def test_models_and_prompts_share_the_seed_too(shell, displays, emulator):
    shell.run_cell_magic("eachgen", f"{FLUX},{NANO} -o t_r", "a cat\n---\na dog")
    results = list(shell.user_ns["t_r"])
    flux = [g for g in results if g.model == FLUX]
    nano = [g for g in results if g.model == NANO]
    assert len(flux) == len(nano) == 2
    assert len({g.inputs["seed"] for g in flux}) == 1  # both prompts, one seed
    assert all("seed" not in g.inputs for g in nano)  # nano-banana-pro takes no seed
    seed = flux[0].seed
    assert f"seed {seed} for every cell that takes a seed" in displays.final["text/html"]


def test_seed_random_gives_each_cell_its_own(shell, displays, emulator):
    shell.run_cell_magic(
        "eachgen",
        f"{FLUX} --image_size square,landscape_16_9,portrait_4_3 --seed random -o t_r",
        "a fox",
    )
    seeds = [g.seed for g in shell.user_ns["t_r"]]
    assert None not in seeds and len(set(seeds)) == 3
    assert "for every cell" not in displays.final["text/html"]
    shell.run_cell_magic("eachgen", f"{FLUX} --seed random -o t_one", "a fox")  # one run: as usual
    assert shell.user_ns["t_one"].seed is not None


def test_a_single_run_is_not_a_grid(shell, displays):
    shell.run_cell_magic("eachgen", f"{FLUX} -o t_one", "a fox")
    assert "for every cell" not in displays.final["text/html"]


def test_widening_a_grid_with_an_explicit_seed_pays_only_for_the_new_cells(shell, emulator):
    shell.run_cell_magic("eachgen", f"{FLUX} --seed 7 --image_size square,landscape_16_9", "a fox")
    assert created(emulator) == 2
    shell.run_cell_magic(
        "eachgen",
        f"{FLUX} --seed 7 --image_size square,landscape_16_9,portrait_4_3 -o t_r",
        "a fox",
    )
    assert created(emulator) == 3
    assert [g.reused for g in shell.user_ns["t_r"]] == [True, True, False]
    shell.run_cell_magic("eachgen", f"{FLUX} --seed 7,8 --image_size square -o t_s", "a fox")
    assert created(emulator) == 4 and [g.reused for g in shell.user_ns["t_s"]] == [True, False]
