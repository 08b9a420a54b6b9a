import multiprocessing
import os
import signal

from eachlabs_widgets._journal.journal import Journal


def test_entries_are_newest_first_and_updates_land(journal):
    journal.created("a", "m1", {"prompt": "one", "seed": 1}, "https://api")
    journal.created("b", "m2", {"prompt": "two"}, "https://api")
    journal.update("a", status="success", urls=["https://x/a.png"], metrics={"cost": 0.1})
    entries = journal.entries()
    assert [e.id for e in entries] == ["b", "a"]
    a = journal.get("a")
    assert a.status == "success"
    assert a.urls == ["https://x/a.png"]
    assert a.inputs == {"prompt": "one", "seed": 1}
    assert a.prompt == "one"
    assert journal.entries(model="m2")[0].id == "b"
    assert journal.get("missing") is None


def test_reuse_needs_identical_inputs_and_files_on_disk(journal, tmp_path):
    image = tmp_path / "a.png"
    image.write_bytes(b"x")
    journal.created("a", "m", {"prompt": "p", "seed": 1}, "https://api")
    journal.update("a", status="success", files=[str(image)])
    assert journal.find_reusable("m", {"seed": 1, "prompt": "p"}, "https://api").id == "a"
    assert journal.find_reusable("m", {"seed": 2, "prompt": "p"}, "https://api") is None
    assert journal.find_reusable("m", {"seed": 1, "prompt": "p"}, "emulator") is None
    image.unlink()
    assert journal.find_reusable("m", {"seed": 1, "prompt": "p"}, "https://api") is None


def _record_then_die(path: str) -> None:
    journal = Journal(path)
    journal.created("killed-1", "m", {"prompt": "p"}, "https://api")
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_record_survives_sigkill(tmp_path):
    path = str(tmp_path / "j.sqlite3")
    process = multiprocessing.get_context("spawn").Process(target=_record_then_die, args=(path,))
    process.start()
    process.join(30)
    assert process.exitcode == -signal.SIGKILL
    assert Journal(path).get("killed-1").status == "created"


def test_history_shows_as_a_table(tmp_path, monkeypatch):
    import eachlabs_widgets as el
    from eachlabs_widgets._journal.journal import default_journal

    monkeypatch.setenv("EACHLABS_HOME", str(tmp_path / "home"))
    default_journal().created("p-1", "flux", {"prompt": "a <b>fox</b>"}, "emulator")
    entries = el.history()
    assert [e.id for e in entries] == ["p-1"]
    bundle = entries._repr_mimebundle_()
    assert "p-1" in bundle["text/plain"] and "flux" in bundle["text/plain"]
    assert "&lt;b&gt;fox" in bundle["text/html"] and "<b>fox" not in bundle["text/html"]
