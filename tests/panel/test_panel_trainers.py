"""Trainers in the panel: the Train button, the one upload area, the LoRA chip."""

from __future__ import annotations

from eachlabs_widgets.panel import Panel
from eachlabs_widgets.panel._widgets import RECOMMENDED_IMAGES

from .conftest import png


async def test_upload_area_counts_shows_thumbnails_and_warns(emulated):
    panel = Panel(model="flux-lora-portrait-trainer")
    await panel.ready()
    assert panel.generate_button.description.startswith("Train · ")
    assert panel.generate_button.icon == "graduation-cap"
    panel.training.take([(f"{i}.png", png((i * 30, 0, 0))) for i in range(3)])
    assert panel.training.count == 3
    assert len(panel.training.thumbs.children) == 3
    assert "3 images" in panel.training.status.value and "MB" in panel.training.status.value
    assert f"{RECOMMENDED_IMAGES} or more are recommended" in panel.training.warning.value
    panel.training.take([(f"{i}.png", png((0, i * 20, 0))) for i in range(12)])
    assert panel.training.count == 12 and panel.training.warning.value == ""
    assert len(panel.training.thumbs.children) == 12


async def test_lora_chip_shows_name_trigger_and_scale(emulated):
    panel = Panel(model="flux-2-lora")
    await panel.ready()
    assert panel.loras.layout.display == "none"  # no LoRA yet
    url = "https://files.example/weights/portrait.safetensors"
    panel.use_lora(url, {"trigger_phrase": "TOK"})
    await panel.ready()
    assert panel.loras.layout.display is None
    [chip] = panel.loras.children
    text, slider = chip.children
    assert "portrait.safetensors" in text.value and "TOK" in text.value
    assert panel.form.fields["loras"].spec.advanced  # the raw JSON is folded away
    slider.value = 0.6
    assert panel.form.value["loras"] == [{"path": url, "scale": 0.6}]
    assert panel.loras.children[0] is chip  # the chip stays while its slider moves
