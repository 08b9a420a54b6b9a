"""recall(): settings read back from our images, A1111, ComfyUI and InvokeAI files (written
here, as those tools write them), and from prediction ids; fitted to the model's schema."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image
from PIL.PngImagePlugin import PngInfo

import eachlabs_widgets as el

FLUX = "flux-2-turbo-text-to-image"
KLEIN = "flux-2-klein-9b-base-text-to-image"
IMAGEN = "imagen4-preview"

A1111 = (
    "masterpiece, a red fox in snow, <lora:fur:0.7>\n"
    "Negative prompt: lowres, bad anatomy\n"
    "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 1234567, Size: 1216x832, "
    'Model hash: 31e35c80fc, Model: sd_xl_base_1.0, Lora hashes: "fur: 1a2b"'
)


def a1111_png(path: Path, text: str = A1111) -> Path:
    info = PngInfo()
    info.add_text("parameters", text)
    Image.new("RGB", (1216, 832), "white").save(path, pnginfo=info)
    return path


def comfyui_png(path: Path) -> Path:
    graph = {
        "3": {
            "class_type": "KSampler",
            "inputs": {
                "seed": 424242,
                "steps": 25,
                "cfg": 4.0,
                "sampler_name": "euler",
                "scheduler": "normal",
                "denoise": 1,
                "model": ["4", 0],
                "positive": ["6", 0],
                "negative": ["7", 0],
                "latent_image": ["5", 0],
            },
        },
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sdxl.safetensors"}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 768, "height": 1344}},
        "6": {
            "class_type": "CLIPTextEncode",
            "inputs": {"text": "a castle on a hill", "clip": ["4", 1]},
        },
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "fog", "clip": ["4", 1]}},
        "9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0]}},
    }
    info = PngInfo()
    info.add_text("prompt", json.dumps(graph))
    info.add_text("workflow", json.dumps({"nodes": []}))
    Image.new("RGB", (768, 1344), "white").save(path, pnginfo=info)
    return path


def test_an_a1111_png_fits_a_model_with_steps_guidance_and_a_size_list(tmp_path: Path) -> None:
    r = el.recall(a1111_png(tmp_path / "a.png"), model=KLEIN)
    assert r.model == KLEIN and r.source == "a1111"
    assert r.inputs == {
        "prompt": "masterpiece, a red fox in snow, <lora:fur:0.7>",
        "negative_prompt": "lowres, bad anatomy",
        "seed": 1234567,
        "num_inference_steps": 30,
        "guidance_scale": 6.5,
        "image_size": "landscape_4_3",  # 1216x832 is nearest 4:3 among the presets
    }
    assert set(r.dropped) == {"Sampler", "Model hash", "Lora hashes"}


def test_what_the_model_lacks_is_dropped_with_why(tmp_path: Path) -> None:
    r = el.recall(a1111_png(tmp_path / "a.png"), model=IMAGEN)
    assert r.inputs["prompt"].startswith("masterpiece")
    assert r.inputs["seed"] == "1234567"  # this model's schema types its seed as a string
    assert r.inputs["aspect_ratio"] in ("3:2", "4:3", "16:9")
    assert r.inputs["negative_prompt"] == "lowres, bad anatomy"
    assert "steps" in r.dropped and IMAGEN in r.dropped["steps"]
    assert "cfg_scale" in r.dropped


def test_a_foreign_picture_without_an_eachlabs_model_asks_for_one(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="model="):
        el.recall(a1111_png(tmp_path / "a.png"))


def test_a_comfyui_png_gives_its_sampler_settings(tmp_path: Path) -> None:
    r = el.recall(comfyui_png(tmp_path / "c.png"), model=KLEIN)
    assert r.source == "comfyui"
    assert r.inputs["prompt"] == "a castle on a hill"
    assert r.inputs["negative_prompt"] == "fog"
    assert r.inputs["seed"] == 424242 and r.inputs["num_inference_steps"] == 25
    assert r.inputs["guidance_scale"] == 4.0
    assert r.inputs["image_size"] == "portrait_16_9"  # 768x1344 is 4:7, nearest 9:16
    assert set(r.dropped) >= {"sampler_name", "scheduler"}


def test_an_invokeai_png_gives_its_metadata(tmp_path: Path) -> None:
    meta = {
        "positive_prompt": "a koi pond",
        "negative_prompt": "",
        "seed": 99,
        "steps": 20,
        "cfg_scale": 7.5,
        "width": 1024,
        "height": 1024,
        "scheduler": "euler",
        "model": {"name": "juggernaut", "base": "sdxl"},
    }
    info = PngInfo()
    info.add_text("invokeai_metadata", json.dumps(meta))
    path = tmp_path / "i.png"
    Image.new("RGB", (64, 64)).save(path, pnginfo=info)
    r = el.recall(path, model=FLUX)
    assert r.source == "invokeai"
    assert r.inputs == {
        "prompt": "a koi pond",
        "seed": 99,
        "guidance_scale": 7.5,
        "image_size": "square_hd",
    }
    assert "steps" in r.dropped and "scheduler" in r.dropped


def test_our_own_image_is_read_exactly_from_the_file_alone(tmp_path: Path) -> None:
    g = el.generate(KLEIN, "a lighthouse", negative_prompt="fog", seed=5, image_size="square")
    for path in g.paths:
        copy = tmp_path / "elsewhere" / path.name
        copy.parent.mkdir(exist_ok=True)
        copy.write_bytes(path.read_bytes())  # no sidecar beside it
        r = el.recall(copy)
        assert (r.model, r.inputs, r.dropped, r.source) == (KLEIN, g.inputs, {}, "eachlabs")
        # and the same picture through A1111's text alone, as another tool would see it
        with Image.open(copy) as image:
            assert image.info["parameters"].startswith("a lighthouse\nNegative prompt: fog\n")


def test_our_webp_reads_from_its_sidecar(tmp_path: Path) -> None:
    g = el.generate(FLUX, "a kite", seed=8, output_format="webp")
    (path,) = g.paths
    assert path.suffix == ".webp"
    assert el.recall(path).inputs == g.inputs
    assert el.recall(path.read_bytes(), model=FLUX).source == "a1111"  # no sidecar: EXIF text


def test_an_id_or_a_short_id_or_a_generation(tmp_path: Path) -> None:
    g = el.generate(FLUX, "a barn owl", seed=11, guidance_scale=3.0)
    for source in (g, g.id, g.id[:8]):
        r = el.recall(source)
        assert (r.model, r.inputs, r.source) == (FLUX, g.inputs, "journal")
    other = el.recall(g.id, model=IMAGEN)
    assert other.inputs == {"prompt": "a barn owl", "seed": "11"}  # a string seed there
    assert other.dropped == {"guidance_scale": f"{IMAGEN} has no input 'guidance_scale'"}


def test_the_cell_runs_the_same_inputs(tmp_path: Path) -> None:
    r = el.recall(a1111_png(tmp_path / "a.png"), model=KLEIN)
    cell = r.cell()
    assert cell.startswith(f"%%eachgen {KLEIN} ")
    assert "--seed 1234567" in cell and "--image_size landscape_4_3" in cell
    assert cell.endswith("\nmasterpiece, a red fox in snow, <lora:fur:0.7>")


def test_what_cannot_be_read_says_so(tmp_path: Path) -> None:
    plain = tmp_path / "plain.png"
    Image.new("RGB", (8, 8)).save(plain)
    with pytest.raises(ValueError, match="holds no settings"):
        el.recall(plain, model=FLUX)
    with pytest.raises(FileNotFoundError):
        el.recall(tmp_path / "missing.png", model=FLUX)
    with pytest.raises(ValueError, match="not an image"):
        el.recall(io.BytesIO(b"nope").getvalue(), model=FLUX)
    with pytest.raises(el.PredictionNotFound):
        el.recall("no-such-prediction")
