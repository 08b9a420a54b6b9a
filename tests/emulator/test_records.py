"""Per-model duration ranges and the record of when each prediction ended and was seen."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from eachlabs_widgets.emulator import Emulator, serve
from eachlabs_widgets.emulator.__main__ import build_parser

from .helpers import KEY, FakeClock, create, poll

FAST = "imagen-4-fast"
SLOW = "flux-2-max-text-to-image"


def test_durations_are_drawn_in_each_models_range(
    client: httpx.Client, emu: Emulator, clock: FakeClock
) -> None:
    emu.durations = {FAST: [0.8, 1.4], SLOW: [3.0, 4.5]}
    ids = {create(client, FAST, prompt=f"a {i}"): FAST for i in range(5)}
    ids.update({create(client, SLOW, prompt=f"b {i}"): SLOW for i in range(5)})
    records = {r["id"]: r for r in emu.records()}
    for pid, model in ids.items():
        low, high = {FAST: (0.8, 1.4), SLOW: (3.0, 4.5)}[model]
        assert low <= records[pid]["duration"] <= high
        assert records[pid]["ended_at"] == pytest.approx(clock.now + records[pid]["duration"])
    assert len({r["duration"] for r in records.values()}) > 2
    # predict_time reports the drawn duration at the end.
    pid = next(iter(ids))
    clock.advance(10)
    assert poll(client, pid)["metrics"]["predict_time"] == pytest.approx(
        records[pid]["duration"], abs=1e-3
    )


def test_bad_duration_ranges_are_refused_naming_the_model(emu: Emulator) -> None:
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        emu.configure(durations={"nope": [1, 2]})
    with pytest.raises(ValueError, match=r"durations\['imagen-4-fast'\]"):
        emu.configure(durations={FAST: [2, 1]})


def test_the_record_tells_when_a_poll_first_saw_the_end(
    client: httpx.Client, emu: Emulator, clock: FakeClock
) -> None:
    emu.durations = {FAST: [1.0, 1.0]}
    pid = create(client, FAST, prompt="x")
    created = clock.now
    clock.advance(0.5)
    assert poll(client, pid)["status"] != "success"
    clock.advance(0.7)
    assert poll(client, pid)["status"] == "success"
    clock.advance(0.3)
    poll(client, pid)
    (record,) = emu.records()
    assert record["ended_at"] == pytest.approx(created + 1.0)
    assert record["seen_end_at"] == pytest.approx(created + 1.2)
    assert record["polls"] == 3
    assert KEY not in str(record)


@pytest.fixture
def http(emu: Emulator) -> Iterator[httpx.Client]:
    with serve(emu) as server, httpx.Client(base_url=server.url, headers={"X-API-Key": KEY}) as c:
        yield c


def test_records_and_ranges_over_the_control_plane(http: httpx.Client, clock: FakeClock) -> None:
    settings = http.post("/_emulator/settings", json={"durations": {FAST: [2, 3]}}).json()
    assert settings["durations"] == {FAST: [2.0, 3.0]}
    pid = create(http, FAST, prompt="x")
    other = http.post(
        "/v1/prediction",
        json={"model": FAST, "input": {"prompt": "y"}},
        headers={"X-API-Key": "another-key"},
    ).json()["predictionID"]
    body = http.get("/_emulator/predictions").json()
    assert [r["id"] for r in body["predictions"]] == [pid, other]
    assert body["now"] == clock.now
    mine = body["predictions"][0]["account"]
    only = http.get("/_emulator/predictions", params={"account": mine}).json()
    assert [r["id"] for r in only["predictions"]] == [pid]


def test_the_cli_takes_ranges_and_a_cache_bound() -> None:
    args = build_parser().parse_args(
        ["--durations", '{"imagen-4-fast": [1, 2]}', "--cache-mb", "8"]
    )
    assert args.durations and args.cache_mb == 8


def test_the_file_cache_is_bounded_by_default() -> None:
    emu = Emulator(clock=FakeClock())
    assert emu._state.cache.max_bytes <= 64 * 1024 * 1024
