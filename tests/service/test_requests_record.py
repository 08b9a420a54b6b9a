"""Requests as the service documents them (API.md): both key headers, the trailing-slash
redirect of a create, the burst 429, the in-flight 402, and the ceiling the user asks for."""

import asyncio

import httpx
import pytest

from eachlabs_widgets import PaymentRequiredError, configure
from eachlabs_widgets._service.limiter import PredictionLimiter
from eachlabs_widgets._settings import DEFAULT_CONCURRENCY, reset_configuration

from ..client_fixtures import SECRET

BURST = {
    "status": 429,
    "error": "too many requests",
    "details": "too many executions were started at once, please retry",
}
IN_FLIGHT = {
    "status": 402,
    "error": "payment required",
    "details": "the estimated cost of your in-flight executions exceeds your current balance",
}
BALANCE = {"status": 402, "error": "payment required", "details": "insufficient balance"}


def answering_creates(service, answers):
    """A transport answering the next creates with ``answers`` (status, body), then as usual."""
    left = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/prediction" and left:
            service.requests.append(request)
            status, body = left.pop(0)
            return httpx.Response(status, json=body)
        return service.handler(request)

    return httpx.MockTransport(handler)


async def test_the_key_goes_in_both_documented_headers(make_client, service):
    async with make_client() as client:
        await client.create_prediction("flux", {"prompt": "fox"})
    [create] = [r for r in service.requests if r.url.path == "/v1/prediction"]
    assert create.headers["authorization"] == f"Bearer {SECRET}"
    assert create.headers["x-api-key"] == SECRET


@pytest.mark.parametrize("code", [301, 302, 307, 308])
async def test_a_create_redirected_to_the_trailing_slash_is_posted_there_once(
    make_client, service, code
):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/prediction":
            service.requests.append(request)
            return httpx.Response(code, headers={"Location": "/v1/prediction/"})
        if request.url.path == "/v1/prediction/" and request.method == "POST":
            service.requests.append(request)
            service.created += 1
            return httpx.Response(200, json={"predictionID": "slashed"})
        return service.handler(request)

    async with make_client(transport=httpx.MockTransport(handler)) as client:
        assert await client.create_prediction("flux", {"prompt": "fox"}) == "slashed"
    posts = [r for r in service.requests if r.method == "POST"]
    assert [r.url.path for r in posts] == ["/v1/prediction", "/v1/prediction/"]
    assert posts[0].content == posts[1].content  # the same body, not a GET
    assert service.created == 1


async def test_a_second_slash_redirect_or_another_path_is_refused(make_client, service):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.startswith("/v1/prediction"):
            service.requests.append(request)
            return httpx.Response(302, headers={"Location": "/v2/prediction"})
        return service.handler(request)

    async with make_client(transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(Exception, match="redirected") as caught:
            await client.create_prediction("flux", {"prompt": "fox"})
    assert "nothing was created" in str(caught.value)


async def test_the_burst_429_backs_off_and_tries_again_without_shrinking_the_limit(
    make_client, service, fake_time
):
    limiter = PredictionLimiter(10)
    transport = answering_creates(service, [(429, BURST), (429, BURST)])
    async with make_client(transport=transport, limiter=limiter) as client:
        generation = await client.run("flux", {"prompt": "fox"}, timeout=600)
    assert generation.id == "p1" and service.created == 1
    assert limiter.limit == 10 and limiter.in_flight == 0
    assert len([s for s in fake_time.sleeps if s >= 0.25]) >= 2  # it backed off each time


async def test_an_in_flight_402_waits_for_one_of_ours_to_end_then_creates(make_client, service):
    limiter = PredictionLimiter(10)
    ours = limiter.place()
    await ours.create(lambda: asyncio.sleep(0), None)  # one of ours runs on the service
    transport = answering_creates(service, [(402, IN_FLIGHT)])
    async with make_client(transport=transport, limiter=limiter) as client:
        task = asyncio.create_task(client.run("flux", {"prompt": "fox"}, timeout=600))
        for _ in range(50):
            await asyncio.sleep(0.01)
        assert not task.done() and service.created == 0  # waiting, not failed
        ours.ended()
        generation = await asyncio.wait_for(task, 10)
    assert generation.id == "p1" and service.created == 1


async def test_an_in_flight_402_with_nothing_of_ours_running_is_final(make_client, service):
    transport = answering_creates(service, [(402, IN_FLIGHT), (402, IN_FLIGHT)])
    async with make_client(transport=transport, limiter=PredictionLimiter(10)) as client:
        with pytest.raises(PaymentRequiredError) as caught:
            await client.run("flux", {"prompt": "fox"}, timeout=600)
    assert "in-flight executions exceeds your current balance" in str(caught.value)
    assert service.count("/v1/prediction") == 1  # raised at once


async def test_a_balance_402_is_final_even_while_ours_run(make_client, service):
    limiter = PredictionLimiter(10)
    ours = limiter.place()
    await ours.create(lambda: asyncio.sleep(0), None)
    transport = answering_creates(service, [(402, BALANCE)])
    async with make_client(transport=transport, limiter=limiter) as client:
        with pytest.raises(PaymentRequiredError, match="insufficient balance"):
            await asyncio.wait_for(client.run("flux", {"prompt": "fox"}, timeout=600), 5)
    assert limiter.in_flight == 1  # only ours
    ours.ended()


def test_the_ceiling_is_what_the_user_configures():
    from eachlabs_widgets._service.limiter import limiter

    try:
        configure(concurrency=100)
        assert limiter.ceiling == 100 and limiter.limit == 100
        assert PredictionLimiter().ceiling == 100
        with pytest.raises(ValueError, match="concurrency"):
            configure(concurrency=0)
    finally:
        reset_configuration()
    assert limiter.ceiling == DEFAULT_CONCURRENCY == 10


async def test_requests_wait_in_a_line_of_their_own_before_the_pool(monkeypatch, service):
    from eachlabs_widgets._service import http

    monkeypatch.setattr(http, "GATE", 3)
    inside = [0, 0]  # now, most

    async def handler(request: httpx.Request) -> httpx.Response:
        inside[0] += 1
        inside[1] = max(inside[1], inside[0])
        await asyncio.sleep(0.02)
        inside[0] -= 1
        return service.handler(request)

    from eachlabs_widgets import AsyncEachLabs

    async with AsyncEachLabs(
        api_key=SECRET, base_url="https://api.example", transport=httpx.MockTransport(handler)
    ) as client:
        answers = await asyncio.gather(*(client.get_prediction(f"p{i}") for i in range(12)))
    assert len(answers) == 12 and inside[1] == 3
