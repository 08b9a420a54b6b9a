"""``doctor()``: one table for bug reports; it never shows the key and never hangs or retries."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import eachlabs_widgets as el
from eachlabs_widgets import _settings
from eachlabs_widgets._doctor import build_report
from eachlabs_widgets.emulator import Emulator, serve
from eachlabs_widgets.emulator.catalog import load_catalog

KEY = "Zq8xKv3Wm9Lp2Rt7Yh4N"  # no 5 letters of it are found in a path or a version


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch) -> Iterator[None]:
    monkeypatch.setenv("EACHLABS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EACHLABS_BASE_URL", "emulator")
    monkeypatch.delenv("EACHLABS_API_KEY", raising=False)
    monkeypatch.delenv("EACHLABS_OUTPUT_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    _settings.reset_configuration()
    yield
    _settings.reset_configuration()


def rows(report: Any) -> dict[str, tuple[str, str]]:
    return {check: (status, detail) for check, status, detail in report.rows}


def test_the_report_names_versions_and_shows_as_a_table_and_text():
    report = el.doctor()
    found = rows(report)
    for check in ("eachlabs-widgets", "python", "httpx", "ipywidgets", "ipykernel", "jupyterlab"):
        assert found[check][1], check
    assert found["eachlabs-widgets"][1] == el.__version__
    bundle = report._repr_mimebundle_()
    assert "<table>" in bundle["text/html"] and "service reachable" in bundle["text/html"]
    assert str(report) == bundle["text/plain"] and "journal path" in str(report)


@pytest.mark.parametrize("how", ["environment", "login"])
def test_a_key_is_said_to_be_set_and_never_shown(monkeypatch, how):
    monkeypatch.setenv("EACHLABS_BASE_URL", "http://127.0.0.1:9")  # nothing listens: discard
    if how == "environment":
        monkeypatch.setenv("EACHLABS_API_KEY", KEY)
    else:
        el.configure(api_key=KEY)
    report = el.doctor(timeout=0.5)
    # nothing answered: the key is set, and no more can be said of it
    assert rows(report)["API key"][0] == "" and "set" in rows(report)["API key"][1]
    assert "not checked" in rows(report)["API key"][1]
    text = str(report) + report._repr_mimebundle_()["text/html"]
    assert all(KEY[i : i + 5] not in text for i in range(len(KEY) - 4))


def test_no_key_for_the_service_is_a_problem_that_says_what_to_do(monkeypatch):
    monkeypatch.setenv("EACHLABS_BASE_URL", "http://127.0.0.1:9")
    report = el.doctor(timeout=0.5)
    status, detail = rows(report)["API key"]
    assert status == "PROBLEM" and "el.login()" in detail
    assert "API key" in report.problems


def test_a_service_on_loopback_is_reachable():
    server = serve(Emulator())
    try:
        _settings.configure(base_url=server.url)
        status, detail = rows(el.doctor())["service reachable"]
        assert status == "ok" and detail.startswith("HTTP 200")
        assert rows(el.doctor())["base URL"][1] == server.url
    finally:
        server.close()


class Failing(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        self.count = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.count += 1
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def test_an_error_answer_is_one_request_not_retried():
    server = Failing()
    try:
        _settings.configure(base_url=f"http://127.0.0.1:{server.server_address[1]}")
        status, detail = rows(el.doctor())["service reachable"]
        assert (status, detail.split(" in ")[0]) == ("PROBLEM", "answered HTTP 503")
        assert server.count == 1
    finally:
        server.shutdown()
        server.server_close()


def test_a_service_that_never_answers_is_given_up_on():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    try:
        _settings.configure(base_url=f"http://127.0.0.1:{silent.getsockname()[1]}")
        status, detail = rows(el.doctor(timeout=0.3))["service reachable"]
        assert (status, detail) == ("PROBLEM", "no answer within 0.3 s")
    finally:
        silent.close()


def test_the_journal_before_and_after_a_prediction_and_when_damaged(tmp_path):
    assert "none yet" in rows(el.doctor())["journal"][1]
    el.generate("flux-2-turbo-text-to-image", "a fox", seed=1)
    status, detail = rows(el.doctor())["journal"]
    assert status == "ok" and "healthy" in detail and "1 prediction(s)" in detail
    path = Path(rows(el.doctor())["journal path"][1])
    assert path.parent == tmp_path / "home"
    path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)  # a damaged file
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    status, detail = rows(el.doctor())["journal"]
    assert status == "PROBLEM"


def test_the_output_folder(tmp_path):
    assert rows(build_report(str(tmp_path)))["output folder"] == ("ok", f"{tmp_path}: writable")
    assert "will be made" in rows(build_report(str(tmp_path / "new" / "dir")))["output folder"][1]
    (tmp_path / "a-file").write_text("x")
    status, detail = rows(build_report(str(tmp_path / "a-file")))["output folder"]
    assert status == "PROBLEM" and "not a folder" in detail
    status, detail = rows(build_report(str(tmp_path / "a-file" / "sub")))["output folder"]
    assert status == "PROBLEM"
    assert rows(build_report(None))["output folder"][1] == "saving is off"
    assert list(tmp_path.glob(".eachlabs-doctor-*")) == []  # the probe left nothing behind


def test_the_emulator_is_available():
    status, detail = rows(el.doctor())["emulator"]
    assert status == "ok" and "in use" in detail and f"{len(load_catalog())} models" in detail


def test_the_key_is_checked_with_the_service_without_creating_anything():
    emulator = Emulator(api_key=KEY)
    server = serve(emulator)
    try:
        _settings.configure(base_url=server.url, api_key=KEY)
        found = rows(el.doctor())
        assert found["API key accepted"][0] == "ok"
        assert found["API key"][0] == "ok" and "accepted by the service" in found["API key"][1]
        _settings.configure(api_key="WRONGKEY999")
        found = rows(el.doctor())
        status, detail = found["API key accepted"]
        assert status == "PROBLEM" and "refused" in detail and "WRONGKEY" not in detail
        assert found["API key"] == (
            "PROBLEM",
            "set (el.login() / configure()), refused by the service (401)",
        )
        assert emulator.stats.predictions_created == 0
    finally:
        server.close()


@pytest.mark.parametrize("url", ["emulater", "htp://x", "127.0.0.1:18765"])
def test_a_bad_base_url_is_named_on_its_own_row(monkeypatch, url):
    monkeypatch.setenv("EACHLABS_BASE_URL", url)
    monkeypatch.setenv("EACHLABS_API_KEY", KEY)
    found = rows(el.doctor())
    assert found["base URL"][0] == "PROBLEM" and "not an http" in found["base URL"][1]
    # the base URL is the problem; the key is set, and not checked (nothing to ask)
    assert found["API key"][0] == "" and "set" in found["API key"][1]
    assert "API key" not in el.doctor().problems
    assert found["service reachable"][1].startswith("not checked")


def test_a_base_url_with_a_wrong_path_is_pointed_at():
    server = serve(Emulator())
    try:
        _settings.configure(base_url=server.url + "/api")
        status, detail = rows(el.doctor())["service reachable"]
        assert status == "PROBLEM" and "is the base URL right" in detail
        with pytest.raises(el.NotFoundError, match="is the base URL right"):
            el.get_model("flux-2-flash-text-to-image")
    finally:
        server.close()


@pytest.mark.parametrize("quoted", [f'"{KEY}"', f"'{KEY}'"])
def test_a_key_wrapped_in_quotes_is_unwrapped_said_so_and_still_never_shown(monkeypatch, quoted):
    emulator = Emulator(api_key=KEY)
    server = serve(emulator)
    try:
        monkeypatch.setenv("EACHLABS_API_KEY", quoted)  # as an env file or `set K="…"` keeps it
        _settings.configure(base_url=server.url)
        report = el.doctor()
    finally:
        server.close()
    status, detail = rows(report)["API key"]
    assert status == "ok" and "the quotes around it are dropped" in detail
    assert "accepted by the service" in detail
    status, detail = rows(report)["API key accepted"]
    assert status == "ok"
    text = str(report) + report._repr_mimebundle_()["text/html"]
    assert all(KEY[i : i + 5] not in text for i in range(len(KEY) - 4))
