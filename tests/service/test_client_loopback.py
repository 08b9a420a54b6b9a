"""The client against the emulator served on a real loopback socket: every endpoint, every fault."""

import asyncio
import io

import pytest
from PIL import Image

from eachlabs_widgets import (
    AsyncEachLabs,
    AuthenticationError,
    NotFoundError,
    OutputDownloadError,
    PaymentRequiredError,
    PredictionCancelledError,
    PredictionFailedError,
    PredictionTimeoutError,
    RateLimitError,
    ServerError,
    TransportError,
    _client,
)
from eachlabs_widgets._journal.journal import Journal
from eachlabs_widgets._service.limiter import PredictionLimiter
from eachlabs_widgets.emulator import Emulator, serve
from eachlabs_widgets.emulator.catalog import load_catalog

TURBO = "flux-2-turbo-text-to-image"


@pytest.fixture(scope="module")
def emulator():
    emu = Emulator(speed=0.005, api_key="right-key")
    with serve(emu) as server:
        emu.url = server.url
        yield emu


@pytest.fixture(autouse=True)
def _fresh(emulator):
    emulator.reset()
    emulator.api_key = "right-key"
    emulator.speed = 0.005


async def no_sleep(seconds: float) -> None:
    await asyncio.sleep(min(seconds, 0.01))


@pytest.fixture
def client(emulator, tmp_path):
    limiter = PredictionLimiter(10)
    c = AsyncEachLabs(
        api_key="right-key",
        base_url=emulator.url,
        sleep=no_sleep,
        journal=Journal(tmp_path / "j.sqlite3"),
        limiter=limiter,
    )
    c.test_limiter = limiter
    return c


async def test_models_page_through_the_whole_catalogue(client, monkeypatch):
    monkeypatch.setattr(_client, "PAGE_SIZE", 5)
    models = await client.list_models()
    assert len(models) == len(load_catalog())
    assert len({m["slug"] for m in models}) == len(load_catalog())
    assert [m["slug"] for m in await client.list_models("FLUX-2-T")] == [TURBO]


async def test_model_detail_and_unknown_model(client):
    model = await client.get_model(TURBO)
    assert "image_size" in model["request_schema"]["properties"]
    with pytest.raises(NotFoundError, match="unknown model 'no-such-model'"):
        await client.get_model("no-such-model")


async def test_generate_end_to_end(client, emulator, tmp_path):
    g = await client.run(
        TURBO,
        {"prompt": "a red fox", "image_size": "landscape_16_9", "num_images": 2},
        save_to=str(tmp_path / "out"),
    )
    assert [im.size for im in g.images] == [(1024, 576), (1024, 576)]
    assert emulator.stats.predictions_created == 1
    assert len(g.paths) == 2 and all(p.exists() for p in g.paths)
    assert g.metrics["cost"] > 0
    assert g.emulated  # labelled as the emulator's, although reached by URL
    again = await client.run(TURBO, {**g.inputs}, save_to=str(tmp_path / "out"), reuse=True)
    assert again.reused and again.id == g.id and again.emulated  # and so is a reused one


async def test_same_seed_same_bytes(client):
    a = await client.run(TURBO, {"prompt": "fox", "seed": 11, "image_size": "square"})
    b = await client.run(TURBO, {"prompt": "fox", "seed": 11, "image_size": "square"})
    assert a.outputs[0].data == b.outputs[0].data
    assert a.id != b.id


@pytest.mark.parametrize("model", ["flux-2-pro", "hunyuan-image-v3-text-to-image", "imagen-4-fast"])
async def test_every_output_shape_becomes_images(client, model):
    g = await client.run(model, {"prompt": "a lighthouse"})
    assert len(g.images) >= 1


async def test_upload_then_download_gives_the_same_bytes(client):
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (1, 2, 3)).save(buffer, "PNG")
    url = await client.upload(buffer.getvalue())
    assert await client.download(url) == buffer.getvalue()


async def test_a_pil_image_input_is_uploaded_before_the_create(client, emulator):
    image = Image.new("RGB", (64, 64), (200, 0, 0))
    g = await client.run("wan-v2-6-text-to-image", {"prompt": "x", "image_url": image})
    assert g.inputs["image_url"].startswith(emulator.url)
    assert emulator.stats.requests.get("presign") == 1


async def test_cancel_and_poll(client, emulator):
    emulator.never_finish = True
    pid = await client.create_prediction(TURBO, {"prompt": "x"})
    await client.cancel_prediction(pid)
    prediction = await client.get_prediction(pid)
    assert prediction.status == "cancelled"
    assert prediction.metrics.get("cost") == 0
    with pytest.raises(PredictionCancelledError):
        await client.wait(pid)


async def test_cancelling_a_run_cancels_on_the_service(client, emulator):
    emulator.never_finish = True
    task = asyncio.create_task(client.run(TURBO, {"prompt": "x"}))
    while not emulator.stats.prediction_ids:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    pid = emulator.stats.prediction_ids[0]
    assert (await client.get_prediction(pid)).status == "cancelled"


async def test_wrong_key(client, emulator):
    emulator.api_key = "another-key"
    with pytest.raises(AuthenticationError) as info:
        await client.create_prediction(TURBO, {"prompt": "x"})
    assert "right-key" not in str(info.value)


@pytest.mark.parametrize("retry_after", [0.01, None])
async def test_429_on_create_is_retried_and_creates_once(client, emulator, retry_after):
    emulator.inject("rate_limit", endpoint="create", times=2, retry_after=retry_after)
    await client.create_prediction(TURBO, {"prompt": "x"})
    assert emulator.stats.predictions_created == 1
    assert emulator.stats.requests["create"] == 3


async def test_the_account_cap_throttles_the_limiter(client, emulator):
    emulator.never_finish = True
    emulator.account_cap = 2
    for _ in range(2):
        await client.create_prediction(TURBO, {"prompt": "x"})
    async with client.test_limiter.slot(), client.test_limiter.slot():
        with pytest.raises(RateLimitError, match="Account rate limited"):
            await client.create_prediction(TURBO, {"prompt": "x"})
        assert client.test_limiter.limit == 2
    assert emulator.stats.predictions_created == 2


async def test_payment_required(client, emulator):
    emulator.inject("payment_required", endpoint="create")
    with pytest.raises(PaymentRequiredError, match="payment required"):
        await client.create_prediction(TURBO, {"prompt": "x"})


async def test_5xx_on_create_is_not_retried(client, emulator):
    emulator.inject("server_error", endpoint="create", status=503)
    with pytest.raises(ServerError) as info:
        await client.create_prediction(TURBO, {"prompt": "x"})
    assert info.value.status_code == 503
    assert emulator.stats.requests["create"] == 1


async def test_5xx_and_drops_on_reads_are_retried(client, emulator):
    emulator.inject("server_error", endpoint="poll", times=2)
    emulator.inject("drop", endpoint="poll", times=1)
    emulator.inject("server_error", endpoint="model", times=1)
    g = await client.run(TURBO, {"prompt": "x"})
    assert g.status == "success"


@pytest.mark.parametrize("after_processing", [False, True])
async def test_a_dropped_create_is_never_sent_twice(client, emulator, after_processing):
    emulator.inject("drop", endpoint="create", after_processing=after_processing)
    with pytest.raises(TransportError, match="could pay twice"):
        await client.create_prediction(TURBO, {"prompt": "x"})
    assert emulator.stats.requests["create"] == 1
    assert emulator.stats.predictions_created == (1 if after_processing else 0)


async def test_slow_answers_still_arrive(client, emulator):
    emulator.inject("slow", endpoint="poll", times=2, seconds=0.2)
    assert (await client.run(TURBO, {"prompt": "x"})).status == "success"


@pytest.mark.parametrize(("legacy", "status"), [(False, "error"), (True, "failed")])
async def test_failures_carry_the_services_message(client, emulator, legacy, status):
    emulator.failure = "provider_unavailable"
    emulator.legacy_failed_status = legacy
    with pytest.raises(PredictionFailedError) as info:
        await client.run(TURBO, {"prompt": "x"})
    assert info.value.classification == "provider_unavailable"
    assert info.value.status == status
    assert info.value.message


async def test_moderation_and_bad_input_reported_by_the_service(client):
    with pytest.raises(PredictionFailedError) as info:
        await client.run(TURBO, {"prompt": "a [moderate] thing"})
    assert info.value.classification == "content_moderation"
    pid = await client.create_prediction(TURBO, {"prompt": "x", "image_size": "huge"})
    with pytest.raises(PredictionFailedError) as info:
        await client.wait(pid)
    assert info.value.classification == "invalid_user_input"
    assert "image_size" in str(info.value)


async def test_never_finishing_predictions_time_out(client, emulator):
    emulator.never_finish = True
    with pytest.raises(PredictionTimeoutError) as info:
        await client.run(TURBO, {"prompt": "x"}, timeout=0.3)
    assert info.value.prediction_id in emulator.stats.prediction_ids


async def test_output_urls_that_404(client, emulator):
    emulator.output_404 = True
    with pytest.raises(OutputDownloadError) as caught:
        await client.run(TURBO, {"prompt": "x"})
    entry = client.journal.entries()[0]
    assert entry.urls  # the URLs are kept, so nothing paid for is forgotten
    assert caught.value.prediction_id == entry.id and caught.value.status_code == 404
    assert entry.status == "downloading"  # resumable: only the download failed


async def test_string_defaults_are_coerced(client, emulator):
    emulator.string_defaults = True
    _client._model_cache.clear()
    model = await client.get_model(TURBO)
    assert model["request_schema"]["properties"]["num_images"]["default"] == "1"
    g = await client.run(TURBO, {"prompt": "x", "num_images": "2", "sync_mode": "False"})
    assert g.inputs["num_images"] == 2 and g.inputs["sync_mode"] is False
    assert len(g.images) == 2
    _client._model_cache.clear()


async def test_trainer_then_lora(client):
    weights = await client.upload(b"PK\x03\x04" + b"\x00" * 100)
    trained = await client.run("flux-turbo-trainer", {"images_data_url": weights})
    lora = trained.lora  # FLUX.1 [dev] weights: the family table sends them to bfl-flux-lora
    assert lora is not None and lora.url.endswith(".safetensors")
    assert lora.model == "bfl-flux-lora"
    g = await client.run(lora.model, {"prompt": "x", "loras": [lora]})
    assert len(g.images) == 1
    assert g.inputs["loras"] == [{"path": lora.url, "scale": 1.0}]


async def test_cancelling_during_the_create_still_cancels_what_it_made(client, emulator):
    emulator.never_finish = True
    emulator.inject("slow", endpoint="create", seconds=1.0)
    task = asyncio.create_task(client.run(TURBO, {"prompt": "x"}))
    while emulator.stats.faults_pending:  # the create arrived; its answer is held back
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert emulator.stats.predictions_created == 1
    pid = emulator.stats.prediction_ids[0]
    assert (await client.get_prediction(pid)).status == "cancelled"
    assert client.journal.get(pid).status == "cancelled"


def test_the_sync_client_drives_the_same_core(emulator, tmp_path):
    from eachlabs_widgets import EachLabs

    with EachLabs(api_key="right-key", base_url=emulator.url, journal=False) as client:
        assert len(client.list_models("flux-2")) >= 7
        pid = client.create_prediction(TURBO, {"prompt": "x"})
        assert client.wait(pid, timeout=30).succeeded
        g = client.run(TURBO, {"prompt": "a fox", "num_images": 2}, save_to=str(tmp_path))
        assert len(g.images) == 2 and len(g.paths) == 2
        assert "right-key" not in repr(client)
