"""The finding front end against the in-process emulator, in a temporary home and working dir."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from eachlabs_widgets import _settings
from eachlabs_widgets._embedded import shared_emulator
from eachlabs_widgets._service.client import _model_cache, learner


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch) -> Iterator[None]:
    monkeypatch.setenv("EACHLABS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EACHLABS_BASE_URL", "emulator")
    monkeypatch.setenv("EACHLABS_EMULATOR_SPEED", "0.01")
    monkeypatch.setenv("EACHLABS_CARD", "0")
    monkeypatch.delenv("EACHLABS_API_KEY", raising=False)
    monkeypatch.delenv("EACHLABS_OUTPUT_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    emulator = shared_emulator()
    emulator.reset()
    emulator.configure(speed=0.01)
    _model_cache.clear()
    learner.forget()
    _settings.reset_configuration()
    yield
    _model_cache.clear()
    learner.forget()
