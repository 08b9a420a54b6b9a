"""The panel against the in-process emulator, isolated in a temporary home and working dir."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator

import pytest
from PIL import Image

from eachlabs_widgets._embedded import shared_emulator
from eachlabs_widgets._service.client import learner
from eachlabs_widgets.panel._catalog import clear_catalogue

FAST = 0.01


@pytest.fixture
def emulated(tmp_path, monkeypatch) -> Iterator[object]:
    """EACHLABS_BASE_URL=emulator, a fast emulator, EACHLABS_HOME and cwd in tmp_path."""
    monkeypatch.setenv("EACHLABS_BASE_URL", "emulator")
    monkeypatch.setenv("EACHLABS_EMULATOR_SPEED", str(FAST))
    monkeypatch.setenv("EACHLABS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("EACHLABS_API_KEY", raising=False)
    monkeypatch.delenv("EACHLABS_OUTPUT_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    emulator = shared_emulator()
    before = emulator.speed
    emulator.speed = FAST  # the process's emulator may have been made with another speed
    learner.forget()
    clear_catalogue()
    yield emulator
    emulator.speed = before
    learner.forget()


async def until(predicate, timeout: float = 10.0) -> None:
    """Let the loop run until ``predicate()`` holds (a widget callback, a poll…)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting for the panel")
        await asyncio.sleep(0.01)


def png(colour: tuple[int, int, int], size: tuple[int, int] = (32, 32)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()
