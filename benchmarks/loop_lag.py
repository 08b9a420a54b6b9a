"""How responsive the event loop stays while many predictions run, shared client vs one each.

Against the emulator served on loopback (real sockets, real HTTP), N predictions run at once
while a ticker measures how late the loop wakes it (the lag a notebook user would feel). The
same run measures the alternative of a new ``httpx.AsyncClient`` per prediction.

    python benchmarks/loop_lag.py [--predictions 50]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import httpx

from eachlabs_widgets import AsyncEachLabs
from eachlabs_widgets._limiter import PredictionLimiter
from eachlabs_widgets.emulator import Emulator, serve


async def ticker(lags: list[float], stop: asyncio.Event, interval: float = 0.005) -> None:
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(interval)
        lags.append(time.perf_counter() - before - interval)


async def scenario(url: str, n: int, shared: bool) -> tuple[float, float, float]:
    """(seconds for all, median lag ms, max lag ms)."""
    limiter = PredictionLimiter(n)  # measure the client, not the account cap
    lags: list[float] = []
    stop = asyncio.Event()
    tick = asyncio.create_task(ticker(lags, stop))
    started = time.perf_counter()

    async def one(i: int) -> None:
        if shared:
            client = AsyncEachLabs(api_key="bench", base_url=url, journal=False, limiter=limiter)
            await client.run(
                "flux-2-flash-text-to-image", {"prompt": f"p{i}", "image_size": "square"}
            )
        else:
            # What a client per call costs: a new connection pool and SSL context each time.
            async with AsyncEachLabs(
                api_key="bench",
                base_url=url,
                journal=False,
                limiter=limiter,
                transport=httpx.AsyncHTTPTransport(),
            ) as client:
                await client.run(
                    "flux-2-flash-text-to-image", {"prompt": f"p{i}", "image_size": "square"}
                )

    await asyncio.gather(*(one(i) for i in range(n)))
    total = time.perf_counter() - started
    stop.set()
    await tick
    return total, statistics.median(lags) * 1000, max(lags) * 1000


async def main(n: int) -> None:
    emulator = Emulator(speed=0.5, account_cap=None)
    with serve(emulator) as server:
        await scenario(server.url, 2, True)  # warm up (catalogue, imports)
        for shared in (True, False):
            total, median, worst = await scenario(server.url, n, shared)
            label = "one shared client" if shared else "a new client each"
            print(
                f"{label:20} {n} predictions: {total:5.2f} s, loop lag median {median:5.1f} ms, max {worst:6.1f} ms"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--predictions", type=int, default=50)
    asyncio.run(main(parser.parse_args().predictions))
