"""One run of the batch workload, in a process of its own (the benchmark starts it).

    python -m benchmarks._workload ours URL KEY
    python -m benchmarks._workload fixed URL KEY INTERVAL

``ours`` runs the 40 predictions through ``eachlabs_widgets.agenerate`` as a user would (the
journal and saving on, ``EACHLABS_HOME`` and ``EACHLABS_OUTPUT_DIR`` from the environment).
``fixed`` is a reference poller built like the clients users compare us with: a semaphore of
10 held from create through download, ``sleep(INTERVAL)`` then GET until the end, the outputs
downloaded (fal-client polls every 0.1 s, replicate-python every 0.5 s).

Prints one JSON line: ``{"wall": seconds from the first call to the last result, "started",
"ended": the same two instants on ``time.monotonic()`` (the emulator's clock: on Linux one clock
for every process), "errors": […]}``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

#: The batch workload: 8 models, each with the range its durations are drawn from (seconds).
RANGES: dict[str, tuple[float, float]] = {
    "flux-2-flash-text-to-image": (0.6, 1.0),
    "flux-2-turbo-text-to-image": (1.0, 1.6),
    "flux-2-max-text-to-image": (3.0, 4.5),
    "imagen-4-fast": (0.8, 1.4),
    "gpt-image-v1-5-text-to-image": (4.0, 6.0),
    "ideogram-v3-turbo": (1.5, 2.5),
    "reve-text-to-image": (2.0, 3.0),
    "minimax-text-to-image": (1.2, 2.0),
}
ROUNDS = 5
CAP = 10


def jobs() -> list[tuple[str, str]]:
    """40 (model, prompt) pairs in the order they are submitted: round by round."""
    return [(m, f"a red fox, study {r} for {m}") for r in range(ROUNDS) for m in RANGES]


async def ours() -> dict[str, object]:
    # As a script does (`from eachlabs_widgets import agenerate`): the package is imported
    # before the clock starts, as the reference pollers import httpx and build their client
    # before theirs. What importing costs is the cold-start row's measure; what the first
    # call still costs (its HTTP client, the model lookups) is in the wall and in "start".
    from eachlabs_widgets import agenerate

    start = time.monotonic()
    results = await asyncio.gather(
        *(agenerate(model, prompt) for model, prompt in jobs()), return_exceptions=True
    )
    end = time.monotonic()
    return {
        "wall": end - start,
        "started": start,
        "ended": end,
        "errors": [repr(r) for r in results if isinstance(r, BaseException)],
    }


async def fixed(url: str, key: str, interval: float) -> dict[str, object]:
    import httpx

    from eachlabs_widgets._service.status import output_urls

    slots = asyncio.Semaphore(CAP)
    terminal = {"success", "error", "failed", "cancelled", "canceled"}

    async def one(client: httpx.AsyncClient, model: str, prompt: str) -> None:
        async with slots:
            body = {"model": model, "version": "0.0.1", "input": {"prompt": prompt}}
            while True:
                answer = await client.post("/v1/prediction", json=body)
                if answer.status_code != 429:
                    break
                await asyncio.sleep(interval)
            answer.raise_for_status()
            pid = answer.json()["predictionID"]
            while True:
                await asyncio.sleep(interval)
                state = (await client.get(f"/v1/prediction/{pid}")).json()
                if state["status"] in terminal:
                    break
            if state["status"] != "success":
                raise RuntimeError(f"{pid}: {state['status']}")
            for link in output_urls(state["output"]):
                (await client.get(link)).raise_for_status()

    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(
        base_url=url, headers={"X-API-Key": key}, timeout=60, limits=limits
    ) as client:
        start = time.monotonic()
        results = await asyncio.gather(
            *(one(client, m, p) for m, p in jobs()), return_exceptions=True
        )
        end = time.monotonic()
    return {
        "wall": end - start,
        "started": start,
        "ended": end,
        "errors": [repr(r) for r in results if isinstance(r, BaseException)],
    }


def main(argv: list[str]) -> None:
    kind, url, key = argv[:3]
    if kind == "ours":
        os.environ["EACHLABS_BASE_URL"] = url
        os.environ["EACHLABS_API_KEY"] = key
        outcome = asyncio.run(ours())
    else:
        outcome = asyncio.run(fixed(url, key, float(argv[3])))
    print(json.dumps(outcome), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
