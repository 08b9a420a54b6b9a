"""The panel's results and spending against the in-process emulator: the stage, Save, the
strip's lightbox and Compare answers, history across sessions, the static snapshot, prices,
the session's spend and ``confirm_above``."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from eachlabs_widgets import history
from eachlabs_widgets.emulator import EMULATOR_BASE_URL
from eachlabs_widgets.panel import Panel
from eachlabs_widgets.panel._pricing import PriceBook, format_price, images_asked
from eachlabs_widgets.panel._strip import differences

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
TURBO = "flux-2-turbo-text-to-image"


async def finished_panel(**inputs) -> Panel:
    panel = Panel(model=TURBO, value={"prompt": "a red fox", **inputs})
    await panel.ready()
    panel.generate_button.click()
    await panel.wait()
    return panel


async def test_save_writes_the_image_shown_once(emulated, tmp_path, monkeypatch):
    monkeypatch.setenv("EACHLABS_OUTPUT_DIR", "")  # automatic saving off: Save writes
    panel = await finished_panel(num_images=2)
    [generation] = panel.generations
    assert generation.paths == []
    panel.strip.handle({"type": "select", "key": f"{generation.id}:1"})
    path = panel.save()
    assert path is not None and path.name.endswith("_1.png")
    assert panel.save() == path  # twice: nothing new written
    folder = tmp_path / "eachgen_outputs"
    assert sorted(p.name for p in folder.iterdir()) == [path.name, path.name + ".json"]
    assert "Already saved" in panel.viewer.note.value
    assert Image.open(path).size == generation.images[1].size


async def test_save_of_an_automatically_saved_image_points_to_it(emulated, tmp_path):
    panel = await finished_panel()
    [generation] = panel.generations
    files_before = sorted((tmp_path / "eachgen_outputs").iterdir())
    assert panel.save() == generation.paths[0]
    assert sorted((tmp_path / "eachgen_outputs").iterdir()) == files_before


async def test_lightbox_and_compare_answers(emulated):
    panel = await finished_panel(num_images=2, seed=5)
    panel.form.update({"seed": 6, "prompt": "a blue fox"})
    panel.generate_button.click()
    await panel.wait()
    first, second = panel.generations
    keys = [item["key"] for item in panel.strip.items]
    assert keys == [f"{second.id}:0", f"{second.id}:1", f"{first.id}:0", f"{first.id}:1"]
    assert panel.strip.position(keys[2]) == (3, 4)  # "View image 3 of 4"

    reply, buffers = panel.strip.handle({"type": "thumbs", "keys": keys[:2]})
    assert reply["keys"] == keys[:2] and all(b[:2] == b"\xff\xd8" for b in buffers)
    thumb = Image.open(io.BytesIO(buffers[0]))
    assert thumb.height == 96 and thumb.width < second.images[0].width

    reply, [data] = panel.strip.handle({"type": "full", "key": keys[3]})
    assert data == [o for o in first.outputs if o.is_image][1].data  # the file as made
    assert reply["mime"] == "image/png" and reply["name"].endswith(f"{first.id[:12]}_1.png")

    reply, pair = panel.strip.handle({"type": "compare", "keys": [keys[0], keys[2]]})
    diff = {name: (a, b) for name, a, b in reply["diff"]}
    assert diff["seed"] == ("6", "5") and diff["prompt"] == ("a blue fox", "a red fox")
    assert "image_size" not in diff and len(pair) == 2

    panel.strip.handle({"type": "select", "key": keys[3]})
    assert panel.viewer.generation is first and panel.viewer.index == 1


def test_differences_list_only_what_differs():
    assert differences({"a": 1, "b": [1, 2]}, {"a": 1, "b": [1, 3], "c": "x"}) == [
        ("b", "[1, 2]", "[1, 3]"),
        ("c", "—", "x"),
    ]


async def test_history_from_the_journal_across_sessions(emulated):
    earlier = await finished_panel(seed=77, num_images=1)
    [old] = earlier.generations
    panel = Panel(model="imagen-4-fast")  # a new session: same journal
    await panel.ready()
    keys = [item["key"] for item in panel.strip.items]
    assert keys[0] == f"{old.id}:0"  # newest first
    _reply, [thumb] = panel.strip.handle({"type": "thumbs", "keys": keys[:1]})
    assert thumb[:2] == b"\xff\xd8"  # made from the saved file
    panel.strip.handle({"type": "load", "key": keys[0]})
    await panel.ready()
    assert panel.model == TURBO and panel.form.value == old.inputs  # seed included
    assert panel.form.value["seed"] == 77
    panel.strip.handle({"type": "select", "key": keys[0]})
    assert panel.viewer.generation is not None and panel.viewer.generation.id == old.id
    assert history()[0].id == old.id


async def test_snapshot_is_the_static_result(emulated):
    """The static copy is an output of its own holding HTML only: a front end that ranks the
    widget's type first (JupyterLab) still shows it once the kernel is gone."""
    panel = await finished_panel()
    widget = panel._repr_mimebundle_()
    assert WIDGET_MIME in widget and "text/html" not in widget
    assert "Panel(children" not in widget["text/plain"]
    copy = panel.snapshot_bundle()
    assert WIDGET_MIME not in copy and set(copy) == {"text/plain", "text/html"}
    html = copy["text/html"]
    assert "1 result" in html and "<img src='data:image/jpeg;base64," in html
    assert panel.generations[0].id in html and "a red fox" in html
    # the class the live panel hides (its stylesheet rule is made from the same trait)
    assert panel.snapshot_class in html
    assert panel.shortcuts.snapshot == panel.snapshot_class


async def test_price_unknown_until_seen_then_estimated_and_spent(emulated):
    panel = Panel(model=TURBO, value={"prompt": "x", "num_images": 2})
    await panel.ready()
    assert panel.generate_button.description == "Generate · price unknown"
    assert "$0" in panel.spend.value
    panel.generate_button.click()
    assert "1 running" in panel.generate_button.description
    await panel.wait()
    [generation] = panel.generations
    assert generation.cost is not None and generation.cost > 0
    per_image = generation.cost / 2
    assert panel.estimate() == per_image * 2
    assert panel.generate_button.description == f"Generate · {format_price(per_image * 2)}"
    panel.form.update({"num_images": 4})
    assert panel.generate_button.description == f"Generate · {format_price(per_image * 4)}"
    assert format_price(generation.cost) in panel.spend.value and "1 run" in panel.spend.value
    entry = panel.picker.entry(TURBO)
    assert entry is not None and entry["price"] == f"{format_price(per_image)} / image"
    assert entry["duration"].startswith("~")


async def test_confirm_above_asks_before_a_costly_run(emulated):
    panel = await finished_panel()
    created = emulated.stats.predictions_created
    panel.confirm_above = 0.0001
    assert panel.generate() is None
    assert panel.confirm_box.layout.display is None and "estimated" in panel.confirm_text.value
    assert emulated.stats.predictions_created == created  # nothing sent
    panel.confirm_no.click()
    assert panel.confirm_box.layout.display == "none" and panel.running == 0
    panel.generate()
    panel.confirm_yes.click()
    assert panel.running == 1
    await panel.wait()
    assert len(panel.generations) == 2


def test_price_book_from_journal_rows():
    class Row:
        def __init__(self, model, cost, files, status="success"):
            self.model, self.status, self.inputs = model, status, {}
            self.metrics, self.files, self.urls = {"cost": cost}, files, []

    book = PriceBook()
    book.learn_journal([Row("m", 0.03, ["a", "b"]), Row("m", 0.5, ["a"]), Row("z", 0, ["a"])])
    assert book.per_image("m") == 0.015  # the newest row wins
    assert book.per_image("z") is None  # a zero is not a price
    assert book.estimate("m", {"num_images": 3}) == 0.045
    assert images_asked({"max_images": 2}) == 2 and images_asked({}) == 1
    assert format_price(None) == "price unknown"


async def test_a_services_field_error_is_shown_on_the_field(emulated):
    panel = Panel(
        model="flux-2-lora",
        # weights the emulator serves no file for: the provider cannot load them
        value={"prompt": "x", "loras": [{"path": f"{EMULATOR_BASE_URL}/files/nope/0.safetensors"}]},
    )
    await panel.ready()
    panel.generate_button.click()
    await panel.wait()
    assert "could not load LoRA weights" in panel.form.fields["loras"].error.value
    assert "PredictionFailedError" in panel.message.value  # and the run's error on its line


async def test_a_thumbnail_asked_for_before_its_file_is_readable_is_made_when_asked_again(
    emulated,
):
    earlier = await finished_panel(seed=78, num_images=1)
    [old] = earlier.generations
    panel = Panel(model="imagen-4-fast")
    await panel.ready()
    key = f"{old.id}:0"
    [saved] = [Path(f) for f in old.paths]
    hidden = saved.with_name(saved.name + ".moved")
    saved.rename(hidden)  # as while a save is still under way
    _reply, [empty] = panel.strip.handle({"type": "thumbs", "keys": [key]})
    assert empty == b""
    hidden.rename(saved)
    _reply, [thumb] = panel.strip.handle({"type": "thumbs", "keys": [key]})
    assert thumb[:2] == b"\xff\xd8"


async def test_the_stage_caption_shows_the_short_id_with_the_whole_one_on_hover(emulated):
    panel = await finished_panel(seed=79, num_images=1)
    [generation] = panel.generations
    caption = panel.viewer.caption.value
    assert f"<code title='{generation.id}'>{generation.id[:8]}</code>" in caption
    assert f">{generation.id}<" not in caption  # a 36-character id wraps mid-way
