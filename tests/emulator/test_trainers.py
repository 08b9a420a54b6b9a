"""Trainers return LoRA weights that flux-2-lora can use."""

from __future__ import annotations

import io
import json
import struct

import httpx
from PIL import Image, ImageStat

from eachlabs_widgets.emulator import EMULATOR_BASE_URL

from .helpers import FakeClock, create, poll, run

ZIP = "https://example.com/faces.zip"


def train(client: httpx.Client, clock: FakeClock, slug: str = "z-image-trainer") -> dict:
    body = (
        run(client, clock, slug, image_data_url=ZIP)
        if slug == "z-image-trainer"
        else run(client, clock, slug, images_data_url=ZIP, trigger_phrase="TOK")
    )
    assert body["status"] == "success", body
    return body


def test_trainer_output_shape_and_safetensors(client: httpx.Client, clock: FakeClock) -> None:
    body = train(client, clock, "flux-lora-portrait-trainer")
    out = body["output"]
    weights = out["diffusers_lora_file"]
    assert weights["url"] == f"{EMULATOR_BASE_URL}/files/{body['id']}/0.safetensors"
    assert weights["file_name"].endswith(".safetensors")
    blob = client.get(weights["url"]).content
    assert weights["file_size"] == len(blob)
    (size,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + size])
    assert header["__metadata__"]["trigger_phrase"] == "TOK"
    tensors = {k: v for k, v in header.items() if k != "__metadata__"}
    assert tensors and all(v["dtype"] == "F16" for v in tensors.values())
    assert max(v["data_offsets"][1] for v in tensors.values()) == len(blob) - 8 - size
    config = client.get(out["config_file"]["url"])
    assert config.status_code == 200
    assert json.loads(config.content)["model"] == "flux-lora-portrait-trainer"
    assert body["metrics"]["cost"] > 0.5
    assert body["metrics"]["predict_time"] > 100


def test_trainers_take_minutes(client: httpx.Client, clock: FakeClock) -> None:
    pid = create(client, "flux-turbo-trainer", images_data_url=ZIP)
    clock.advance(60)
    assert poll(client, pid)["status"] == "processing"
    clock.advance(300)
    assert poll(client, pid)["status"] == "success"


def test_weights_are_deterministic_per_run(client: httpx.Client, clock: FakeClock) -> None:
    a = train(client, clock)["output"]["diffusers_lora_file"]["url"]
    b = train(client, clock)["output"]["diffusers_lora_file"]["url"]
    assert client.get(a).content == client.get(a).content
    assert client.get(a).content != client.get(b).content


def test_lora_changes_the_image(client: httpx.Client, clock: FakeClock) -> None:
    lora_url = train(client, clock)["output"]["diffusers_lora_file"]["url"]
    plain = run(client, clock, "flux-2-lora", prompt="portrait", seed=1, image_size="square")
    styled = run(
        client,
        clock,
        "flux-2-lora",
        prompt="portrait",
        seed=1,
        image_size="square",
        loras=[{"path": lora_url, "scale": 1.0}],
    )
    assert styled["status"] == "success", styled
    plain_img = Image.open(io.BytesIO(client.get(plain["output"][0]).content))
    styled_img = Image.open(io.BytesIO(client.get(styled["output"][0]).content))
    diff = [
        abs(a - b)
        for a, b in zip(
            ImageStat.Stat(plain_img).mean, ImageStat.Stat(styled_img).mean, strict=True
        )
    ]
    assert max(diff) > 3
    again = run(
        client,
        clock,
        "flux-2-lora",
        prompt="portrait",
        seed=1,
        image_size="square",
        loras=[{"path": lora_url, "scale": "1.0"}],
    )
    assert client.get(again["output"][0]).content == client.get(styled["output"][0]).content


def test_bad_lora_paths_fail(client: httpx.Client, clock: FakeClock) -> None:
    image_url = run(client, clock, "flux-2-flash-text-to-image", prompt="x")["output"][0]
    for path in ("user/some-hf-repo", image_url, "https://example.com/x.safetensors"):
        body = run(client, clock, "flux-2-lora", prompt="x", loras=[{"path": path, "scale": 1}])
        assert body["status"] == "error"
        output = body["output"]
        assert output["classification"] == {"category": "invalid_user_input"}
        assert "loras[0].path" in output["error_message"]


def test_lora_from_unfinished_trainer_fails(client: httpx.Client, clock: FakeClock) -> None:
    pid = create(client, "z-image-trainer", image_data_url=ZIP)
    url = f"{EMULATOR_BASE_URL}/files/{pid}/0.safetensors"
    assert client.get(url).status_code == 404
    body = run(client, clock, "flux-2-lora", prompt="x", loras=[{"path": url}])
    assert body["status"] == "error"


def test_trainer_without_archive_fails(client: httpx.Client, clock: FakeClock) -> None:
    body = run(client, clock, "z-image-trainer", steps=100)
    assert body["status"] == "error"
    assert "image_data_url" in body["output"]["error_message"]
    body = run(client, clock, "z-image-trainer", image_data_url="not a url")
    assert body["status"] == "error"
