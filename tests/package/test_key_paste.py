"""Secrets as people paste them: quotes from an env-file, a Windows ``set``, a chat app, or the
whole ``.env`` line; and a doctor that says the key is fine only once the service said so."""

from __future__ import annotations

import getpass

import pytest

import eachlabs_widgets as el
from eachlabs_widgets import ConfigurationError, _settings
from eachlabs_widgets._settings import clean_key
from eachlabs_widgets.emulator import Emulator, serve
from eachlabs_widgets.emulator.catalog import load_catalog

KEY = "smk_live_4f9c2aQ7"


@pytest.mark.parametrize(
    "pasted",
    [
        f'"{KEY}"',  # docker --env-file, systemd EnvironmentFile
        f"'{KEY}'",
        f'"{KEY}"\r\n',  # a Windows file read as is
        f'" {KEY} "',  # blanks inside the quotes
        f"\u201c{KEY}\u201d",  # curly quotes from a word processor or a chat app
        f"\u2018{KEY}\u2019",
        f"`{KEY}`",  # Markdown
        f"\"'{KEY}'\"",  # quoted twice
        f"EACHLABS_API_KEY={KEY}",  # the whole .env line
        f'export EACHLABS_API_KEY="{KEY}"',  # the whole shell line
        f"set EACHLABS_API_KEY={KEY}",  # cmd.exe
        f"\ufeff{KEY}\n",  # a file saved as UTF-8 with a byte-order mark
        f"\u200b{KEY}\u200b",  # zero-width spaces copied from a web page
        f"\u00a0'{KEY}'\u00a0",  # non-breaking spaces around quotes
    ],
)
def test_a_key_as_pasted_is_unwrapped(pasted):
    assert clean_key(pasted) == KEY


@pytest.mark.parametrize(
    ("pasted", "said"),
    [
        (f'"{KEY}', 'starts with a quote mark (")'),
        (f"{KEY}'", "ends with a quote mark (')"),
        (f"\u201c{KEY}\u201c", "starts with a quote mark (\u201c)"),
    ],
)
def test_a_quote_without_its_partner_is_refused_and_named(pasted, said):
    with pytest.raises(ConfigurationError, match="quote") as info:
        clean_key(pasted)
    assert said in str(info.value) and KEY not in str(info.value)


def test_empty_quotes_mean_no_key(monkeypatch):
    monkeypatch.setenv("EACHLABS_API_KEY", '""')
    monkeypatch.setenv("EACHLABS_BASE_URL", "https://api.eachlabs.ai")
    _settings.reset_configuration()
    assert _settings.resolve().api_key is None


@pytest.fixture
def strict_service(monkeypatch):
    """The emulator on loopback, accepting only ``KEY``."""
    emulator = Emulator(speed=0.02, seed=2, api_key=KEY)
    server = serve(emulator)
    monkeypatch.setenv("EACHLABS_BASE_URL", server.url)
    monkeypatch.setenv("EACHLABS_CARD", "0")
    _settings.reset_configuration()
    yield emulator
    _settings.reset_configuration()
    server.close()


@pytest.mark.parametrize("value", [f'"{KEY}"', f"'{KEY}'", f"  '{KEY}'\n"])
def test_a_quoted_key_in_the_environment_works_and_the_doctor_says_so(
    strict_service, monkeypatch, value
):
    monkeypatch.setenv("EACHLABS_API_KEY", value)
    assert len(el.list_models()) == len(load_catalog())
    rows = {check: (status, detail) for check, status, detail in el.doctor(timeout=2).rows}
    assert rows["API key"] == (
        "ok",
        "set (EACHLABS_API_KEY; the quotes around it are dropped), accepted by the service; "
        "not shown",
    )
    assert rows["API key accepted"][0] == "ok"


def test_a_quoted_key_typed_at_login_works(strict_service, monkeypatch):
    monkeypatch.delenv("EACHLABS_API_KEY", raising=False)
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": f'"{KEY}"')
    el.login()
    assert len(el.list_models()) == len(load_catalog())


def test_the_doctor_says_set_not_checked_until_the_service_answered(monkeypatch):
    monkeypatch.setenv("EACHLABS_API_KEY", KEY)
    monkeypatch.setenv("EACHLABS_BASE_URL", "http://127.0.0.1:9")  # nothing listens
    _settings.reset_configuration()
    rows = {check: (status, detail) for check, status, detail in el.doctor(timeout=0.5).rows}
    assert rows["API key"] == ("", "set (EACHLABS_API_KEY), not checked; not shown")


def test_the_doctor_says_a_refused_key_was_refused(strict_service, monkeypatch):
    monkeypatch.setenv("EACHLABS_API_KEY", "smk_some_other_key")
    rows = {check: (status, detail) for check, status, detail in el.doctor(timeout=2).rows}
    assert rows["API key"] == ("PROBLEM", "set (EACHLABS_API_KEY), refused by the service (401)")
