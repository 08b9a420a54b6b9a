"""``--concurrency N`` is the ceiling: an uncapped account runs N in flight (no fixed 10)."""

from __future__ import annotations

import pytest

from eachlabs_widgets._batch._cli import main
from eachlabs_widgets._service.limiter import limiter
from eachlabs_widgets.emulator import Emulator, serve

TURBO = "flux-2-turbo-text-to-image"
KEY = "batch-key"


@pytest.fixture
def uncapped(tmp_path, monkeypatch):
    emu = Emulator(api_key=KEY, account_cap=None, durations={TURBO: [1.0, 1.2]})
    with serve(emu) as server:
        for name, value in {
            "EACHLABS_BASE_URL": server.url,
            "EACHLABS_API_KEY": KEY,
            "EACHLABS_HOME": str(tmp_path / "home"),
            "EACHLABS_OUTPUT_DIR": str(tmp_path / "out"),
        }.items():
            monkeypatch.setenv(name, value)
        yield emu


def peak_in_flight(records: list[dict]) -> int:
    """The most predictions running at once on the server's clock."""
    events = sorted(
        [(r["created_at"], 1) for r in records] + [(r["ended_at"], -1) for r in records]
    )
    peak = running = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


def test_concurrency_40_runs_40_in_flight_on_an_uncapped_account(uncapped, tmp_path):
    inputs = tmp_path / "p.csv"
    inputs.write_text("prompt\n" + "".join(f"a fox take {i}\n" for i in range(40)))
    ceiling = limiter.ceiling
    assert main([TURBO, str(inputs), "--yes", "--no-progress", "--concurrency", "40"]) == 0
    records = uncapped.records()
    assert len(records) == 40 and uncapped.stats.predictions_created == 40
    assert peak_in_flight(records) >= 36  # well past the old fixed 10
    assert limiter.ceiling == ceiling  # set back after the batch
