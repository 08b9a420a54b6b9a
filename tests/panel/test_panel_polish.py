"""What a person reads in the panel: one expected duration everywhere, an uploading run's
place in line once it waits, a run cancelled in line that stays cancelled, names that fit
their tiles."""

from __future__ import annotations

import asyncio

from eachlabs_widgets import AsyncEachLabs, LocalMedia
from eachlabs_widgets._display.card import LiveCard
from eachlabs_widgets._notebook.runs import CellRun, Job
from eachlabs_widgets._service.client import learner
from eachlabs_widgets._service.limiter import PredictionLimiter
from eachlabs_widgets.panel import Panel
from eachlabs_widgets.panel._pricing import format_duration
from eachlabs_widgets.panel._strip import tile_name

from .conftest import png, until

TURBO = "flux-2-turbo-text-to-image"
TRAINER = "flux-turbo-trainer"
SLOW = "gpt-image-v1-5-text-to-image"
WITH_IMAGE = "wan-v2-6-text-to-image"  # takes an image_url: a local file is uploaded first


def record(client: AsyncEachLabs, model: str, durations: list[float]) -> None:
    """Earlier successful runs of ``model`` that took ``durations`` seconds, in the journal."""
    journal = client.journal
    assert journal is not None
    base_url = client.settings().base_url
    for index, seconds in enumerate(durations):
        pid = f"earlier-{model}-{index}"
        journal.created(pid, model, {"prompt": "earlier"}, base_url)
        journal.update(pid, base_url=base_url, status="success", duration=seconds)


async def test_picker_button_and_card_show_one_expected_duration(emulated):
    """The picker, the Train button and the run's card say the same expected duration: the
    journal's, as the cards of ``%%eachgen`` cells do, whatever else was learned in-process."""
    client = AsyncEachLabs()
    base_url = client.settings().base_url
    record(client, TRAINER, [200.0, 400.0, 700.0])  # median 400 s: "~7 min"
    record(client, TURBO, [2.0, 30.0])  # median 16 s
    # this process's polling schedule learned other figures: not what is shown
    learner.observe(TRAINER, 20.0, base_url)
    learner.observe(TURBO, 900.0, base_url)

    panel = Panel(model=TRAINER, client=client)
    await panel.ready()
    assert panel.expected_seconds(TRAINER) == 400.0
    assert panel.picker.entry(TRAINER)["duration"] == "~7 min"
    assert panel.generate_button.description.startswith("Train")
    assert "~7 min" in panel.generate_button.description.split(" · ")
    trainer_card = panel._card(TRAINER, {}, training=True)
    assert trainer_card.expected == 400.0
    trainer_card.close()

    panel.select(TURBO, {"prompt": "a lighthouse"})
    await panel.ready()
    assert panel.picker.entry(TURBO)["duration"] == "~16 s"
    panel.generate()
    card = panel.runs[0]
    assert card.expected == 16.0
    await panel.wait()
    assert card.status == "success"
    # the run taught a third duration: the picker shows the journal's new figure
    journal = client.journal
    assert journal is not None
    assert len(journal.durations_nowait(TURBO, base_url)) == 3
    expected = panel.expected_seconds(TURBO)
    assert expected is not None and expected != 16.0
    assert panel.picker.entry(TURBO)["duration"] == format_duration(expected)


async def test_without_a_journal_nothing_is_promised(emulated):
    """No journal, no figure: the picker and the card say nothing rather than differ."""
    client = AsyncEachLabs(journal=False)
    learner.observe(TURBO, 12.0, client.settings().base_url)
    panel = Panel(model=TURBO, client=client, value={"prompt": "x"})
    await panel.ready()
    assert panel.picker.entry(TURBO)["duration"] == ""
    card = panel._card(TURBO, {}, training=False)
    assert card.expected is None
    card.close()


async def test_an_uploading_run_takes_its_place_in_line_once_it_waits(emulated, monkeypatch):
    """Uploading, the card says so; uploaded and waiting for a slot, it says its place in line
    among every cell's and panel's waiting cards, as a cell's card does."""
    seen: list[tuple[LiveCard, str]] = []
    set_status = LiveCard.set_status

    def spy(card: LiveCard, status: str, detail: str = "") -> None:
        seen.append((card, status))
        set_status(card, status, detail)

    monkeypatch.setattr(LiveCard, "set_status", spy)
    one_slot = PredictionLimiter(1)
    client = AsyncEachLabs(limiter=one_slot)
    picture = LocalMedia(png((200, 40, 40)), "image/png", "red.png")
    panel = Panel(
        model=WITH_IMAGE, client=client, value={"prompt": "a red square", "image_url": picture}
    )
    await panel.ready()
    emulated.speed = 0.5  # the cell's prediction holds the only slot while we look
    cell = CellRun(client, [Job("cell", SLOW, {"prompt": "from a cell"})], background=True)
    going = asyncio.ensure_future(cell.execute())
    await until(lambda: one_slot.running == 1)
    panel.generate()
    [card] = panel.runs
    await until(lambda: card.queue_position is not None)
    assert [status for c, status in seen if c is card] == ["uploading", "queued"]
    assert card.status == "queued" and card.queue_position == 1
    assert "1st in line" in card.header.value
    assert "uploading" not in card.header.value
    cell.cancel()  # the slot frees: the panel's run goes
    await until(lambda: card.status != "queued")
    assert card.queue_position is None
    await panel.wait()
    await asyncio.gather(going, return_exceptions=True)
    assert card.status == "success"
    sent = panel.generations[0].inputs["image_url"]
    assert isinstance(sent, str) and sent.startswith("http")  # uploaded once, sent as a URL


def test_a_tile_names_the_model_without_the_task_its_slug_ends_with():
    assert tile_name("wan-v2-6-text-to-image") == "wan-v2-6"
    assert tile_name("bytedance-seedream-v4-5-text-to-image") == "bytedance-seedream-v4-5"
    assert tile_name("flux-lora-portrait-trainer") == "flux-lora-portrait-trainer"
    assert tile_name("flux-2-pro") == "flux-2-pro"
    assert tile_name("-text-to-image") == "-text-to-image"  # never empty


async def test_a_run_cancelled_while_waiting_stays_cancelled(emulated, monkeypatch):
    """Cancelled in line, a run creates nothing (it ends at once, not after the create hold),
    and its card, already "cancelled", stays so when the slot it waited for frees."""
    one_slot = PredictionLimiter(1)
    client = AsyncEachLabs(limiter=one_slot)
    panel = Panel(model=SLOW, client=client, value={"prompt": "from the panel"})
    await panel.ready()
    emulated.speed = 0.5
    cell = CellRun(client, [Job("cell", SLOW, {"prompt": "from a cell"})], background=True)
    going = asyncio.ensure_future(cell.execute())
    await until(lambda: one_slot.running == 1)
    panel.generate()
    [card] = panel.runs
    await until(lambda: card.queue_position == 1)
    panel.cancel()
    await panel.wait()
    assert card.status == "cancelled"
    before = card.header.value
    cell.cancel()  # the slot frees
    await asyncio.gather(going, return_exceptions=True)
    await asyncio.sleep(0.3)
    assert client.journal is not None
    assert [e.inputs["prompt"] for e in client.journal.entries()] == ["from a cell"]
    assert card.status == "cancelled" and card.header.value == before
