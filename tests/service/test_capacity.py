"""The account cap: creation in call order, waiting for capacity on a 429, slots freed at the end."""

import asyncio

import httpx
import pytest

from eachlabs_widgets import AsyncEachLabs, RateLimitError
from eachlabs_widgets._journal.journal import Journal
from eachlabs_widgets._service.limiter import PredictionLimiter
from eachlabs_widgets.emulator import Emulator, serve

MAX = "flux-2-max-text-to-image"
TURBO = "flux-2-turbo-text-to-image"
FAST = "imagen-4-fast"


# -- the limiter on its own ------------------------------------------------------------------


async def test_slots_are_granted_in_ticket_order_whatever_order_calls_ask_in():
    limiter = PredictionLimiter(1, order_grace=30)
    places = [limiter.place() for _ in range(4)]
    granted: list[int] = []

    async def take(n: int, delay: float) -> None:
        await asyncio.sleep(delay)
        await places[n].create(lambda: asyncio.sleep(0), None)
        granted.append(n)
        await asyncio.sleep(0.01)
        places[n].ended()

    # The later tickets ask first (their lookups answered first).
    await asyncio.wait_for(
        asyncio.gather(take(3, 0), take(2, 0.01), take(1, 0.02), take(0, 0.05)), 10
    )
    assert granted == [0, 1, 2, 3]
    assert limiter.in_flight == 0 and limiter.running == 0


async def test_a_ticket_that_never_comes_forward_holds_others_back_only_briefly():
    limiter = PredictionLimiter(2, order_grace=0.2)
    stuck = limiter.place()  # e.g. a call still uploading its input
    later = limiter.place()
    await asyncio.wait_for(later.create(lambda: asyncio.sleep(0), None), 5)
    assert limiter.running == 1
    stuck.close()
    later.close()
    assert limiter.in_flight == 0


async def test_a_refusal_shrinks_the_limit_to_what_runs_and_ends_grow_it_back():
    limiter = PredictionLimiter(10)
    running = [limiter.place() for _ in range(3)]
    for place in running:
        await place.create(lambda: asyncio.sleep(0), None)
    refused_once = limiter.place()
    answers = iter([RateLimitError("too many requests", status_code=429), "p4"])

    async def send() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    task = asyncio.create_task(refused_once.create(send, None))
    await asyncio.sleep(0.05)
    assert limiter.limit == 3 and not task.done()  # waits for one of ours to end
    running[0].ended()
    assert await asyncio.wait_for(task, 5) == "p4"
    assert limiter.refusals == 1
    assert limiter.limit == 4  # grew by the end, and the success proved room for 3 running
    for place in [*running[1:], refused_once]:
        place.ended()
    assert limiter.in_flight == 0 and limiter.limit == 7


# -- the client on a scripted service ----------------------------------------------------


def refusing(service, refusals: int | None):
    """A transport answering the first ``refusals`` creates (None: all) with the cap's 429."""
    left = [refusals]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/prediction" and left[0] != 0:
            if left[0] is not None:
                left[0] -= 1
            body = {"status": 429, "error": "too many requests", "details": "in flight"}
            return httpx.Response(429, json=body)
        return service.handler(request)

    return httpx.MockTransport(handler)


async def test_cap_refusals_do_not_use_up_the_retry_budget(make_client, service):
    async with make_client(transport=refusing(service, 12)) as client:
        generation = await client.run("flux", {"prompt": "fox"}, timeout=600)
    assert generation.id == "p1"
    assert service.created == 1


async def test_a_cap_that_stays_full_gives_up_at_the_calls_deadline(
    make_client, service, fake_time
):
    async with make_client(transport=refusing(service, None)) as client:
        with pytest.raises(RateLimitError):
            await client.run("flux", {"prompt": "fox"}, timeout=30)
    assert fake_time.now >= 30  # it waited for capacity until the deadline, not 5 tries
    assert service.created == 0


async def test_a_direct_create_still_retries_a_429_itself(make_client, service):
    async with make_client(transport=refusing(service, 2)) as client:
        assert await client.create_prediction("flux", {"prompt": "fox"}) == "p1"


# -- the client against the emulator on loopback -------------------------------------------


@pytest.fixture(scope="module")
def emulator():
    emu = Emulator(api_key="k")
    with serve(emu) as server:
        emu.url = server.url
        yield emu


@pytest.fixture(autouse=True)
def _fresh(emulator):
    emulator.reset()
    emulator.api_key = "k"


def make(emulator, tmp_path, limit=10):
    limiter = PredictionLimiter(limit)
    client = AsyncEachLabs(
        api_key="k", base_url=emulator.url, journal=Journal(tmp_path / "j.sqlite3"), limiter=limiter
    )
    return client, limiter


def most_at_once(records) -> int:
    events = sorted(
        [(r["created_at"], 1) for r in records] + [(r["ended_at"], -1) for r in records]
    )
    now = peak = 0
    for _, step in events:
        now += step
        peak = max(peak, now)
    return peak


async def test_a_cap_of_two_runs_ten_long_predictions_without_a_failure(emulator, tmp_path):
    emulator.configure(account_cap=2, durations={MAX: [0.6, 0.9]})
    client, limiter = make(emulator, tmp_path)
    results = await asyncio.wait_for(
        asyncio.gather(*(client.run(MAX, {"prompt": f"fox {i}"}) for i in range(10))), 120
    )
    assert len({g.id for g in results}) == 10
    assert emulator.stats.predictions_created == 10
    assert limiter.refusals > 0
    assert most_at_once(emulator.records()) <= 2
    assert limiter.in_flight == 0 and limiter.running == 0


async def test_creation_follows_the_order_of_the_calls(emulator, tmp_path):
    # The first call's model lookup answers last.
    emulator.inject("slow", endpoint="model", seconds=0.3)
    emulator.configure(durations={MAX: [0.2, 0.2], TURBO: [0.2, 0.2]})
    client, _ = make(emulator, tmp_path, limit=1)
    calls = [(MAX, "a"), (TURBO, "b"), (MAX, "c"), (TURBO, "d")]
    results = await asyncio.wait_for(
        asyncio.gather(*(client.run(m, {"prompt": p}) for m, p in calls)), 60
    )
    prompt_of = {g.id: g.inputs["prompt"] for g in results}
    assert [prompt_of[i] for i in emulator.stats.prediction_ids] == ["a", "b", "c", "d"]


async def test_concurrent_lookups_of_one_model_share_one_request(emulator, tmp_path):
    client, _ = make(emulator, tmp_path)
    slugs = [MAX, TURBO, FAST] * 4
    models = await asyncio.gather(*(client.get_model(s) for s in slugs))
    assert [m["slug"] for m in models] == slugs
    assert emulator.stats.requests["model"] == 3


async def test_the_slot_is_free_as_soon_as_a_poll_sees_the_end(emulator, tmp_path):
    # One slot; the first prediction's download takes two seconds. The second create does not
    # wait for it.
    emulator.configure(durations={FAST: [0.2, 0.2]})
    emulator.inject("slow", endpoint="files", seconds=2.0)
    client, _ = make(emulator, tmp_path, limit=1)
    await asyncio.wait_for(
        asyncio.gather(*(client.run(FAST, {"prompt": p}) for p in ("a", "b"))), 60
    )
    first, second = emulator.records()
    assert second["created_at"] < first["seen_end_at"] + 2.0


async def test_a_place_withdrawn_while_waiting_never_sends_even_if_a_slot_reaches_it():
    limiter = PredictionLimiter(1)
    holder = limiter.place()
    await holder.create(lambda: asyncio.sleep(0), None)
    waiting = limiter.place()
    sent: list[str] = []

    async def send() -> str:
        sent.append("create")
        return "p2"

    task = asyncio.create_task(waiting.create(send, None))
    await asyncio.sleep(0.05)
    assert waiting.withdraw()  # nothing sent yet
    holder.ended()  # the slot now goes to the withdrawn place
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
    waiting.close()
    assert sent == []
    assert limiter.in_flight == 0 and limiter.running == 0


async def test_a_place_whose_create_was_sent_cannot_be_withdrawn():
    limiter = PredictionLimiter(1)
    place = limiter.place()
    answer: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(place.create(lambda: answer, None))
    await asyncio.sleep(0.01)
    assert not place.withdraw()  # the create may be on its way: it must be held, not dropped
    answer.set_result("p1")
    assert await task == "p1"
    place.ended()


async def test_cancelling_a_call_that_waits_for_a_slot_ends_it_at_once_and_creates_nothing(
    emulator, tmp_path
):
    # One slot, held by a long prediction; the second call waits for it and is cancelled.
    emulator.configure(durations={MAX: [3.0, 3.0]})
    client, limiter = make(emulator, tmp_path, limit=1)
    first = asyncio.ensure_future(client.run(MAX, {"prompt": "first"}))
    while emulator.stats.predictions_created < 1:
        await asyncio.sleep(0.01)
    second = asyncio.ensure_future(client.run(MAX, {"prompt": "second"}))
    await asyncio.sleep(0.2)
    second.cancel()
    # Without waiting the create hold (10 s) or the first prediction's end (3 s).
    done, _ = await asyncio.wait({second}, timeout=2.0)
    assert done == {second} and second.cancelled()
    assert not first.done()
    await asyncio.wait_for(first, 30)
    await asyncio.sleep(0.3)  # a create that slipped through would have been sent by now
    assert emulator.stats.predictions_created == 1
    assert limiter.in_flight == 0 and limiter.running == 0


async def test_a_crowd_of_a_new_model_sends_a_few_to_find_out_how_long_it_takes(emulator, tmp_path):
    # Twelve predictions of a model nothing is known of, at once, with room for three to poll
    # freely: only three poll before the first end; the rest sleep until one is seen, then
    # poll across what it taught. Every end is still seen promptly.
    from eachlabs_widgets._service.client import learner
    from eachlabs_widgets._service.polling import PollSchedule

    learner.forget()
    emulator.configure(durations={FAST: [1.2, 1.2]})
    client = AsyncEachLabs(
        api_key="k",
        base_url=emulator.url,
        journal=Journal(tmp_path / "j.sqlite3"),
        limiter=PredictionLimiter(12),
        poll=PollSchedule(crowd_free=3),
    )
    polled: list[tuple[float, str]] = []
    real_get = client.get_prediction

    async def watched(prediction_id: str, **kwargs):
        polled.append((asyncio.get_running_loop().time(), prediction_id))
        return await real_get(prediction_id, **kwargs)

    client.get_prediction = watched  # type: ignore[method-assign]
    start = asyncio.get_running_loop().time()
    results = await asyncio.wait_for(
        asyncio.gather(*(client.run(FAST, {"prompt": f"fox {i}"}) for i in range(12))), 60
    )
    assert len({g.id for g in results}) == 12
    early = {pid for when, pid in polled if when < start + 1.1}  # before any could end
    assert len(early) == 3
    records = emulator.records()
    assert all(r["seen_end_at"] - r["ended_at"] < 1.5 for r in records)
    assert len(polled) < 12 * 4
    learner.forget()
