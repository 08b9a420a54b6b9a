"""How soon the client notices that a prediction ended, and how many polls it costs.

Runs the real client against the in-process emulator on a virtual clock shared by both (the
client's sleeps advance it), so hours of model time take a second and the figures are exact.
For each model, several predictions run one after another: the first knows nothing, the later
ones use the duration learned from the earlier ones. A fixed 1-second poll is measured in the
same run for comparison.

    python benchmarks/polling.py [--runs 4]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics

from eachlabs_widgets import AsyncEachLabs
from eachlabs_widgets._client import learner
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
    model: str, runs: int, schedule: PollSchedule | None
) -> list[tuple[float, float, int]]:
    """(duration, notice latency, polls) per run."""
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
        journal=False,
        limiter=PredictionLimiter(10),
    )
    inputs = (
        {"images_data_url": "https://example.com/a.zip"}
        if "trainer" in model
        else {"prompt": "a fox"}
    )
    payload = await client.prepare_input(model, inputs)
    rows = []
    for _ in range(runs):
        pid = await client.create_prediction(model, payload)
        start = vt.now
        record = emulator._state.predictions[pid]
        prediction = await client.wait(pid, model=model, started=start)
        end = record.created + record.duration
        rows.append((record.duration, vt.now - end, prediction.polls))
    await client.aclose()
    return rows


async def main(runs: int) -> None:
    print(
        f"{'model':34} {'dur s':>7} | {'adaptive: first run':>22} | {'later runs (learned)':>22} | {'fixed 1 s':>17}"
    )
    print(
        f"{'':34} {'':>7} | {'late s':>10} {'polls':>11} | {'late s':>10} {'polls':>11} | {'late s':>7} {'polls':>9}"
    )
    for model in MODELS:
        adaptive = await measure(model, runs, None)
        fixed = await measure(model, runs, FixedInterval())
        first, later = adaptive[0], adaptive[1:]
        duration = statistics.mean(r[0] for r in adaptive)
        late_later = statistics.mean(r[1] for r in later)
        polls_later = statistics.mean(r[2] for r in later)
        late_fixed = statistics.mean(r[1] for r in fixed)
        polls_fixed = statistics.mean(r[2] for r in fixed)
        print(
            f"{model:34} {duration:7.1f} | {first[1]:10.2f} {first[2]:11d} | "
            f"{late_later:10.2f} {polls_later:11.1f} | {late_fixed:7.2f} {polls_fixed:9.1f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=4)
    asyncio.run(main(parser.parse_args().runs))
