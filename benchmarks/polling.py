"""How soon the client notices that a prediction ended, and how many polls it costs.

Runs the real client against the in-process emulator on a virtual clock shared by both (the
client's sleeps advance it), so hours of model time take a second and the figures are exact.
For each model, several predictions run one after another: the first knows nothing, the later
ones use the duration learned from the earlier ones, and a last one runs as in a new kernel
(nothing learned in process; the journal's records of the earlier runs instead). A fixed
1-second poll is measured in the same run for comparison.

    python benchmarks/polling.py [--runs 4]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from pathlib import Path

from eachlabs_widgets import AsyncEachLabs
from eachlabs_widgets._client import learner
from eachlabs_widgets._journal import Journal
from eachlabs_widgets._limiter import PredictionLimiter
from eachlabs_widgets._polling import PollSchedule
from eachlabs_widgets.emulator import Emulator

MODELS = [
    "flux-2-flash-text-to-image",
    "flux-2-turbo-text-to-image",
    "gpt-image-v1-5-text-to-image",
    "flux-2-max-text-to-image",
    "flux-lora-portrait-trainer",
]
Row = tuple[float, float, int]  # model duration, seconds late, polls


class VirtualTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


class FixedInterval(PollSchedule):
    def next_delay(self, elapsed: float, polls: int, expected: float | None = None) -> float:
        return 1.0


async def measure(
    model: str, runs: int, schedule: PollSchedule | None, journal: Journal | None = None
) -> list[Row]:
    """One row per run; with a journal, one more run as in a new kernel."""
    vt = VirtualTime()
    emulator = Emulator(speed=1.0, clock=vt.clock, seed=1)
    learner.forget()
    client = AsyncEachLabs(
        api_key="bench",
        base_url="http://emulator.eachlabs.invalid",
        transport=emulator.transport(),
        sleep=vt.sleep,
        clock=vt.clock,
        poll=schedule,
        journal=journal or False,
        limiter=PredictionLimiter(10),
    )
    trainer = "trainer" in model
    inputs = {"images_data_url": "https://example.com/a.zip"} if trainer else {"prompt": "a fox"}
    rows = []
    for run in range(runs + (1 if journal else 0)):
        if run == runs:
            learner.forget()  # a new kernel: only the journal remembers
        start = vt.now
        generation = await client.run(model, inputs)
        record = emulator._state.predictions[generation.id]
        noticed = start + (generation.elapsed or 0.0)
        rows.append(
            (record.duration, noticed - (record.created + record.duration), generation.polls)
        )
    await client.aclose()
    return rows


def cell(rows: list[Row]) -> str:
    return f"{statistics.mean(r[1] for r in rows):7.2f} {statistics.mean(r[2] for r in rows):7.1f}"


async def main(runs: int) -> None:
    heads = ("first run", "later (learned)", "new kernel", "fixed 1 s")
    print(f"{'model':30} {'dur s':>6} |" + "".join(f" {h:>15} |" for h in heads))
    print(f"{'':30} {'':>6} |" + f" {'late s':>7} {'polls':>7} |" * len(heads))
    for model in MODELS:
        with tempfile.TemporaryDirectory() as home:
            adaptive = await measure(model, runs, None, Journal(Path(home) / "journal.db"))
        fixed = await measure(model, runs, FixedInterval())
        duration = statistics.mean(r[0] for r in adaptive)
        columns = (adaptive[:1], adaptive[1:runs], adaptive[runs:], fixed)
        print(f"{model:30} {duration:6.1f} |" + "".join(f" {cell(c)} |" for c in columns))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=4)
    asyncio.run(main(parser.parse_args().runs))
