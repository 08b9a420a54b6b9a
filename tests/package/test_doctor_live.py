"""``doctor(live=True)``: the price asked first, the round trip on the emulator (in process and on
loopback), the verdicts of its table, and a trace that holds every exchange but no key and no
URL signature."""

from __future__ import annotations

import hashlib
import json
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import eachlabs_widgets as el
from eachlabs_widgets import _settings
from eachlabs_widgets._doctor.live import LiveReport, live_check
from eachlabs_widgets._doctor.plan import DEFAULT_MODEL, choose_model, price_text, tiny_png
from eachlabs_widgets._doctor.verdicts import create_answer, outcome, request_ids, status_words
from eachlabs_widgets._embedded import shared_emulator
from eachlabs_widgets._journal.journal import default_journal
from eachlabs_widgets._service.client import _model_cache, learner
from eachlabs_widgets.emulator import Emulator, serve

KEY = "Zq8xKv3Wm9Lp2Rt7Yh4N"  # no 5 letters of it are found in a path, an id or a version
SPEED = 0.2  # flux-2-turbo takes ~0.3 s: the cancel lands before it ends
EVERY_CHECK = [
    "catalogue paging",
    "model schema",
    "create answer",
    "output",
    "metrics",
    "download",
    "cancel answer",
    "after the cancel",
    "upload presign",
    "upload PUT",
    "upload served",
    "upload delete",
    "status words",
    "X-Request-Id",
]


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch) -> Iterator[None]:
    monkeypatch.setenv("EACHLABS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EACHLABS_BASE_URL", "emulator")
    monkeypatch.delenv("EACHLABS_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    emulator = shared_emulator()
    emulator.reset()
    emulator.configure(speed=SPEED)
    _model_cache.clear()
    learner.forget()
    _settings.reset_configuration()
    yield
    emulator.clear_faults()
    _settings.reset_configuration()
    _model_cache.clear()
    learner.forget()


@pytest.fixture
def shell(tmp_path_factory, monkeypatch) -> Iterator[Any]:
    """A real IPython shell with the extension loaded (as the magic tests make it)."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    if not InteractiveShell.initialized():
        monkeypatch.setenv("IPYTHONDIR", str(tmp_path_factory.mktemp("ipython")))
        config = Config()
        config.HistoryManager.enabled = False
        InteractiveShell.instance(config=config)
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "eachlabs_widgets")
    yield shell
    shell.run_line_magic("unload_ext", "eachlabs_widgets")


def verdicts(report: LiveReport) -> dict[str, tuple[str, str]]:
    return {check: (verdict, detail) for check, verdict, detail in report.rows}


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def assert_every_check_matches(report: LiveReport) -> None:
    found = verdicts(report)
    for check in EVERY_CHECK:
        assert found[check][0] == "matches", (check, found[check])
    assert report.problems == [] and report.ran


def test_in_process_every_answer_matches_and_the_trace_holds_each_exchange(tmp_path, capsys):
    path = tmp_path / "trace.jsonl"
    report = el.doctor(live=True, yes=True, trace=path)
    assert isinstance(report, LiveReport) and report.trace_path == path
    assert_every_check_matches(report)
    found = verdicts(report)
    assert found["inputs"][1].endswith("image_size='square', num_images=1")
    assert found["after the cancel"][1] == "cancelled, cost $0 (not billed)"
    assert found["upload delete"][1] == "gone (HTTP 204)"
    out = capsys.readouterr().out
    assert "2 predictions of flux-2-turbo-text-to-image" in out and str(path) in out
    assert str(path) in str(report) and "Every answer is what the client expects" in str(report)

    header, *exchanges = lines(path)
    assert header["trace"] == "eachlabs-widgets" and header["version"] == 1
    assert header["base_url"] == "http://emulator.eachlabs.invalid"
    assert header["package_version"] == el.__version__ and header["created_at"][:2] == "20"
    sent = [(e["request"]["method"], e["request"]["url"].split("?")[0]) for e in exchanges]
    assert sent[:2] == [("GET", header["base_url"] + "/v1/models")] * 2  # two pages at least
    assert sent.count(("POST", header["base_url"] + "/v1/prediction")) == 2
    assert sum(url.endswith("/cancel") for _, url in sent) == 1
    assert [m for m, url in sent if "/v1/files/" in url] == ["DELETE"]
    for e in exchanges:
        assert e["response"]["status"] < 300 and e["elapsed_ms"] >= 0
        assert e["request"]["url"].startswith("http://emulator.eachlabs.invalid/")
    # Binary bodies are their size and digest, never their bytes.
    [put] = [e for e in exchanges if e["request"]["method"] == "PUT"]
    png = tiny_png()
    assert 900 <= len(png) <= 1200
    assert put["request"]["body"] == {
        "bytes": len(png),
        "sha256": hashlib.sha256(png).hexdigest(),
        "content_type": "image/png",
    }
    images = [
        e
        for e in exchanges
        if "/files/" in e["request"]["url"] and "/v1/" not in e["request"]["url"]
    ]
    assert images and all(
        set(e["response"]["body"]) == {"bytes", "sha256", "content_type"} for e in images
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600

    # Both predictions are journalled as any other, and that is all that was created.
    assert shared_emulator().stats.predictions_created == 2
    assert sorted(entry.status for entry in el.history()) == ["cancelled", "success"]


def test_on_loopback_the_trace_holds_no_key_and_no_signature(tmp_path):
    emulator = Emulator(api_key=KEY, speed=SPEED)
    server = serve(emulator)
    try:
        _settings.configure(base_url=server.url, api_key=KEY)
        report = el.doctor(live=True, yes=True)
        assert_every_check_matches(report)
        assert report.trace_path is not None
        assert report.trace_path.parent == tmp_path / "home" / "traces"
        text = report.trace_path.read_text(encoding="utf-8")
    finally:
        server.close()
    shown = text + str(report) + report._repr_mimebundle_()["text/html"]
    assert all(KEY[i : i + 5] not in shown for i in range(len(KEY) - 4))
    header, *exchanges = [json.loads(line) for line in text.splitlines()]
    assert header["base_url"] == server.url
    api = [e for e in exchanges if "/v1/" in e["request"]["url"]]
    keyed = [
        e
        for e in api
        if e["request"]["method"] != "GET" or "/v1/prediction/" in e["request"]["url"]
    ]
    assert keyed and all(e["request"]["headers"]["x-api-key"] == "<redacted>" for e in keyed)
    # The presigned URL is cut in the presign answer and in the PUT that used it.
    signatures = re.findall(r"X-Amz-Signature=([^&\"\s]*)", text)
    assert len(signatures) == 2 and set(signatures) == {"<cut>"}
    assert emulator.stats.predictions_created == 2


def test_headless_without_yes_does_nothing_and_says_to_add_it(tmp_path, capsys):
    report = el.doctor(live=True)  # pytest's stdin is no terminal, and there is no kernel
    out = capsys.readouterr().out
    assert "--yes" in out and "nothing was done" in out and "flux-2-turbo" in out
    assert not report.ran and report.trace_path is None and report.rows == []
    assert str(report) == report.note and "--yes" in report._repr_mimebundle_()["text/html"]
    assert shared_emulator().stats.predictions_created == 0
    assert (
        shared_emulator().stats.requests == {}
        or sum(shared_emulator().stats.requests.values()) == 0
    )
    assert not (tmp_path / "home").exists()  # no journal, no trace folder


def test_the_question_says_the_price_and_no_means_nothing_is_done(capsys):
    asked: list[str] = []

    def say_no(question: str) -> bool:
        asked.append(question)
        return False

    report = live_check(ask=say_no)
    assert not report.ran and "Nothing was done" in capsys.readouterr().out
    assert asked and "emulator (nothing is paid)" in asked[0] and asked[0].endswith("Go on?")
    assert shared_emulator().stats.predictions_created == 0


def test_the_real_price_is_said_before_anything_is_spent():
    text = price_text(DEFAULT_MODEL, None, emulated=False)
    assert "2 real predictions of flux-2-turbo-text-to-image" in text
    assert "up to about $0.02" in text and "may come too late and be billed" in text
    assert "up to about $0.01 " in price_text("flux-2-flash-text-to-image", 0.005, emulated=False)


def test_the_cheapest_model_by_what_the_journal_learned():
    assert choose_model(None, "emulator") == (DEFAULT_MODEL, None)
    el.generate("flux-2-turbo-text-to-image", "a fox", image_size="square")  # $0.008 an image
    assert choose_model(default_journal(), "emulator") == ("flux-2-turbo-text-to-image", 0.008)
    el.generate("flux-2-flash-text-to-image", "a fox", image_size="square")  # $0.005 an image
    assert choose_model(default_journal(), "emulator") == ("flux-2-flash-text-to-image", 0.005)
    assert choose_model(default_journal(), "https://api.eachlabs.ai") == (DEFAULT_MODEL, None)
    report = el.doctor(live=True, yes=True)
    assert verdicts(report)["model"][1] == "flux-2-flash-text-to-image"
    assert_every_check_matches(report)


def test_a_failed_create_says_the_services_message_and_the_next_steps_still_run():
    shared_emulator().inject("server_error", endpoint="create")  # the first create only
    report = el.doctor(live=True, yes=True)
    found = verdicts(report)
    assert found["create answer"] == ("FAILED", "HTTP 500: Failed to create prediction")
    assert found["create and follow"][0] == "FAILED"
    assert "Failed to create prediction" in found["create and follow"][1]
    assert "output" not in found  # nothing to check of a prediction that was not made
    for check in ("cancel answer", "after the cancel", "upload delete", "X-Request-Id"):
        assert found[check][0] == "matches", check
    assert report.problems == ["create answer", "create and follow"]
    assert "2 differ or failed: create answer, create and follow" in report.note


def test_a_service_without_the_file_delete_is_said_so():
    shared_emulator().inject("server_error", endpoint="delete", times=None, status=501)
    report = el.doctor(live=True, yes=True)
    assert verdicts(report)["upload delete"] == ("not supported by this service", "HTTP 501")
    assert report.problems == [] and report.unsupported == ["upload delete"]


def test_no_key_for_the_service_is_said_before_anything_is_asked(monkeypatch):
    monkeypatch.setenv("EACHLABS_BASE_URL", "http://127.0.0.1:9")
    asked: list[str] = []
    with pytest.raises(el.ConfigurationError, match=r"el\.login"):
        live_check(ask=lambda q: asked.append(q) or True)
    assert asked == []


def test_the_magic_runs_it_with_yes_and_asks_for_yes_headless(shell, capsys):
    from IPython.core.error import UsageError

    report = shell.run_line_magic("eachgen", "doctor --live --yes")
    assert isinstance(report, LiveReport)
    assert_every_check_matches(report)
    assert shared_emulator().stats.predictions_created == 2
    capsys.readouterr()
    assert shell.run_line_magic("eachgen", "doctor --live") is None
    assert "--yes" in capsys.readouterr().out
    assert shared_emulator().stats.predictions_created == 2  # nothing more
    for line in ("doctor --yes", "doctor --live now", "doctor --live --force"):
        with pytest.raises(UsageError):
            shell.run_line_magic("eachgen", line)


def _exchange(method: str, url: str, status: int, body: Any, **headers: str) -> dict[str, Any]:
    sent = {"x-request-id": "r1"}
    return {
        "request": {"method": method, "url": url, "headers": sent, "body": None},
        "response": {"status": status, "headers": headers, "body": body},
        "elapsed_ms": 1.0,
    }


def test_answers_the_client_would_misread_are_named():
    base = "https://api.example/v1/prediction"
    create = _exchange("POST", base, 200, {"status": "success", "id": "p1"})
    assert create_answer([create]) == (
        "create answer",
        "DIFFERS",
        "the id is under 'id', not 'predictionID'",
    )
    polls = [
        _exchange("GET", base + "/p1", 200, {"status": "queued"}, **{"x-request-id": "r1"}),
        _exchange(
            "GET",
            base + "/p1",
            200,
            {"status": "success", "output": {"images": [{"url": "https://cdn.example/0.png"}]}},
        ),
    ]
    assert status_words(polls) == ("status words", "DIFFERS", "unknown: queued (taken as running)")
    assert outcome(polls, None) == [
        ("output", "matches", "an object (images): 1 file URL(s)"),
        ("metrics", "DIFFERS", "metrics.cost and metrics.predict_time not a number"),
    ]
    assert request_ids(polls) == ("X-Request-Id", "DIFFERS", "missing on 1 of 2 answers")
    # Behind a gateway's prefix, and with the trailing slash some clients send.
    behind = _exchange(
        "POST", "https://gw.example/eachlabs/v1/prediction/", 200, {"predictionID": "p"}
    )
    assert create_answer([behind]) == ("create answer", "matches", "HTTP 200, predictionID p")


def test_a_failed_upload_is_still_deleted():
    shared_emulator().inject("server_error", endpoint="put", times=None)
    report = el.doctor(live=True, yes=True)
    found = verdicts(report)
    assert found["upload presign"][0] == "matches"
    assert found["upload PUT"][0] == "FAILED" and found["upload PUT"][1].startswith("500 ")
    assert found["upload served"][0] == "FAILED"  # nothing was stored
    assert found["upload delete"] == ("matches", "gone (HTTP 204)")
    assert report.problems == ["upload PUT", "upload served"]
