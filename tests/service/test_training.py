"""LoRA training end to end against the emulator, and the uploads it makes: made to fit,
deleted when the trainer ends, asked a short retention; data: URIs and localhost URLs."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import warnings

import httpx
import pytest
from PIL import Image

import eachlabs_widgets as el
from eachlabs_widgets import InputValidationError, PredictionFailedError
from eachlabs_widgets._embedded import shared_emulator
from eachlabs_widgets._schema import trainset
from eachlabs_widgets._service import uploads
from eachlabs_widgets._settings import configure, reset_configuration
from eachlabs_widgets.emulator import Emulator, load_catalog, serve
from eachlabs_widgets.emulator.lora import read_header
from eachlabs_widgets.emulator.predictions import CLASSIFICATIONS

WAN = "wan-v2-6-text-to-image"
SLOW = 1.0  # a trainer takes minutes: long enough to cancel it


@pytest.fixture
def emulated(tmp_path, monkeypatch):
    """The embedded emulator, fast, with outputs saved under tmp_path and no live card."""
    monkeypatch.setenv("EACHLABS_BASE_URL", "emulator")
    monkeypatch.setenv("EACHLABS_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("EACHLABS_CARD", "0")
    emu = shared_emulator()
    before = emu.speed
    emu.speed = 0.002
    yield emu
    emu.speed = before
    emu.failure = None


def photos(count: int = 3, size=(2000, 1500)) -> list[Image.Image]:
    return [Image.new("RGB", size, (40 * i, 90, 160)) for i in range(count)]


def png_bytes(size=(24, 24)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (1, 2, 3)).save(buffer, format="PNG")
    return buffer.getvalue()


def served(emu: Emulator, url: str) -> int:
    """The status the emulator answers for an uploaded file's public URL."""
    return emu.request("GET", "/uploads/" + url.split("/uploads/", 1)[1]).status


def count(emu: Emulator, endpoint: str) -> int:
    return emu.stats.requests.get(endpoint, 0)


class Recording(httpx.AsyncBaseTransport):
    """The emulator's transport, recording requests; ``change`` may rewrite an answer."""

    def __init__(self, emu: Emulator, change=None) -> None:
        self.inner = emu.transport()
        self.sent: list[tuple[str, str, bytes]] = []
        self.change = change

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        self.sent.append((request.method, request.url.path, body))
        response = await self.inner.handle_async_request(request)
        if self.change is not None:
            await response.aread()
            return self.change(request, response)
        return response

    def bodies(self, path: str) -> list[dict]:
        return [json.loads(b) for m, p, b in self.sent if p == path]


def test_train_end_to_end_then_the_lora_goes_to_its_family(emulated, tmp_path):
    files_before = count(emulated, "files")
    created = emulated.stats.predictions_created
    g = el.train("flux-turbo-trainer", photos(), steps=100)

    # the zip filled the trainer's own input, and the LoRA is the table's
    assert set(g.inputs) >= {"images_data_url", "steps"}
    lora = g.lora
    assert isinstance(lora, el.Lora)
    assert lora.model == "bfl-flux-lora" and lora.trigger == "ohwx" and lora.scale == 1.0
    assert lora.url.endswith(".safetensors") and lora.trainer == "flux-turbo-trainer"
    # no request went to the weights (nor to any file: the answer names only the weights)
    assert count(emulated, "files") == files_before
    # the training photos are gone from the service
    assert served(emulated, g.inputs["images_data_url"]) == 404
    assert uploads.pending() == []

    # a LoRA given to a model of another family is refused before anything is sent
    with pytest.raises(InputValidationError, match="'bfl-flux-lora'") as info:
        el.generate("flux-2-lora", "a portrait", loras=[lora])
    assert info.value.fields == ["loras"]
    assert emulated.stats.predictions_created == created + 1

    # the weights come only on request
    files_before = count(emulated, "files")  # (served() above asked for the upload)
    path = lora.download(tmp_path)
    assert path.name == "0.safetensors" and read_header(path.read_bytes())["__metadata__"]
    assert count(emulated, "files") == files_before + 1

    if "bfl-flux-lora" not in {m["slug"] for m in load_catalog()}:
        pytest.skip("the emulator does not serve bfl-flux-lora yet")
    used = el.generate("bfl-flux-lora", "a portrait", loras=[lora])
    assert used.inputs["prompt"] == "ohwx, a portrait"
    assert used.inputs["loras"] == [{"path": lora.url, "scale": 1.0}]
    assert used.images


def test_z_image_trainer_fills_image_data_url(emulated):
    g = el.train("z-image-trainer", [png_bytes(), png_bytes((30, 30))], steps=10)
    assert "image_data_url" in g.inputs
    assert g.lora is not None and g.lora.model == "z-image-turbo-lora"
    assert g.lora.trigger is None
    assert served(emulated, g.inputs["image_data_url"]) == 404


def test_a_failed_training_still_deletes_the_photos(emulated):
    emulated.failure = sorted(CLASSIFICATIONS)[0]
    presigned = count(emulated, "presign")
    deleted = count(emulated, "delete")
    with pytest.raises(PredictionFailedError):
        el.train("flux-lora-portrait-trainer", photos(2), steps=10)
    assert count(emulated, "presign") == presigned + 1
    assert count(emulated, "delete") == deleted + 1
    assert uploads.pending() == []


async def test_a_cancelled_training_still_deletes_the_photos(emulated):
    emulated.speed = SLOW
    created = emulated.stats.predictions_created
    deleted = count(emulated, "delete")
    task = asyncio.create_task(el.atrain("flux-turbo-trainer", photos(2), steps=10))
    for _ in range(500):
        if emulated.stats.predictions_created > created:
            break
        await asyncio.sleep(0.01)
    [upload] = uploads.pending()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert count(emulated, "delete") == deleted + 1
    assert served(emulated, upload.url) == 404
    assert el.history(1)[0].status == "cancelled"


def test_keep_uploads_then_delete_upload(emulated):
    g = el.train("flux-turbo-trainer", photos(1), keep_uploads=True, steps=10)
    url = g.inputs["images_data_url"]
    assert served(emulated, url) == 200 and uploads.pending() == []
    el.delete_upload(url)
    assert served(emulated, url) == 404
    el.delete_upload(url)  # already gone: fine


def test_an_oversize_training_set_is_refused_before_any_upload(emulated, monkeypatch):
    monkeypatch.setattr(trainset, "UPLOAD_LIMIT", 500_000)
    images = [Image.frombytes("RGB", (300, 300), os.urandom(300 * 300 * 3)) for _ in range(4)]
    presigned = count(emulated, "presign")
    with pytest.raises(InputValidationError) as info:
        el.train("flux-turbo-trainer", images)
    assert info.value.fields == ["images_data_url"]
    assert "0.5 MB upload limit" in str(info.value) and "drop at least 3 of its 4" in str(
        info.value
    )
    assert count(emulated, "presign") == presigned


def test_a_model_that_is_not_a_trainer_is_refused(emulated):
    with pytest.raises(InputValidationError, match="flux-2-pro is not a trainer"):
        el.train("flux-2-pro", photos(1))


async def test_a_presign_answer_without_id_warns_and_goes_on(emulated):
    def no_id(request, response):
        if request.url.path == "/v1/upload/presign":
            body = response.json()
            body.pop("id")
            return httpx.Response(200, json=body)
        return response

    recording = Recording(emulated, no_id)
    client = el.AsyncEachLabs(base_url="emulator", transport=recording)
    with pytest.warns(UserWarning, match="cannot be deleted"):
        payload = await client.prepare_input(
            "flux-turbo-trainer", {"images_data_url": trainset.training_zip([png_bytes()])}
        )
    g = await client.run("flux-turbo-trainer", payload)
    assert g.lora is not None
    assert not [m for m, _p, _b in recording.sent if m == "DELETE"]
    await client.aclose()


async def test_uploads_for_a_generation_ask_a_short_retention(emulated, monkeypatch):
    recording = Recording(emulated)
    client = el.AsyncEachLabs(base_url="emulator", transport=recording)
    await client.prepare_input(WAN, {"prompt": "x", "image_url": png_bytes()})
    monkeypatch.setenv("EACHLABS_UPLOAD_EXPIRY", "3600")
    await client.prepare_input(WAN, {"prompt": "x", "image_url": png_bytes()})
    try:
        configure(upload_expiry=120)
        await client.prepare_input(WAN, {"prompt": "x", "image_url": png_bytes()})
    finally:
        reset_configuration()
    asked = [b["expires_in_seconds"] for b in recording.bodies("/v1/upload/presign")]
    assert asked == [86_400, 3600, 120]
    # client.upload() of your own keeps the service's retention unless you ask
    await client.upload(png_bytes())
    assert "expires_in_seconds" not in recording.bodies("/v1/upload/presign")[-1]
    await client.aclose()
    with pytest.raises(el.ConfigurationError, match="from 60 to 31536000"):
        configure(upload_expiry=10)


async def test_a_data_uri_is_uploaded_like_a_file(emulated):
    data = png_bytes()
    uri = "data:image/png;base64," + base64.b64encode(data).decode()
    client = el.AsyncEachLabs(base_url="emulator")
    presigned = count(emulated, "presign")
    g = await client.run(WAN, {"prompt": "x", "image_url": uri})
    url = g.inputs["image_url"]
    assert url.startswith("http") and "/uploads/" in url
    assert count(emulated, "presign") == presigned + 1
    answer = emulated.request("GET", "/uploads/" + url.split("/uploads/", 1)[1])
    assert answer.body == data
    with pytest.raises(InputValidationError, match="image_url: cannot read"):
        await client.prepare_input(WAN, {"prompt": "x", "image_url": "data:image/png;base64,@@"})


async def test_a_localhost_url_is_refused_when_the_service_is_elsewhere(emulated):
    remote = el.AsyncEachLabs(base_url="https://api.example.com", transport=emulated.transport())
    for url in ("http://localhost:8888/files/cat.png", "http://127.0.0.1/x.png", "http://[::1]/a"):
        with pytest.raises(InputValidationError, match="on this machine") as info:
            await remote.prepare_input(WAN, {"prompt": "x", "image_url": url})
        assert info.value.fields == ["image_url"]
    await remote.aclose()
    # the embedded emulator is on this machine: it can fetch it
    local = el.AsyncEachLabs(base_url="emulator")
    url = "http://localhost:8888/cat.png"
    assert (await local.prepare_input(WAN, {"prompt": "x", "image_url": url}))["image_url"] == url


async def test_urls_the_service_returned_are_sent_as_they_are(tmp_path):
    emu = Emulator(speed=0.002)
    with serve(emu) as server:  # on loopback: its files are at 127.0.0.1
        client = el.AsyncEachLabs(api_key="k", base_url=server.url, journal=False)
        first = await client.run("flux-2-turbo-text-to-image", {"prompt": "x"})
        second = await client.run(WAN, {"prompt": "y", "image_url": first.urls[0]})
        assert second.inputs["image_url"] == first.urls[0]


async def test_delete_upload_says_when_the_file_is_still_processing(emulated):
    def busy(request, response):
        if request.method == "DELETE":
            return httpx.Response(409, json={"error": "file is processing"})
        return response

    client = el.AsyncEachLabs(base_url="emulator", transport=Recording(emulated, busy))
    with pytest.raises(el.APIError, match="still being processed") as info:
        await client.delete_upload("https://cdn-us.eachlabs.ai/uploads/abc-123.png")
    assert info.value.status_code == 409
    await client.aclose()


def test_uploads_left_by_a_background_run_are_deleted_at_exit(emulated):
    client = el.AsyncEachLabs(base_url="emulator")
    made = el._service.sync.run_sync(client._upload(trainset.training_zip([png_bytes()])))
    uploads.register(made, lambda left: None)
    assert served(emulated, made.url) == 200
    from eachlabs_widgets._service.client import _delete_left_at_exit

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _delete_left_at_exit(uploads.pending())
    assert served(emulated, made.url) == 404 and uploads.pending() == []


async def test_a_large_upload_shows_progress_and_arrives_whole(emulated, capsys, monkeypatch):
    monkeypatch.setattr(uploads, "_CHUNK", 1000)  # several chunks from a small file
    data = os.urandom(5500)
    client = el.AsyncEachLabs(base_url="emulator")
    url = await client.upload(data, "application/zip", progress=True)
    assert emulated.request("GET", "/uploads/" + url.split("/uploads/", 1)[1]).body == data
    assert "uploading" in capsys.readouterr().err


def test_progress_only_for_large_uploads_in_a_terminal(monkeypatch):
    class Terminal:
        def __init__(self, tty: bool) -> None:
            self.tty = tty

        def isatty(self) -> bool:
            return self.tty

    monkeypatch.setattr("sys.stderr", Terminal(True))
    assert uploads.show_progress(uploads.PROGRESS_FROM, None)
    assert not uploads.show_progress(uploads.PROGRESS_FROM - 1, None)
    monkeypatch.setattr("sys.stderr", Terminal(False))
    assert not uploads.show_progress(10 * uploads.PROGRESS_FROM, None)  # a log, a notebook
    assert uploads.show_progress(1, True)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://cdn-us.eachlabs.ai/uploads/3f2a-11.png", "3f2a-11"),
        ("https://cdn-us.eachlabs.ai/uploads/3f2a-11.zip?sig=x", "3f2a-11"),
        (" 3f2a-11 ", "3f2a-11"),
    ],
)
def test_an_upload_is_named_by_its_url_or_id(given, expected):
    assert uploads.file_id_of(given) == expected


async def test_only_what_was_checked_is_sent(emulated):
    client = el.AsyncEachLabs(base_url="emulator")
    g = await client.run(WAN, {"prompt": "x", "image_url": None, "seed": 3})
    assert "image_url" not in g.inputs and g.seed == 3


def test_a_zip_already_at_a_url_is_sent_as_it_is(emulated):
    client = el.EachLabs(base_url="emulator")
    url = client.upload(trainset.training_zip([png_bytes()]).data, "application/zip")
    presigned, deleted = count(emulated, "presign"), count(emulated, "delete")
    g = el.train("flux-turbo-trainer", url, steps=10)
    assert g.inputs["images_data_url"] == url and g.lora is not None
    # nothing uploaded for this run, and what it did not upload is not deleted
    assert (count(emulated, "presign"), count(emulated, "delete")) == (presigned, deleted)


async def test_weights_of_any_model_are_never_downloaded(emulated):
    # a model outside the table answering weights beside its picture: the weights URL
    # points nowhere, so fetching it would fail the run
    weights = "https://weights.invalid/files/w/pytorch_lora_weights.safetensors"

    def with_weights(request, response):
        body = (
            response.json()
            if response.headers.get("content-type", "").startswith("application/json")
            else None
        )
        if request.method == "GET" and isinstance(body, dict) and body.get("status") == "success":
            body["output"] = [*body["output"], weights]
            return httpx.Response(200, json=body)
        return response

    recording = Recording(emulated, with_weights)
    client = el.AsyncEachLabs(base_url="emulator", transport=recording)
    g = await client.run("flux-2-turbo-text-to-image", {"prompt": "x"})
    assert weights in g.urls and len(g.images) == 1 and g.lora is None
    assert not [p for _m, p, _b in recording.sent if p.endswith(".safetensors")]
    assert [p for _m, p, _b in recording.sent if p.endswith(".png")]  # the picture came
    await client.aclose()


async def test_a_file_over_the_upload_limit_is_refused_before_upload(emulated, monkeypatch):
    from eachlabs_widgets._service import client as _client

    monkeypatch.setattr(_client, "UPLOAD_LIMIT", 1000)
    presigned = count(emulated, "presign")
    client = el.AsyncEachLabs(base_url="emulator")
    with pytest.raises(InputValidationError, match=r"over the service's 0\.001 MB upload limit"):
        await client.prepare_input(
            "flux-turbo-trainer",
            {"images_data_url": el.LocalMedia(b"PK\x03\x04" * 500, "application/zip")},
        )
    assert count(emulated, "presign") == presigned


def test_an_upload_record_never_shows_the_key():
    from eachlabs_widgets._settings import Secret

    made = uploads.Uploaded(
        "https://cdn.example/uploads/a.zip", "a", "https://x", Secret("smk_s3cr3t")
    )
    assert "smk_s3cr3t" not in repr(made) and "smk_s3cr3t" not in str(made)
