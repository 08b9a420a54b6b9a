"""Output files: real, deterministic images; sizes, formats, counts and output shapes."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from PIL import Image, ImageStat

from eachlabs_widgets.emulator import EMULATOR_BASE_URL, Emulator
from eachlabs_widgets.emulator.imaging import render

from .helpers import FakeClock, create, poll, run

TURBO = "flux-2-turbo-text-to-image"


def urls(output: Any) -> list[str]:
    if isinstance(output, str):
        return [output]
    if isinstance(output, list):
        return [str(u) for u in output]
    if "images" in output:
        return [str(u) for u in output["images"]]
    return [str(output["image_url"])]


def fetch(client: httpx.Client, url: str) -> tuple[bytes, Image.Image]:
    response = client.get(url)
    assert response.status_code == 200, response.text
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return response.content, image


def first_image(client: httpx.Client, clock: FakeClock, model: str, **inputs: Any) -> Image.Image:
    body = run(client, clock, model, **inputs)
    assert body["status"] == "success", body
    return fetch(client, urls(body["output"])[0])[1]


def test_same_seed_same_bytes_different_seed_different_bytes(
    client: httpx.Client, clock: FakeClock
) -> None:
    a = run(client, clock, TURBO, prompt="a red fox", seed=42)
    b = run(client, clock, TURBO, prompt="a red fox", seed=42)
    c = run(client, clock, TURBO, prompt="a red fox", seed=43)
    assert a["output"] != b["output"]  # different predictions, different URLs
    bytes_a = fetch(client, a["output"][0])[0]
    assert bytes_a == fetch(client, b["output"][0])[0]
    assert bytes_a != fetch(client, c["output"][0])[0]


def test_determinism_across_emulators(clock: FakeClock) -> None:
    def make(seed: int | str) -> bytes:
        emu = Emulator(clock=clock, seed=99)  # a different emulator seed must not matter
        with httpx.Client(
            transport=emu.transport(), base_url=EMULATOR_BASE_URL, headers={"X-API-Key": "k"}
        ) as c:
            body = run(c, clock, TURBO, prompt="p", seed=seed, output_format="jpeg")
            return fetch(c, body["output"][0])[0]

    assert make(5) == make("5")  # string form of the same seed


def test_no_seed_gets_a_random_one(client: httpx.Client, clock: FakeClock) -> None:
    a = run(client, clock, TURBO, prompt="same prompt")
    b = run(client, clock, TURBO, prompt="same prompt")
    assert fetch(client, a["output"][0])[0] != fetch(client, b["output"][0])[0]


def test_images_look_photo_like(client: httpx.Client, clock: FakeClock) -> None:
    data, image = fetch(client, run(client, clock, TURBO, prompt="x", seed=1)["output"][0])
    assert image.mode == "RGB"
    stat = ImageStat.Stat(image)
    assert min(stat.stddev) > 15  # not a flat colour
    # Fine grain: neighbouring pixels differ, so the PNG does not collapse.
    assert len(data) > 300_000
    assert image.info.get("Software") == "eachlabs-widgets emulator"
    # The caption corner is dark with light text.
    corner = image.crop((0, image.height - 12, 200, image.height))
    assert ImageStat.Stat(corner.convert("L")).mean[0] < 100


def test_palette_follows_the_prompt(client: httpx.Client, clock: FakeClock) -> None:
    a = first_image(client, clock, TURBO, prompt="ocean", seed=3, image_size="square")
    b = first_image(client, clock, TURBO, prompt="desert", seed=3, image_size="square")
    mean_a, mean_b = ImageStat.Stat(a).mean, ImageStat.Stat(b).mean
    assert max(abs(x - y) for x, y in zip(mean_a, mean_b, strict=True)) > 3


@pytest.mark.parametrize(
    ("image_size", "size"),
    [
        ("square_hd", (1024, 1024)),
        ("square", (512, 512)),
        ("portrait_4_3", (768, 1024)),
        ("portrait_16_9", (576, 1024)),
        ("landscape_4_3", (1024, 768)),
        ("landscape_16_9", (1024, 576)),
    ],
)
def test_image_size_names(
    client: httpx.Client, clock: FakeClock, image_size: str, size: tuple[int, int]
) -> None:
    assert first_image(client, clock, TURBO, prompt="x", image_size=image_size).size == size


def test_schema_default_size(client: httpx.Client, clock: FakeClock) -> None:
    assert first_image(client, clock, TURBO, prompt="x").size == (1024, 768)  # landscape_4_3


def test_wxh_and_auto_sizes(client: httpx.Client, clock: FakeClock) -> None:
    gpt = first_image(
        client, clock, "gpt-image-v1-5-text-to-image", prompt="x", image_size="1024x1536"
    )
    assert gpt.size == (1024, 1536)
    seedream = "bytedance-seedream-v4-5-text-to-image"
    assert first_image(client, clock, seedream, prompt="x", image_size="auto_2K").size == (
        2048,
        2048,
    )
    assert first_image(client, clock, seedream, prompt="x", image_size="auto_4K").size == (
        2048,
        2048,
    )


@pytest.mark.parametrize(
    ("model", "inputs", "size"),
    [
        ("xai-grok-imagine-text-to-image", {"aspect_ratio": "1:1"}, (1024, 1024)),
        ("xai-grok-imagine-text-to-image", {"aspect_ratio": "16:9"}, (1360, 768)),
        ("imagen-4-fast", {"aspect_ratio": "9:16"}, (768, 1360)),
        ("nano-banana-pro", {"aspect_ratio": "16:9", "resolution": "2K"}, (2048, 1152)),
        ("nano-banana-pro", {"aspect_ratio": "1:1", "resolution": "4K"}, (2048, 2048)),
        ("reve-text-to-image", {}, (1360, 768)),  # schema default 16:9
        ("ideogram-v3-turbo", {"resolution": "640x1344"}, (640, 1344)),
        (
            "p-image-text-to-image",
            {"aspect_ratio": "custom", "width": 800, "height": 600},
            (800, 600),
        ),
        ("p-image-text-to-image", {"width": 640, "height": 960}, (640, 960)),
    ],
)
def test_aspect_ratio_resolution_and_width_height(
    client: httpx.Client,
    clock: FakeClock,
    model: str,
    inputs: dict[str, Any],
    size: tuple[int, int],
) -> None:
    assert first_image(client, clock, model, prompt="x", **inputs).size == size


def test_aspect_ratio_is_about_one_megapixel(client: httpx.Client, clock: FakeClock) -> None:
    image = first_image(
        client, clock, "gemini-3-pro-image-preview", prompt="x", aspect_ratio="21:9"
    )
    assert image.width > image.height
    assert 0.9e6 < image.width * image.height < 1.15e6


def test_custom_aspect_ratio_without_sides_fails(client: httpx.Client, clock: FakeClock) -> None:
    body = run(client, clock, "p-image-text-to-image", prompt="x", aspect_ratio="custom")
    assert body["status"] == "error"
    assert "width" in body["output"]["error_message"]


@pytest.mark.parametrize(
    ("fmt", "pil", "mime"),
    [("png", "PNG", "image/png"), ("jpeg", "JPEG", "image/jpeg"), ("webp", "WEBP", "image/webp")],
)
def test_formats(client: httpx.Client, clock: FakeClock, fmt: str, pil: str, mime: str) -> None:
    body = run(client, clock, TURBO, prompt="x", output_format=fmt, image_size="square")
    url = body["output"][0]
    assert url.endswith(f"/0.{fmt}")
    response = client.get(url)
    assert response.headers["content-type"] == mime
    assert Image.open(io.BytesIO(response.content)).format == pil


def test_format_defaults_follow_the_schema(client: httpx.Client, clock: FakeClock) -> None:
    assert run(client, clock, "flux-2-pro", prompt="x")["output"].endswith(".jpeg")
    jpg = run(client, clock, "imagen-4-fast", prompt="x")["output"]
    assert jpg.endswith(".jpg")
    assert Image.open(io.BytesIO(client.get(jpg).content)).format == "JPEG"
    assert run(client, clock, TURBO, prompt="x")["output"][0].endswith(".png")


def test_num_images_and_max_images(client: httpx.Client, clock: FakeClock) -> None:
    body = run(client, clock, TURBO, prompt="x", num_images=3, seed=9, image_size="square")
    assert len(body["output"]) == 3
    blobs = [client.get(u).content for u in body["output"]]
    assert len(set(blobs)) == 3  # each image differs
    wan = run(client, clock, "wan-v2-6-text-to-image", prompt="x", max_images=2)
    assert len(wan["output"]) == 2
    # Only as many files as the output lists.
    missing = client.get(body["output"][0].replace("/0.png", "/3.png"))
    assert missing.status_code == 404
    wrong_ext = client.get(body["output"][0].replace("/0.png", "/0.jpeg"))
    assert wrong_ext.status_code == 404


def test_cost_scales_with_images(client: httpx.Client, clock: FakeClock) -> None:
    one = run(client, clock, "xai-grok-imagine-text-to-image", prompt="x")
    four = run(client, clock, "xai-grok-imagine-text-to-image", prompt="x", num_images=4)
    assert four["metrics"]["cost"] == pytest.approx(4 * one["metrics"]["cost"])
    assert 0.005 <= one["metrics"]["cost"] <= 0.1


def test_output_shapes(client: httpx.Client, clock: FakeClock) -> None:
    pro = run(client, clock, "flux-2-pro", prompt="x")["output"]
    assert isinstance(pro, str) and pro.startswith(EMULATOR_BASE_URL + "/files/")
    hunyuan = run(client, clock, "hunyuan-image-v3-text-to-image", prompt="x", num_images=2, seed=4)
    assert set(hunyuan["output"]) == {"images", "seed"}
    assert len(hunyuan["output"]["images"]) == 2 and hunyuan["output"]["seed"] == 4
    # API.md, "Models": imagen-4-fast (and imagen4-preview) answer one plain URL string.
    for slug in ("imagen-4-fast", "imagen4-preview"):
        imagen = run(client, clock, slug, prompt="x")["output"]
        assert isinstance(imagen, str) and imagen.startswith(EMULATOR_BASE_URL + "/files/")
    listed = run(client, clock, "minimax-text-to-image", prompt="x")["output"]
    assert isinstance(listed, list) and listed[0].endswith(".jpeg")


def test_every_text_to_image_model_produces_a_fetchable_image(
    client: httpx.Client, clock: FakeClock, emu: Emulator
) -> None:
    emu.account_cap = None
    trainers = {"z-image-trainer", "flux-lora-portrait-trainer", "flux-turbo-trainer"}
    models = [m for m in client.get("/v1/models").json() if m["slug"] not in trainers]
    assert len(models) == 23
    pids = {m["slug"]: create(client, m["slug"], prompt="x") for m in models}
    clock.advance(60)
    for slug, pid in pids.items():
        body = poll(client, pid)
        assert body["status"] == "success", (slug, body["output"])
        assert client.head(urls(body["output"])[0]).status_code == 200


def test_files_exist_only_after_success(client: httpx.Client, clock: FakeClock) -> None:
    pid = create(client, TURBO, prompt="x")
    url = f"{EMULATOR_BASE_URL}/files/{pid}/0.png"
    assert client.get(url).status_code == 404
    clock.advance(10)
    assert client.get(url).status_code == 200
    assert client.get(f"{EMULATOR_BASE_URL}/files/nope/0.png").status_code == 404


def test_files_need_no_key(client: httpx.Client, clock: FakeClock, emu: Emulator) -> None:
    url = run(client, clock, TURBO, prompt="x", image_size="square")["output"][0]
    with httpx.Client(transport=emu.transport()) as anon:
        assert anon.get(url).status_code == 200


def test_output_404_switch(client: httpx.Client, clock: FakeClock, emu: Emulator) -> None:
    url = run(client, clock, TURBO, prompt="x", image_size="square")["output"][0]
    emu.output_404 = True
    assert client.get(url).status_code == 404
    emu.output_404 = False
    assert client.get(url).status_code == 200


def test_cache_is_bounded(clock: FakeClock) -> None:
    emu = Emulator(clock=clock, cache_bytes=1_000_000)
    with httpx.Client(
        transport=emu.transport(), base_url=EMULATOR_BASE_URL, headers={"X-API-Key": "k"}
    ) as c:
        body = run(c, clock, TURBO, prompt="x", num_images=4, image_size="square", seed=1)
        first = [c.get(u).content for u in body["output"]]
        again = [c.get(u).content for u in body["output"]]
    assert first == again  # regenerated after eviction, still identical
    assert emu._state.cache.size <= 1_000_000 or len(emu._state.cache._items) == 1


# -- what a person sees in a thumbnail ---------------------------------------------------------


@pytest.mark.parametrize("size", [(1024, 1024), (1024, 576), (576, 1024), (2048, 2048)])
def test_the_emulator_stamp_is_readable_in_a_256_px_thumbnail(size: tuple[int, int]) -> None:
    from PIL import ImageDraw

    from eachlabs_widgets.emulator.imaging import STAMP, _font, stamp_size

    width, height = size
    font = _font(stamp_size(width, height))
    draw = ImageDraw.Draw(Image.new("RGB", (10, 10)))
    _, top, _, bottom = draw.textbbox((0, 0), "E", font=font)
    scale = 256 / height  # a thumbnail 256 px high
    assert (bottom - top) * scale >= 10
    assert draw.textlength(STAMP, font=font) < width  # the whole word fits


def test_the_stamp_is_drawn_where_it_says() -> None:
    image = render(1024, 1024, seed=1, palette_seed=2, caption="EachLabs emulator · m")
    corner = image.crop((0, 900, 300, 1024)).convert("L")
    values = corner.tobytes()  # one byte per pixel in mode "L"
    light = sum(1 for v in values if v > 230)
    dark = sum(1 for v in values if v < 20)
    assert light > 1500 and dark > 10_000  # white letters on a black band


def test_pictures_follow_the_prompt_and_the_inputs() -> None:
    def picture(prompt: str, seed: int) -> Image.Image:
        return render(512, 512, seed=seed, palette_seed=7, caption="c", words=prompt)

    base = picture("a red fox in snow", 1)
    other_words = picture("a lighthouse at dusk", 1)
    other_seed = picture("a red fox in snow", 2)

    def difference(a: Image.Image, b: Image.Image) -> float:
        from PIL import ImageChops

        return sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3

    middle = (0, 170, 512, 342)
    # the words differ, visibly in the middle
    assert difference(base.crop(middle), other_words.crop(middle)) > 4
    assert difference(base, other_seed) > 15  # another input: another picture
    assert picture("a red fox in snow", 1).tobytes() == base.tobytes()  # still deterministic
