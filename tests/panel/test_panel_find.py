"""The panel's history strip: search box and starred filter, stars, Download all (the
browser's requests, answered as ``handle`` answers them)."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile

import eachlabs_widgets as el
from eachlabs_widgets._journal.journal import default_journal
from eachlabs_widgets.panel._strip import ResultStrip

FLUX = "flux-2-turbo-text-to-image"


def test_search_star_and_download_all(emulated) -> None:
    fox = el.generate(FLUX, "a red fox in snow", seed=1, card=False)
    owl = el.generate(FLUX, "a barn owl", seed=2, card=False)
    strip = ResultStrip()
    strip.add_history(default_journal().entries())
    assert [i["key"].split(":")[0] for i in strip.items] == [owl.id, fox.id]
    assert not any(i["starred"] for i in strip.items)

    reply, _ = strip.handle({"type": "search", "text": "fo", "starred": False})
    assert reply == {"type": "searched", "count": 1}
    assert [i["key"] for i in strip.items] == [f"{fox.id}:0"]

    strip.handle({"type": "star", "key": f"{fox.id}:0", "on": True})
    assert strip.items[0]["starred"] is True
    assert default_journal().get(fox.id).starred  # type: ignore[union-attr]

    strip.handle({"type": "search", "text": "", "starred": True})
    assert [i["key"] for i in strip.items] == [f"{fox.id}:0"]
    strip.handle({"type": "search", "text": "", "starred": False})
    assert len(strip.items) == 2  # both shown again

    strip.handle({"type": "search", "text": "owl", "starred": False})
    reply, (data,) = strip.handle({"type": "zip"})
    assert reply["name"].endswith(".zip") and reply["error"] == ""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        meta = [json.loads(line) for line in archive.read("metadata.jsonl").decode().splitlines()]
        assert "contact_sheet.png" in archive.namelist()
    assert [m["prompt"] for m in meta] == ["a barn owl"]  # what is shown, only

    strip.handle({"type": "search", "text": "zebra", "starred": False})
    assert strip.items == []
    reply, (data,) = strip.handle({"type": "zip"})
    assert data == b"" and "nothing to export" in reply["error"]


async def test_the_stage_has_a_star_kept_in_the_journal(emulated) -> None:
    from eachlabs_widgets.panel import Panel

    panel = Panel(model=FLUX, value={"prompt": "a paper crane", "seed": 3})
    await panel.ready()
    panel.generate()
    await panel.wait()
    (made,) = panel.generations
    star = panel.viewer.star_button
    assert star in panel.viewer.actions.children and star.value is False
    star.value = True
    assert star.description == "Starred"
    assert default_journal().get(made.id).starred  # type: ignore[union-attr]
    key = f"{made.id}:0"
    assert panel.strip.shots[key].starred  # the history's tile shows it too
    star.value = False
    assert not default_journal().get(made.id).starred  # type: ignore[union-attr]


async def test_an_image_dropped_on_the_panel_fills_its_form(emulated) -> None:
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    from eachlabs_widgets.panel import Panel

    klein = "flux-2-klein-9b-base-text-to-image"
    panel = Panel(model=klein)
    await panel.ready()
    info = PngInfo()
    info.add_text(
        "parameters",
        "a koi pond\nNegative prompt: murky\nSteps: 12, Sampler: Euler, CFG scale: 5, "
        "Seed: 77, Size: 1024x576",
    )
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buffer, "PNG", pnginfo=info)
    data = buffer.getvalue()
    drop = panel.recall_drop
    drop.handle({"type": "begin", "batch": "b", "files": [{"name": "koi.png", "size": len(data)}]})
    drop.handle({"type": "chunk", "batch": "b", "file": 0, "offset": 0}, [data])
    drop.handle({"type": "end", "batch": "b"})
    await panel.wait()
    for _ in range(200):
        if panel.form is not None and panel.form.value.get("prompt") == "a koi pond":
            break
        await asyncio.sleep(0.02)
    assert panel.form is not None
    value = panel.form.value
    assert value["prompt"] == "a koi pond" and value["negative_prompt"] == "murky"
    assert value["seed"] == 77 and value["num_inference_steps"] == 12
    assert value["image_size"] == "landscape_16_9"
    assert "Sampler" in panel.message.value and "koi.png" in panel.message.value

    # our own image: its own model and inputs, exactly
    made = el.generate(FLUX, "a paper boat", seed=5, card=False)
    panel.recall_image(made.paths[0].read_bytes(), made.paths[0].name)
    for _ in range(200):
        if panel.model == FLUX and panel.form is not None and panel.form.value.get("seed") == 5:
            break
        await asyncio.sleep(0.02)
    assert panel.model == FLUX and panel.form is not None
    assert {k: panel.form.value[k] for k in made.inputs} == made.inputs

    panel.recall_image(b"not an image", "x.png")
    assert "x.png" in panel.message.value and "not an image" in panel.message.value


def test_a_session_only_strip_searches_among_its_own_runs(emulated) -> None:
    earlier = el.generate(FLUX, "an earlier red fox", seed=1, card=False)
    mine = el.generate(FLUX, "my red fox", seed=2, card=False)
    strip = ResultStrip()
    strip.from_journal = False
    strip.add(mine)
    strip.handle({"type": "search", "text": "fox", "starred": False})
    assert [i["key"] for i in strip.items] == [f"{mine.id}:0"]
    assert earlier.id not in {s.run_id for s in strip.shots.values()}
