"""resume() and history() as a user meets them: unknown ids, emulator runs from another
process, a journal that cannot be read. Against the emulator served on loopback."""

from __future__ import annotations

import multiprocessing
import os

import pytest

import eachlabs_widgets as el
from eachlabs_widgets import AsyncEachLabs, EachLabsError
from eachlabs_widgets._journal.journal import PredictionNotFound, default_journal
from eachlabs_widgets.emulator import Emulator, serve

TURBO = "flux-2-turbo-text-to-image"


@pytest.fixture(scope="module")
def server():
    with serve(Emulator(speed=0.005)) as running:
        yield running


@pytest.fixture
def service(server, monkeypatch, tmp_path):
    monkeypatch.setenv("EACHLABS_BASE_URL", server.url)
    monkeypatch.setenv("EACHLABS_API_KEY", "any-key")
    monkeypatch.setenv("EACHLABS_OUTPUT_DIR", str(tmp_path / "out"))
    return server


def test_resuming_an_unknown_id_says_how_to_resume_it_anyway():
    with pytest.raises(PredictionNotFound) as info:
        el.resume("no-such-id")
    assert isinstance(info.value, EachLabsError) and isinstance(info.value, KeyError)
    assert info.value.prediction_id == "no-such-id"
    assert "not in the journal" in str(info.value)
    assert "resume('no-such-id', model=" in str(info.value)


def _record_in_another_process(home: str) -> None:
    os.environ["EACHLABS_HOME"] = home
    from eachlabs_widgets._journal.journal import default_journal

    default_journal().created("gone-1", TURBO, {"prompt": "fox"}, "emulator")
    # A served emulator outlives the client process: its rows may still be resumed.
    default_journal().created("served-1", TURBO, {}, "http://127.0.0.1:9", emulator=True)


def record_elsewhere(tmp_path) -> None:
    process = multiprocessing.get_context("spawn").Process(
        target=_record_in_another_process, args=(str(tmp_path / "home"),)
    )
    process.start()
    process.join(60)
    assert process.exitcode == 0


def test_emulator_runs_of_another_process_are_hidden_and_say_why_they_cannot_resume(tmp_path):
    record_elsewhere(tmp_path)
    journal = default_journal()
    journal.created("mine-1", TURBO, {"prompt": "owl"}, "emulator")
    journal.created("real-1", TURBO, {"prompt": "cat"}, "https://api.eachlabs.ai")
    assert [e.id for e in el.history()] == ["real-1", "mine-1", "served-1"]
    table = el.history()._repr_mimebundle_()["text/plain"]
    assert f"{TURBO} (emulator)" in table and table.count("(emulator)") == 2
    everything = el.history(emulator=True)
    assert [e.id for e in everything] == ["real-1", "mine-1", "served-1", "gone-1"]
    assert [e.id for e in el.history(emulator=False)] == ["real-1"]
    gone = everything[3]
    assert gone.emulator and not gone.from_this_process
    with pytest.raises(PredictionNotFound) as info:
        el.resume("gone-1")
    assert "do not outlive" in str(info.value)
    assert "embedded emulator of another process" in str(info.value)


def test_a_served_emulator_run_is_marked_and_its_loss_explained(service, tmp_path):
    generation = el.generate(TURBO, "a fox")
    entry = default_journal().get(generation.id)
    assert entry is not None and entry.emulator and entry.base_url == service.url
    assert entry.status == "success" and entry.files
    # A row whose emulator no longer holds the prediction (it was restarted):
    default_journal().created("restarted-1", TURBO, {"prompt": "x"}, service.url, emulator=True)
    with pytest.raises(PredictionNotFound, match="no longer holds it"):
        el.resume("restarted-1")


async def test_resume_with_a_model_works_when_the_journal_is_damaged(service, tmp_path):
    async with AsyncEachLabs(journal=False) as client:
        made = await client.create_prediction(TURBO, {"prompt": "a fox", "seed": 1})
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / "journal.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(PredictionNotFound, match="model="):
        await el.aresume(made)  # no model: the damaged journal is the reason, and said
    generation = await el.aresume(made, model=TURBO)
    assert generation.id == made and generation.images
    assert await default_journal().aflush(timeout=30)
    entry = default_journal().get(made)
    assert entry is not None and entry.status == "success" and entry.files
    assert list(home.glob("journal.sqlite3.corrupt-*"))
