"""The client against an in-process mock transport: headers, retries, errors, the flow."""

import asyncio

import httpx
import pytest

from eachlabs_widgets import (
    AuthenticationError,
    ConfigurationError,
    InputValidationError,
    NotFoundError,
    PredictionFailedError,
    PredictionTimeoutError,
    RateLimitError,
    TransportError,
)

from .conftest import SECRET


async def test_requests_carry_the_key_version_and_user_agent(make_client, service):
    async with make_client() as client:
        prediction_id = await client.create_prediction("flux", {"prompt": "fox"})
    assert prediction_id == "p1"
    request = service.requests[-1]
    assert request.headers["x-api-key"] == SECRET
    assert request.headers["user-agent"].startswith("eachlabs-widgets/")
    assert request.headers["x-request-id"]
    assert service.bodies("/v1/prediction") == [
        {"model": "flux", "version": "0.0.1", "input": {"prompt": "fox"}}
    ]


async def test_list_models_pages_until_a_short_page(make_client, service):
    async with make_client() as client:
        models = await client.list_models()
    assert len(models) == 230
    assert service.count("/v1/models") == 3


async def test_get_model_is_cached(make_client, service):
    async with make_client() as client:
        await client.get_model("flux")
        await client.get_model("flux")
    assert service.count("/v1/model") == 1


async def test_unknown_model_names_the_slug(make_client):
    async with make_client() as client:
        with pytest.raises(NotFoundError, match="unknown model 'nope'"):
            await client.get_model("nope")


async def test_invalid_input_is_refused_before_any_create(make_client, service):
    async with make_client() as client:
        with pytest.raises(InputValidationError, match="image_size") as info:
            await client.run("flux", {"prompt": "x", "image_size": "huge"})
    assert "'square', 'landscape_16_9'" in str(info.value)
    assert service.count("/v1/prediction") == 0


async def test_a_create_rejected_with_429_is_retried_honouring_retry_after(
    make_client, service, fake_time
):
    for _ in range(2):
        service.fail_next.append(
            lambda r: (
                httpx.Response(
                    429, json={"error": "too many requests"}, headers={"Retry-After": "3"}
                )
                if r.method == "POST"
                else None
            )
        )
    async with make_client() as client:
        assert await client.create_prediction("flux", {"prompt": "x"}) == "p1"
    assert service.count("/v1/prediction") == 3
    assert fake_time.sleeps == [3.0, 3.0]


async def test_a_create_whose_answer_was_lost_is_not_retried(make_client, service):
    def lose_answer(request):
        service.handler(request)  # the service did create it...
        raise httpx.RemoteProtocolError("peer closed connection", request=request)

    service.fail_next.append(lose_answer)
    async with make_client() as client:
        with pytest.raises(TransportError, match="could pay twice") as info:
            await client.create_prediction("flux", {"prompt": "x"})
    assert info.value.sent is True
    assert service.created == 1


async def test_a_create_that_never_connected_is_retried(make_client, service):
    def refuse(request):
        raise httpx.ConnectError("connection refused", request=request)

    service.fail_next.append(refuse)
    async with make_client() as client:
        assert await client.create_prediction("flux", {"prompt": "x"}) == "p1"
    assert service.created == 1


async def test_a_create_is_not_retried_on_500(make_client, service):
    service.fail_next.append(
        lambda r: httpx.Response(500, json={"error": "Failed to create prediction"})
    )
    async with make_client() as client:
        with pytest.raises(Exception, match="Failed to create prediction") as info:
            await client.create_prediction("flux", {"prompt": "x"})
    assert info.value.status_code == 500
    assert service.count("/v1/prediction") == 1


async def test_reads_are_retried_on_5xx_and_transport_errors(make_client, service, fake_time):
    def drop(request):
        raise httpx.ReadTimeout("slow", request=request)

    service.fail_next.extend([lambda r: httpx.Response(503, json={"error": "busy"}), drop])
    async with make_client() as client:
        prediction = await client.get_prediction("p1")
    assert prediction.status == "starting"
    assert len(fake_time.sleeps) == 2


async def test_429_that_persists_becomes_a_rate_limit_error(make_client, service):
    service.fail_next.extend(
        [
            lambda r: httpx.Response(
                429, json={"error": "too many requests", "details": "Account rate limited"}
            )
        ]
        * 10
    )
    async with make_client() as client:
        with pytest.raises(RateLimitError, match="Account rate limited"):
            await client.create_prediction("flux", {"prompt": "x"})


async def test_a_wrong_key_is_an_authentication_error_that_does_not_show_it(make_client):
    async with make_client(api_key="wrong-key-0123456789") as client:
        with pytest.raises(AuthenticationError) as info:
            await client.create_prediction("flux", {"prompt": "x"})
    assert info.value.status_code == 401
    assert "EACHLABS_API_KEY" in str(info.value)
    assert "wrong-key" not in str(info.value) + repr(info.value) + repr(client)


async def test_a_missing_key_says_how_to_set_it(make_client):
    async with make_client(api_key=None) as client:
        with pytest.raises(ConfigurationError, match="EACHLABS_API_KEY"):
            await client.create_prediction("flux", {"prompt": "x"})


async def test_the_key_is_not_sent_to_file_hosts(make_client, service):
    async with make_client() as client:
        data = await client.download("https://cdn.example/out-0.png")
    assert data.startswith(b"\x89PNG")
    assert "x-api-key" not in service.requests[-1].headers


async def test_the_whole_flow_records_before_polling_and_picks_a_seed(
    make_client, service, journal, tmp_path
):
    seen_at_first_poll = []
    original = service.handler

    def spy(request):
        if request.url.path.startswith("/v1/prediction/") and not seen_at_first_poll:
            seen_at_first_poll.append(journal.get("p1"))
        return original(request)

    service.handler = spy
    async with make_client(transport=httpx.MockTransport(spy)) as client:
        generation = await client.run("flux", {"prompt": "fox"}, save_to=str(tmp_path / "out"))
    assert seen_at_first_poll[0] is not None and seen_at_first_poll[0].status == "created"
    sent = service.bodies("/v1/prediction")[0]["input"]
    assert isinstance(sent["seed"], int)
    assert generation.inputs == sent
    assert generation.urls == ["https://cdn.example/out-0.png"]
    assert generation.metrics["cost"] == 0.01
    entry = journal.get("p1")
    assert entry.status == "success"
    assert entry.files == [str(p) for p in generation.paths]
    assert "SECRET" not in journal.path.read_bytes().decode("latin-1")


async def test_a_failed_prediction_raises_with_the_services_message(make_client, service, journal):
    service.statuses = [
        {
            "status": "error",
            "output": {
                "error": "Execution failed",
                "error_message": "prompt was flagged",
                "error_code": "MODERATION",
                "classification": {"category": "content_moderation"},
            },
        }
    ]
    async with make_client() as client:
        with pytest.raises(PredictionFailedError) as info:
            await client.run("flux", {"prompt": "x"})
    assert info.value.prediction_id == "p1"
    assert info.value.classification == "content_moderation"
    assert "prompt was flagged" in str(info.value)
    assert journal.get("p1").status == "error"


async def test_wait_gives_up_at_the_deadline(make_client, service, fake_time):
    service.statuses = [{"status": "processing"}]
    async with make_client() as client:
        with pytest.raises(PredictionTimeoutError) as info:
            await client.wait("p9", timeout=30)
    assert info.value.prediction_id == "p9"
    assert fake_time.now == pytest.approx(30)


async def test_cancelling_the_wait_cancels_the_prediction_on_the_service(service, journal):
    from eachlabs_widgets import AsyncEachLabs
    from eachlabs_widgets._service.limiter import PredictionLimiter

    service.statuses = [{"status": "processing"}]
    client = AsyncEachLabs(
        api_key=SECRET,
        base_url="https://api.example",
        transport=httpx.MockTransport(service.handler),
        journal=journal,
        limiter=PredictionLimiter(10),
    )
    task = asyncio.create_task(client.run("flux", {"prompt": "x"}))
    while service.count("/v1/prediction/p1") < 2:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert service.count("/v1/prediction/p1/cancel") == 1
    assert journal.get("p1").status == "cancelled"
    await client.aclose()


async def test_a_new_process_starts_from_the_durations_in_the_journal(
    make_client, journal, service
):
    from eachlabs_widgets._service.client import learner

    steps = list(service.statuses)
    async with make_client() as client:
        await client.run("flux", {"prompt": "fox"})
        service.statuses = [{"status": "processing"}, *steps]
        await client.run("flux", {"prompt": "fox"})
    recorded = journal.durations("flux", "https://api.example")
    assert len(recorded) == 2 and all(d > 0 for d in recorded)
    learner.forget()  # what a new kernel knows
    base = "https://api.example"
    assert learner.support("flux", base) is None
    async with make_client() as client:
        await client._seed_learner("flux", base)
        await client._seed_learner("other-model", base)
    assert learner.samples("flux", base) == list(reversed(recorded))  # oldest first
    assert learner.support("flux", base) is not None
    assert learner.support("other-model", base) is None
