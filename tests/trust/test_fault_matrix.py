"""The fault matrix: each of the emulator server's fault switches against the front ends (a
script's ``generate()``, ``%%eachgen`` in a real kernel). Each run ends in its result or one
clear message of the package's own types; every prediction that was created is in the journal;
the key appears in no output."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import eachlabs_widgets as el
from eachlabs_widgets._journal.journal import Journal
from eachlabs_widgets._settings import reset_configuration
from eachlabs_widgets.emulator import Emulator, serve

SECRET = "sk-live-MATRIX-0123456789abcdef"
MODEL = "flux-2-turbo-text-to-image"


@dataclass(frozen=True)
class Fault:
    name: str
    setup: Callable[[Emulator], None]
    #: "success", or the exception class the call ends in (and the text its message holds).
    ends_in: str
    says: str = ""
    timeout: float | None = None


FAULTS = [
    Fault("429 with Retry-After", lambda e: e.inject("rate_limit", endpoint="create"), "success"),
    Fault(
        "429 without Retry-After",
        lambda e: e.inject("rate_limit", endpoint="create", retry_after=None),
        "success",
    ),
    Fault("5xx on a poll", lambda e: e.inject("server_error", endpoint="poll", times=2), "success"),
    Fault(
        "5xx on the create", lambda e: e.inject("server_error", endpoint="create"), "ServerError"
    ),
    Fault("dropped poll", lambda e: e.inject("drop", endpoint="poll"), "success"),
    Fault(
        "dropped create answer",
        lambda e: e.inject("drop", endpoint="create", after_processing=True),
        "TransportError",
        "could pay twice",
    ),
    Fault("slow poll", lambda e: e.inject("slow", endpoint="poll", seconds=1.0), "success"),
    Fault(
        "402",
        lambda e: e.inject("payment_required", endpoint="create"),
        "PaymentRequiredError",
        "payment required",
    ),
    Fault(
        "error envelope",
        lambda e: e.configure(failure="content_moderation"),
        "PredictionFailedError",
        "flagged by the content moderation",
    ),
    Fault(
        "legacy failed",
        lambda e: e.configure(failure="provider_error", legacy_failed_status=True),
        "PredictionFailedError",
        "provider returned an error",
    ),
    Fault(
        "stuck",
        lambda e: e.configure(never_finish=True),
        "PredictionTimeoutError",
        "resume",
        timeout=2.0,
    ),
    Fault("output 404", lambda e: e.configure(output_404=True), "EachLabsError", "download"),
]
IDS = [f.name for f in FAULTS]


@pytest.fixture(scope="module")
def server() -> Iterator[object]:
    emulator = Emulator(speed=0.05, seed=4)
    served = serve(emulator)
    yield served
    served.close()


@pytest.fixture
def emulator(server) -> Iterator[Emulator]:
    emulator: Emulator = server.emulator  # type: ignore[attr-defined]
    emulator.reset()
    yield emulator
    emulator.reset()


def _journal_ids(home: Path) -> set[str]:
    path = home / "journal.sqlite3"
    return {e.id for e in Journal(path).entries(limit=None)} if path.exists() else set()


@pytest.mark.parametrize("fault", FAULTS, ids=IDS)
def test_a_script(fault: Fault, emulator, server, tmp_path, monkeypatch, capsys, caplog):
    monkeypatch.setenv("EACHLABS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EACHLABS_OUTPUT_DIR", str(tmp_path / "out"))
    el.configure(api_key=SECRET, base_url=server.url)  # type: ignore[attr-defined]
    try:
        fault.setup(emulator)
        try:
            generation = el.generate(MODEL, "a fox in snow", seed=3, timeout=fault.timeout)
            outcome, message = "success", ""
            assert generation.paths  # the paid result is on disk
        except el.EachLabsError as exc:
            outcome, message = type(exc).__name__, str(exc)
            assert isinstance(exc, getattr(el, fault.ends_in))
        if fault.ends_in == "success":
            assert outcome == "success", message
        assert fault.says.lower() in message.lower()
        created = set(emulator.stats.prediction_ids)
        journaled = _journal_ids(tmp_path / "home")
        if fault.name != "dropped create answer":  # its answer, with the id, never arrived
            assert created <= journaled, "a created prediction is missing from the journal"
        seen = capsys.readouterr()
        assert SECRET not in seen.out + seen.err + caplog.text + message
    finally:
        reset_configuration()


@pytest.fixture(scope="module")
def kernel(server, tmp_path_factory):
    from tests.kernel_driver import Kernel

    workdir = tmp_path_factory.mktemp("matrix")
    kernel = Kernel(
        {
            "EACHLABS_API_KEY": SECRET,
            "EACHLABS_BASE_URL": server.url,  # type: ignore[attr-defined]
            "EACHLABS_HOME": str(workdir / "home"),
            "EACHLABS_OUTPUT_DIR": str(workdir / "out"),
        },
        cwd=str(workdir),
    )
    try:
        kernel.execute("%load_ext eachlabs_widgets\n%config EachGen.poll_interval = 0.2")
        yield kernel, workdir
    finally:
        kernel.stop()


@pytest.mark.kernel
@pytest.mark.parametrize("fault", FAULTS, ids=IDS)
def test_a_magic_cell(fault: Fault, emulator, kernel):
    kernel, workdir = kernel
    timeout = fault.timeout if fault.timeout is not None else 120
    kernel.execute(f"%config EachGen.timeout = {timeout}")
    fault.setup(emulator)
    reply, messages = kernel.run(f"%%eachgen {MODEL} --force -o result\na fox in snow", 90)
    shown = json.dumps([m["content"] for m in messages]) + json.dumps(reply)
    assert SECRET not in shown
    if fault.ends_in == "success":
        assert reply["status"] == "ok", reply
        assert "image/jpeg" in shown or "<img" in shown
    else:
        assert reply["status"] == "error"
        assert reply["ename"] in ("EachGenError", fault.ends_in), reply["ename"]
        assert fault.says.lower() in shown.lower()
        assert not any(name in shown for name in ("httpx.", "KeyError", "binascii"))
    created = set(emulator.stats.prediction_ids)
    if fault.name != "dropped create answer":
        kernel.execute("import eachlabs_widgets as _el; _el.history(None)")
        assert created <= _journal_ids(workdir / "home")


@pytest.mark.parametrize("fault", FAULTS, ids=IDS)
async def test_the_panel(fault: Fault, emulator, server, tmp_path, monkeypatch):
    import asyncio
    import html

    from ipywidgets.embed import embed_data

    from eachlabs_widgets.panel import Panel
    from eachlabs_widgets.panel._catalog import clear_catalogue

    monkeypatch.setenv("EACHLABS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EACHLABS_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.setenv("EACHLABS_API_KEY", SECRET)
    monkeypatch.setenv("EACHLABS_BASE_URL", server.url)  # type: ignore[attr-defined]
    clear_catalogue()
    panel = Panel(model=MODEL)
    await panel.ready()
    assert panel.form is not None
    panel.form.update({"prompt": "a fox in snow", "seed": 3})
    fault.setup(emulator)
    assert panel.generate() is not None
    if fault.timeout is not None:  # a stuck prediction: the user presses Cancel
        await asyncio.sleep(fault.timeout)
        assert panel.cancel() == 1
    await asyncio.wait_for(panel.wait(), 120)
    message = html.unescape(panel.message.value)
    if fault.ends_in == "success":
        assert len(panel.generations) == 1, message
    elif fault.timeout is not None:
        [card] = panel.runs  # the card says it (the message line keeps nothing to go stale)
        assert card.status == "cancelled" and "not billed" in card.header.value, message
        pid = emulator.stats.prediction_ids[-1]
        answer = emulator.request(
            "GET", f"/v1/prediction/{pid}", headers={"X-API-Key": SECRET}
        ).json_body()
        assert answer["status"] == "cancelled"  # cancelled on the service, not billed
    else:
        assert panel.generations == []
        assert fault.says.lower() in message.lower(), message
        assert "Traceback" not in message
    state = json.dumps(embed_data(views=[panel])["manager_state"])
    assert SECRET not in state + message
    created = set(emulator.stats.prediction_ids)
    if fault.name != "dropped create answer":
        from eachlabs_widgets._journal.journal import default_journal

        default_journal().flush(5)
        assert created <= _journal_ids(tmp_path / "home")
    panel.close()
