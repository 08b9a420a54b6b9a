"""Fair grids: the cells of a sweep or a grid share one seed unless the cell says otherwise.

An X/Y plot compares what it sweeps: when every cell drew its own random seed, the cells would
differ by noise as well. So a cell of several runs given no ``--seed`` gets one seed, picked
here, for every run whose model takes one (and says so above the grid); ``--seed random`` asks
for a seed of its own per run, as a single run gets.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from .._display.cellsyntax import ModelOption
from .._notebook.runs import Job
from .._schema.inputs import seed_property, shared_seed

__all__ = ["RANDOM", "seed_note", "share_seed", "wants_random_seeds"]

#: The ``--seed`` value that gives each run its own seed.
RANDOM = "random"


def wants_random_seeds(options: Sequence[ModelOption]) -> tuple[list[ModelOption], bool]:
    """``options`` without a ``--seed random``, and whether it was there."""
    kept = [
        o
        for o in options
        if not (
            o.name == "seed"
            and not o.negated
            and isinstance(o.value, str)
            and o.value.strip().lower() == RANDOM
        )
    ]
    return kept, len(kept) != len(options)


def seed_note(seed: int, every: bool) -> str:
    """What the grid's header says of its shared seed."""
    if every:
        return f"seed {seed} for every cell (--seed random: one each)"
    return f"seed {seed} for every cell that takes a seed (--seed random: one each)"


def share_seed(
    jobs: Sequence[Job],
    schemas: Mapping[str, Mapping[str, Any]],
    rng: random.Random | None = None,
) -> int | None:
    """Give every job of a grid whose model takes a seed one shared seed (in place), when the
    grid has more than one job and none of them was given a seed. Returns the seed, or None
    when nothing was changed. ``schemas`` maps each job's model to its ``request_schema``."""
    if len(jobs) < 2 or any(job.inputs.get("seed") is not None for job in jobs):
        return None
    takers = [job for job in jobs if seed_property(schemas.get(job.model)) is not None]
    if not takers:
        return None
    seed = shared_seed([schemas.get(job.model) for job in takers], rng)
    if seed is None:
        return None
    note = seed_note(seed, len(takers) == len(jobs))
    for job in takers:
        job.inputs["seed"] = seed
    for job in jobs:
        job.notes = [*job.notes, note]
    return seed
