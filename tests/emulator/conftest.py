from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from eachlabs_widgets.emulator import EMULATOR_BASE_URL, Emulator

from .helpers import KEY, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emu(clock: FakeClock) -> Emulator:
    return Emulator(clock=clock)


@pytest.fixture
def client(emu: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(
        transport=emu.transport(), base_url=EMULATOR_BASE_URL, headers={"X-API-Key": KEY}
    ) as c:
        yield c


@pytest.fixture
async def aclient(emu: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=emu.transport(), base_url=EMULATOR_BASE_URL, headers={"X-API-Key": KEY}
    ) as c:
        yield c
