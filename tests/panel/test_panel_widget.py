"""The Panel against the in-process emulator: clicks, runs, gallery, history, copy, trainer."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest
from ipywidgets.embed import embed_data

from eachlabs_widgets import AsyncEachLabs, LocalMedia, history
from eachlabs_widgets._service import sync as _sync
from eachlabs_widgets._service.http import close_shared_clients
from eachlabs_widgets.emulator import load_catalog
from eachlabs_widgets.panel import Panel

from .conftest import png, until

TURBO = "flux-2-turbo-text-to-image"
SLOW = "gpt-image-v1-5-text-to-image"  # 22 s of model time: long enough to cancel


async def ready_panel(model: str | None = TURBO, **kwargs: Any) -> Panel:
    panel = Panel(model=model, **kwargs)
    await panel.ready()
    assert panel.form is not None and panel.model == (model or TURBO)
    return panel


async def test_pick_fill_generate_shows_gallery_and_history(emulated, tmp_path):
    panel = Panel()
    await panel.ready()
    assert len(panel.picker.models) == 26
    assert panel.picker.matches("2 turbo") == [TURBO]
    assert panel.picker.matches("flash") == ["flux-2-flash-text-to-image"]
    panel.picker.value = "flux-2-flash-text-to-image"  # the user picks from the list
    await panel.ready()
    assert panel.model == "flux-2-flash-text-to-image"
    assert panel.form.fields["prompt"].error.value == ""  # pristine: no "required" shown
    assert not panel.generate_button.disabled
    assert panel.generate() is None  # the prompt is required: now the field says so
    assert "required" in panel.form.fields["prompt"].error.value
    panel.form.update({"prompt": "a red fox", "num_images": 2})

    panel.generate_button.click()
    assert panel.running == 1 and not panel.cancel_button.disabled
    await panel.wait()

    [generation] = panel.generations
    assert generation.inputs["prompt"] == "a red fox" and generation.inputs["num_images"] == 2
    assert panel.runs[0].status == "success"
    assert [i["key"] for i in panel.strip.items] == [f"{generation.id}:0", f"{generation.id}:1"]
    assert panel.running == 0 and panel.cancel_button.disabled
    assert panel.viewer.generation is generation and panel.viewer.image.value[:2] == b"\xff\xd8"
    assert panel.strip.selected == f"{generation.id}:0"  # the newest result is on the stage
    saved = list((tmp_path / "eachgen_outputs").glob("*.png"))
    assert len(saved) == 2
    assert history()[0].id == generation.id  # recorded in the journal

    # "Show in panel" in the lightbox of the second image puts it on the stage
    panel.strip.handle({"type": "select", "key": f"{generation.id}:1"})
    assert panel.viewer.index == 1 and panel.strip.selected == f"{generation.id}:1"


async def test_clicks_during_a_run_and_cancel(emulated):
    panel = await ready_panel(SLOW, value={"prompt": "slow one"})
    emulated.speed = 0.5  # 11 s: only a cancel ends it within the test
    panel.generate_button.click()
    await until(lambda: panel.runs[0].status == "processing")
    panel.form.update({"prompt": "second"})  # editing and clicking still work meanwhile
    panel.generate_button.click()
    assert panel.running == 2 and panel.cancel_button.description == "Cancel (2)"
    await until(lambda: all(r.prediction_id for r in panel.runs))
    ids = [r.prediction_id for r in panel.runs]

    panel.cancel_button.click()
    await panel.wait()
    assert [r.status for r in panel.runs] == ["cancelled", "cancelled"]
    assert panel.generations == [] and panel.strip.items == []
    # each card says it, once; the message line keeps nothing that would go stale
    assert all("not billed" in r.header.value for r in panel.runs)
    assert panel.message.value == ""
    client = AsyncEachLabs()
    for prediction_id in ids:  # cancelled on the service, not only in the panel
        assert (await client.get_prediction(prediction_id)).status == "cancelled"


async def test_a_runs_own_cancel_button_cancels_only_it(emulated):
    panel = await ready_panel(SLOW, value={"prompt": "a"})
    emulated.speed = 0.5
    panel.generate_button.click()  # slow
    # The emulator reads its speed when a prediction is created: the slow one first.
    await until(lambda: panel.runs[0].prediction_id is not None)
    emulated.speed = 0.01
    panel.generate_button.click()  # fast
    panel.runs[1].cancel_button.click()  # the slow one (runs are listed newest first)
    await panel.wait()
    assert [r.status for r in panel.runs] == ["success", "cancelled"]
    assert len(panel.generations) == 1


async def test_service_failure_shows_the_services_message(emulated):
    panel = await ready_panel(value={"prompt": "[moderate] something"})
    panel.generate_button.click()
    await panel.wait()
    assert panel.runs[0].status == "error"
    assert "PredictionFailedError" in panel.message.value
    assert "moderation" in panel.message.value.lower()


async def test_invalid_form_is_not_sent(emulated):
    panel = await ready_panel()
    created = emulated.stats.predictions_created
    assert panel.generate() is None  # prompt missing
    assert "Prompt: required" in panel.message.value
    assert "required" in panel.form.fields["prompt"].error.value
    assert "Prompt" in panel.generate_button.tooltip
    assert emulated.stats.predictions_created == created


async def test_unknown_model_shows_the_error(emulated):
    panel = Panel(model="no-such-model")
    await panel.ready()
    assert panel.form is None and panel.generate_button.disabled
    assert "unknown model" in panel.form_area.children[0].value
    assert "NotFoundError" in panel.message.value


def run_in_thread(code: str) -> dict[str, Any]:
    """Execute copied Python as a user would in a fresh script (no running loop)."""
    scope: dict[str, Any] = {}
    errors: list[BaseException] = []

    def target() -> None:
        try:
            exec(compile(code, "<copied>", "exec"), scope)
        except BaseException as exc:
            errors.append(exc)
        finally:  # the script's private loop and its HTTP client end with the "script"
            loop = getattr(_sync._local, "loop", None)
            if loop is not None:
                loop.run_until_complete(close_shared_clients())
                loop.close()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(30)
    if errors:
        raise errors[0]
    return scope


async def test_copy_as_python_and_cell_reproduce_the_run(emulated):
    panel = await ready_panel(value={"prompt": 'it\'s a "quoted" fox', "image_size": "square"})
    panel.generate_button.click()
    await panel.wait()
    [original] = panel.generations

    panel.viewer.python_button.click()
    python = panel.viewer.copy_box.text.value
    assert python == panel.copy_text("python")
    panel.viewer.eachgen_button.click()
    cell = panel.viewer.copy_box.text.value
    assert cell.startswith(f"%%eachgen {TURBO} ") and cell.endswith('\nit\'s a "quoted" fox')
    assert f"--seed {original.seed}" in cell

    again = (await asyncio.to_thread(run_in_thread, python))["g"]
    assert again.model == original.model and again.inputs == original.inputs
    # Identical inputs with an explicit seed: the saved result is reused, nothing is paid twice.
    assert again.reused and again.id == original.id
    assert [i.tobytes() for i in again.images] == [i.tobytes() for i in original.images]


async def test_load_generation_or_journal_entry_fills_the_form(emulated):
    panel = await ready_panel(value={"prompt": "remember me", "num_images": 3, "seed": 11})
    panel.generate_button.click()
    await panel.wait()
    [generation] = panel.generations

    panel.select("flux-2-lora", value={"prompt": "other"})
    await panel.ready()
    assert panel.model == "flux-2-lora"
    panel.load(generation)
    await panel.ready()
    assert panel.model == TURBO and panel.form.value == generation.inputs

    panel.select("imagen-4-fast")
    await panel.ready()
    panel.load(history()[0])  # a journal entry
    await panel.ready()
    assert panel.form.value == generation.inputs

    panel.select("imagen-4-fast")
    await panel.ready()
    panel.strip.handle({"type": "load", "key": f"{generation.id}:0"})  # the lightbox's Load
    await panel.ready()
    assert panel.model == TURBO and panel.form.value == generation.inputs
    with pytest.raises(TypeError):
        panel.load({"model": TURBO})


async def test_use_as_input_carries_an_image_to_a_model_that_takes_one(emulated):
    panel = await ready_panel(value={"prompt": "a source image"})
    panel.generate_button.click()
    await panel.wait()
    [source] = panel.generations

    panel.viewer.use_button.click()  # flux turbo has no image field: held for the next model
    assert "choose a model that takes an image" in panel.message.value
    panel.select("wan-v2-6-text-to-image")
    await panel.ready()
    assert panel.form.value["image_url"] == source.urls[0]
    assert "image_url" in panel.message.value
    panel.form.update({"prompt": "same, in winter"})
    panel.generate_button.click()
    await panel.wait()
    assert panel.generations[-1].inputs["image_url"] == source.urls[0]


async def test_trainer_zip_progress_and_lora_in_one_click(emulated):
    panel = await ready_panel("flux-turbo-trainer")
    assert panel.training.layout.display is None  # the training images box is shown
    assert panel.generate_button.description.startswith("Train")
    assert panel.generate() is None  # images_data_url is required
    assert "required" in panel.form.fields["images_data_url"].error.value
    panel.training.take([(f"{i}.png", png((i * 20, 0, 0))) for i in range(10)])
    value = panel.form.value["images_data_url"]
    assert isinstance(value, LocalMedia) and value.content_type == "application/zip"
    assert "10 images" in panel.training.status.value
    panel.form.update({"trigger_phrase": "TOK", "steps": 100})

    emulated.speed = 0.02  # 120 s of training -> 2.4 s
    panel.generate_button.click()
    run = panel.runs[0]
    await until(lambda: run.status == "processing")
    progress, words = run.progress()
    assert "a guess" in words  # no run of this trainer seen yet: the card says so
    await until(lambda: run.progress()[0] > progress, timeout=5)  # it moves
    await panel.wait()
    assert run.status == "success" and run.progress() == (1.0, "")
    [trained] = panel.generations
    assert trained.inputs["images_data_url"].startswith("http")  # the zip was uploaded
    assert panel.strip.items == []  # weights are not pictures: the card links them
    [listing] = run.gallery.children
    assert f"href='{trained.urls[0]}'" in listing.value
    [lora_button] = run.actions.children
    # a FLUX.1 trainer: its LoRA goes to the model of its family (API.md, "LoRA training")
    assert lora_button.description == "Use this LoRA in bfl-flux-lora"
    # the photos were deleted from the service when the trainer ended
    zipped = trained.inputs["images_data_url"].split("/uploads/", 1)[1]
    assert emulated.request("GET", f"/uploads/{zipped}").status == 404
    if "bfl-flux-lora" not in {m["slug"] for m in load_catalog()}:
        pytest.skip("the emulator does not serve bfl-flux-lora yet")

    emulated.speed = 0.01
    lora_button.click()
    await panel.ready()
    assert panel.model == "bfl-flux-lora"
    weights = trained.urls[0]
    assert weights.endswith(".safetensors")
    assert panel.form.value["loras"] == [{"path": weights, "scale": 1.0}]
    assert panel.form.value["prompt"].startswith("TOK")
    panel.form.update({"prompt": "TOK, a portrait"})
    panel.generate_button.click()
    await panel.wait()
    assert panel.generations[-1].model == "bfl-flux-lora" and panel.generations[-1].images


async def test_training_folder_path(emulated, tmp_path):
    panel = await ready_panel("z-image-trainer")
    folder = tmp_path / "faces"
    folder.mkdir()
    for i in range(3):
        (folder / f"{i}.png").write_bytes(png((0, i, 0)))
    panel.training.folder.value = str(folder)
    panel.training.use_folder.click()
    assert panel.form.value["image_data_url"].filename == "faces.zip"
    panel.training.take_folder(str(tmp_path / "missing"))
    assert "no such folder" in panel.training.status.value


async def test_catalogue_is_listed_once_per_session(emulated):
    listed = emulated.stats.requests.get("models", 0)
    await ready_panel()
    await ready_panel()
    assert emulated.stats.requests.get("models", 0) == listed + 1


async def test_the_api_key_never_reaches_widget_state(emulated, monkeypatch):
    secret = "sk-live-THIS-MUST-NOT-LEAK-0123456789"
    monkeypatch.setenv("EACHLABS_API_KEY", secret)
    panel = await ready_panel(value={"prompt": "a secret-free image"})
    panel.generate_button.click()
    await panel.wait()
    panel.viewer.python_button.click()
    state = json.dumps(embed_data(views=[panel])["manager_state"], default=str)
    assert "a secret-free image" in state  # the state is really there…
    assert secret not in state  # …without the key
    assert secret not in panel.copy_text("python") + panel.copy_text("eachgen")


def test_without_a_running_loop_the_panel_runs_to_the_end(emulated):
    """In a plain script there is no loop to run tasks on: each step finishes before returning."""
    panel = Panel(value={"prompt": "from a script"})
    assert panel.model == TURBO and panel.form.value["prompt"] == "from a script"
    task = panel.generate()
    assert task is not None and task.done()
    assert panel.generations[0].inputs["prompt"] == "from a script"
    assert panel.runs[0].status == "success" and len(panel.strip.items) == 1
    loop = _sync._local.loop  # the script's private loop: close it with its HTTP client
    loop.run_until_complete(close_shared_clients())
    loop.close()


async def test_a_panel_run_waits_in_the_same_line_as_a_cells_runs(emulated):
    """One card everywhere: a panel run behind a cell's runs says its place among them all."""
    from eachlabs_widgets._notebook.runs import CellRun, Job
    from eachlabs_widgets._service.limiter import PredictionLimiter

    one_slot = PredictionLimiter(1)
    client = AsyncEachLabs(limiter=one_slot)
    panel = await ready_panel(SLOW, client=client, value={"prompt": "from the panel"})
    emulated.speed = 0.5  # the first prediction holds the only slot while we look
    jobs = [Job(f"cell {n}", SLOW, {"prompt": f"from a cell, {n}"}) for n in (1, 2)]
    cell = CellRun(client, jobs, background=True)
    going = asyncio.ensure_future(cell.execute())
    await asyncio.sleep(0)  # the cell takes its places in line first
    panel.generate()
    await until(lambda: one_slot.running == 1)
    [card] = panel.runs
    assert [c.queue_position for c in cell.cards] == [None, 1]
    assert card.queue_position == 2 and "2nd in line" in card.header.value
    cell.cancel(0)  # the first leaves: everyone behind moves up
    await until(lambda: cell.cards[1].queue_position is None)
    await until(lambda: card.queue_position == 1)
    assert "1st in line" in card.header.value
    panel.cancel()
    cell.cancel()
    await panel.wait()
    await asyncio.gather(going, return_exceptions=True)
    assert card.status == "cancelled" and card.queue_position is None
