"""``login()``: the key typed at a hidden prompt is used, stripped, never shown."""

from __future__ import annotations

import getpass
from collections.abc import Iterator

import pytest

import eachlabs_widgets as el
from eachlabs_widgets import _settings
from eachlabs_widgets._exceptions import ConfigurationError

from .conftest import SECRET


@pytest.fixture(autouse=True)
def _clean(monkeypatch) -> Iterator[None]:
    monkeypatch.delenv("EACHLABS_API_KEY", raising=False)
    monkeypatch.delenv("EACHLABS_BASE_URL", raising=False)
    _settings.reset_configuration()
    yield
    _settings.reset_configuration()


def typed(monkeypatch, text: str) -> list[str]:
    """Make the hidden prompt answer ``text``; returns the prompts shown."""
    prompts: list[str] = []

    def fake(prompt: str = "") -> str:
        prompts.append(prompt)
        return text

    monkeypatch.setattr(getpass, "getpass", fake)
    return prompts


def test_the_key_typed_is_used_stripped_and_never_printed(monkeypatch, capsys):
    prompts = typed(monkeypatch, f"  {SECRET}\n")
    el.login()
    assert _settings.resolve().api_key == _settings.Secret(SECRET)
    assert "API key" in prompts[0] and SECRET not in prompts[0]
    out = capsys.readouterr()
    assert SECRET not in out.out + out.err and SECRET[-4:] not in out.out + out.err
    assert "set for this process" in out.out


def test_it_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("EACHLABS_API_KEY", "old-key")
    typed(monkeypatch, SECRET)
    el.login()
    assert _settings.resolve().api_key == _settings.Secret(SECRET)


def test_nothing_typed_changes_nothing(monkeypatch, capsys):
    el.configure(api_key="earlier")
    typed(monkeypatch, "   ")
    el.login()
    assert _settings.resolve().api_key == _settings.Secret("earlier")
    assert "nothing changed" in capsys.readouterr().out


@pytest.mark.parametrize("bad", [f"{SECRET[:8]}\x00{SECRET[8:]}", f"{SECRET[:8]} {SECRET[8:]}"])
def test_a_broken_paste_is_refused_without_showing_it(monkeypatch, bad):
    typed(monkeypatch, bad)
    with pytest.raises(ConfigurationError) as info:
        el.login()
    assert "nothing changed" in str(info.value).lower()
    assert SECRET[:8] not in str(info.value) and SECRET[8:] not in str(info.value)
    assert _settings.resolve().api_key is None


def test_a_frontend_without_input_says_to_use_the_environment(monkeypatch):
    from IPython.core.error import StdinNotImplementedError

    def no_stdin(prompt: str = "") -> str:
        raise StdinNotImplementedError("getpass was called, but this frontend does not support it")

    monkeypatch.setattr(getpass, "getpass", no_stdin)
    with pytest.raises(ConfigurationError, match="EACHLABS_API_KEY in the environment"):
        el.login()


def test_the_missing_key_message_recommends_login_not_a_cell():
    with pytest.raises(ConfigurationError) as info:
        _settings.resolve().require_key()
    message = str(info.value)
    assert "el.login()" in message and "%eachgen login" in message
    assert "%env" not in message
