import asyncio
import threading

from eachlabs_widgets._service.limiter import PredictionLimiter


async def test_no_more_than_the_limit_run_at_once():
    limiter = PredictionLimiter(3)
    running, peak = 0, 0

    async def job():
        nonlocal running, peak
        async with limiter.slot():
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.01)
            running -= 1

    await asyncio.gather(*(job() for _ in range(12)))
    assert peak == 3
    assert limiter.in_flight == 0


async def test_a_429_shrinks_the_limit_and_finished_predictions_grow_it_back():
    limiter = PredictionLimiter(10)
    for _ in range(4):
        await limiter.acquire()
    limiter.throttled()
    assert limiter.limit == 4
    limiter.release()
    assert limiter.limit == 5
    for _ in range(3):
        limiter.release()
    assert limiter.limit == 8


async def test_a_cancelled_waiter_gives_its_place_up():
    limiter = PredictionLimiter(1)
    await limiter.acquire()
    waiter = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    limiter.release()
    await asyncio.sleep(0.01)
    assert limiter.in_flight == 0
    await asyncio.wait_for(limiter.acquire(), 1)
    assert limiter.in_flight == 1


def test_one_limiter_is_shared_by_loops_in_different_threads():
    limiter = PredictionLimiter(2)
    peak, running, lock = 0, 0, threading.Lock()

    async def job():
        nonlocal peak, running
        async with limiter.slot():
            with lock:
                running += 1
                peak = max(peak, running)
            await asyncio.sleep(0.02)
            with lock:
                running -= 1

    async def four_jobs():
        await asyncio.wait_for(asyncio.gather(*(job() for _ in range(4))), 10)

    def worker():
        asyncio.run(four_jobs())

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == 2
    assert limiter.in_flight == 0
