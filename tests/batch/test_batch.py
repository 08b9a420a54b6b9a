"""``eachlabs-batch`` against the emulator served on loopback: resumable after SIGKILL, rows
checked before anything is sent, exit status, confirmation, budget."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import eachlabs_widgets as el
from eachlabs_widgets._batch._cli import main
from eachlabs_widgets._batch._inputs import fingerprint
from eachlabs_widgets.emulator import Emulator, serve

TURBO = "flux-2-turbo-text-to-image"
KEY = "batch-key"


@pytest.fixture(scope="module")
def emulator():
    emu = Emulator(api_key=KEY)
    with serve(emu) as server:
        emu.url = server.url
        yield emu


@pytest.fixture
def env(emulator, tmp_path, monkeypatch):
    emulator.reset()
    emulator.configure(api_key=KEY, durations={TURBO: [0.05, 0.1]})
    values = {
        "EACHLABS_BASE_URL": emulator.url,
        "EACHLABS_API_KEY": KEY,
        "EACHLABS_HOME": str(tmp_path / "home"),
        "EACHLABS_OUTPUT_DIR": str(tmp_path / "out"),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def prompts(path: Path, rows: list[str], header: str = "prompt") -> Path:
    path.write_text(header + "\n" + "".join(r + "\n" for r in rows))
    return path


def results(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def until_answered(run: subprocess.Popen, ledger: Path, creates: int) -> None:
    """Wait (a minute at most) until ``run``'s ledger holds ``creates`` answered creates."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and run.poll() is None:
        text = ledger.read_text() if ledger.exists() else ""
        if text.count('"id"') >= creates:
            return
        time.sleep(0.02)


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "eachlabs_widgets", "batch", *args]


def test_a_batch_killed_with_sigkill_resumes_without_paying_twice(emulator, env, tmp_path):
    emulator.configure(durations={TURBO: [1.0, 1.5]})
    inputs = prompts(tmp_path / "p.csv", [f"a fox take {i}" for i in range(12)])
    ledger = tmp_path / "p.results.csv.progress"
    args = command(TURBO, str(inputs), "--yes", "--no-progress", "--concurrency", "4")
    log = (tmp_path / "first.log").open("w")
    first = subprocess.Popen(args, env={**os.environ, **env}, stderr=log)
    until_answered(first, ledger, 5)
    first.send_signal(signal.SIGKILL)
    first.wait()
    created_before = emulator.stats.predictions_created
    answered = {
        e["row"]: e["id"]
        for e in map(json.loads, ledger.read_text().splitlines()[1:])
        if e.get("id")
    }
    assert answered and created_before < 12

    second = subprocess.run(args, env={**os.environ, **env}, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    rows = results(tmp_path / "p.results.csv")
    assert [r["row"] for r in rows] == [str(n) for n in range(1, 13)]
    story = f"rows: {rows}\nledger: {ledger.read_text()}\nstderr: {second.stderr}"
    assert all(r["status"] == "success" and r["files"] for r in rows), story
    for number, pid in answered.items():  # answered creates were followed, not made again
        assert rows[number - 1]["id"] == pid, story
    # A create cut off by the kill may or may not have reached the service: each such row is
    # said ("created again"), and only those can have been paid twice.
    again = sum(1 for r in rows if r["note"].startswith("created again"))
    assert 12 <= emulator.stats.predictions_created <= 12 + again, story
    assert len({r["id"] for r in rows}) == 12


def test_ctrl_c_settles_every_prediction_in_flight_then_says_one_line(emulator, env, tmp_path):
    # Interrupted with many in flight: every worker settles its row before the process exits
    # (the creates in flight answered and recorded, each prediction cancelled on the service or
    # found ended), with no "Task was destroyed" or ignored exception, and a rerun creates only
    # what is missing.
    emulator.configure(durations={TURBO: [2.0, 3.0]})
    inputs = prompts(tmp_path / "p.csv", [f"a fox take {i}" for i in range(40)])
    ledger = tmp_path / "p.results.csv.progress"
    args = command(TURBO, str(inputs), "--yes", "--no-progress", "--concurrency", "20")
    first = subprocess.Popen(args, env={**os.environ, **env}, stderr=subprocess.PIPE, text=True)
    until_answered(first, ledger, 10)
    first.send_signal(signal.SIGINT)
    _, errors = first.communicate(timeout=60)
    assert first.returncode == 1, errors
    assert "Task was destroyed" not in errors and "Exception ignored" not in errors, errors
    assert errors.rstrip().endswith("run again with the same arguments to resume"), errors
    created = set(emulator.stats.prediction_ids)
    assert created
    recorded = {e.get("id") for e in map(json.loads, ledger.read_text().splitlines()[1:])}
    assert created <= recorded  # every prediction made is in the ledger: none paid for unseen
    records = {r["id"]: r for r in emulator.records()}
    # Each was cancelled on the service, or had ended before its cancel could be asked.
    assert all(r["cancel_requested_at"] or r["ended_at"] for r in records.values())
    assert sum(1 for r in records.values() if r["cancel_requested_at"]) > 0

    emulator.configure(durations={TURBO: [0.05, 0.1]})
    second = subprocess.run(args, env={**os.environ, **env}, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    rows = results(tmp_path / "p.results.csv")
    assert len(rows) == 40 and all(r["status"] == "success" for r in rows), second.stderr
    # Only rows never created are created now (a cancelled one is made again: it made nothing).
    assert emulator.stats.predictions_created <= 40 + len(created)
    again = [r for r in rows if r["note"].endswith("was cancelled (not billed)")]
    assert again and {r["note"].split()[2] for r in again} <= set(records)


def test_a_bad_field_is_named_with_its_row_and_nothing_is_sent(emulator, env, tmp_path, capsys):
    inputs = prompts(
        tmp_path / "p.csv", ["a fox,square", "a cat,huge", "a dog,square"], "prompt,image_size"
    )
    assert main([TURBO, str(inputs), "--yes", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "row 2" in err and "image_size" in err and "'huge' is not allowed" in err
    assert "row 1" not in err and "row 3" not in err
    assert emulator.stats.predictions_created == 0
    assert not (tmp_path / "p.results.csv").exists()


def test_exit_status_is_1_when_a_row_fails_and_results_say_why(emulator, env, tmp_path):
    inputs = prompts(tmp_path / "p.jsonl", [])
    inputs.write_text(
        "\n".join(json.dumps({"prompt": p}) for p in ["a fox", "a fox [moderate]", "a cat"])
    )
    assert (
        main([TURBO, str(inputs), "--yes", "--no-progress", "--out", str(tmp_path / "r.csv")]) == 1
    )
    rows = results(tmp_path / "r.csv")
    assert [r["status"] for r in rows] == ["success", "error", "success"]
    assert "content moderation" in rows[1]["error"]
    assert (
        prompts(tmp_path / "ok.csv", ["a fox"])
        and main([TURBO, str(tmp_path / "ok.csv"), "--yes", "--no-progress"]) == 0
    )


def test_without_a_terminal_it_goes_on_only_with_yes(emulator, env, tmp_path):
    inputs = prompts(tmp_path / "p.csv", ["a fox", "a cat"])
    refused = subprocess.run(
        command(TURBO, str(inputs), "--no-progress"),
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 2
    assert "pass --yes" in refused.stderr and "2 predictions" in refused.stderr
    assert emulator.stats.predictions_created == 0
    agreed = subprocess.run(
        command(TURBO, str(inputs), "--no-progress", "--yes"),
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    assert agreed.returncode == 0, agreed.stderr
    assert emulator.stats.predictions_created == 2


def test_max_cost_stops_before_spending_more(emulator, env, tmp_path):
    inputs = prompts(tmp_path / "p.csv", [f"a fox {i}" for i in range(10)])
    # The emulator's turbo costs $0.008 an image; nothing about prices is known beforehand.
    assert main([TURBO, str(inputs), "--yes", "--no-progress", "--max-cost", "0.03"]) == 1
    rows = results(tmp_path / "p.results.csv")
    done = [r for r in rows if r["status"] == "success"]
    assert len(done) == 3 and sum(float(r["cost"]) for r in done) <= 0.03
    assert all(r["status"] == "skipped" for r in rows if r not in done)
    assert emulator.stats.predictions_created == 3


def test_the_python_api_writes_jsonl_results_in_input_order(emulator, env, tmp_path):
    inputs = prompts(tmp_path / "p.csv", ["a fox", "a cat", "a dog"])
    summary = el.batch(TURBO, inputs, out=tmp_path / "r.jsonl", progress=False)
    assert summary.ok and summary.rows == 3
    lines = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [x["row"] for x in lines] == [1, 2, 3]
    assert all(isinstance(x["files"], list) and x["seed"] is not None for x in lines)


def test_prompts_with_commas_quotes_and_line_breaks_are_sent_as_written(emulator, env, tmp_path):
    texts = ["a red fox, in the snow", 'a "quoted" cat', "two lines,\nof text"]
    inputs = tmp_path / "p.csv"
    with inputs.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["prompt"])
        writer.writerows([text] for text in texts)
    assert main([TURBO, str(inputs), "--yes", "--no-progress"]) == 0
    rows = results(tmp_path / "p.results.csv")
    assert [r["row"] for r in rows] == ["1", "2", "3"]
    assert [r["status"] for r in rows] == ["success"] * 3
    sent = {e.id: e.inputs["prompt"] for e in el.history(limit=None, emulator=True)}
    assert [sent[r["id"]] for r in rows] == texts


def test_resumed_and_recreated_rows_are_told_apart(emulator, env, tmp_path):
    # As a SIGKILL leaves it: row 1 was created and answered, row 2 was sent but never
    # answered (the journal has no trace of it), row 3 was never started.
    inputs = prompts(tmp_path / "p.csv", ["a fox", "a cat", "a dog"])
    with el.EachLabs() as client:
        first = client.create_prediction(TURBO, {"prompt": "a fox"})

    ledger = tmp_path / "p.results.csv.progress"
    lines = [{"batch": fingerprint(TURBO, inputs)}, {"row": 1, "sent": True}]
    lines += [{"row": 1, "id": first}, {"row": 2, "sent": True}]
    ledger.write_text("".join(json.dumps(line) + "\n" for line in lines))
    created = emulator.stats.predictions_created

    assert main([TURBO, str(inputs), "--yes", "--no-progress"]) == 0
    rows = results(tmp_path / "p.results.csv")
    assert [r["id"] == first for r in rows] == [True, False, False]
    # Row 1's prediction had no journal row (made without one): following it records it.
    assert all(r["status"] == "success" and r["files"] for r in rows), rows
    assert el.history(limit=None, emulator=True)[-1].id == first
    assert rows[0]["note"] == "resumed"
    assert rows[1]["note"].startswith("created again")
    assert rows[2]["note"] == ""
    assert emulator.stats.predictions_created == created + 2


def test_a_rerun_of_a_finished_batch_asks_nothing_and_creates_nothing(emulator, env, tmp_path):
    inputs = prompts(tmp_path / "p.csv", ["a fox", "a cat"])
    first = subprocess.run(
        command(TURBO, str(inputs), "--no-progress", "--yes"),
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    assert first.returncode == 0, first.stderr
    assert "price unknown (no cost reported by the emulator yet)" in first.stderr
    before = results(tmp_path / "p.results.csv")
    again = subprocess.run(  # no --yes and no terminal: it goes on, as nothing will be created
        command(TURBO, str(inputs), "--no-progress"),
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0, again.stderr
    assert "all 2 rows were done by an earlier run: nothing to create" in again.stderr
    assert emulator.stats.predictions_created == 2
    assert results(tmp_path / "p.results.csv") == before


def test_a_rerun_estimates_only_the_rows_left(emulator, env, tmp_path, capsys):
    inputs = prompts(tmp_path / "p.csv", ["a fox", "a cat", "a dog"])
    ledger = tmp_path / "p.results.csv.progress"
    done = {"row": 1, "result": {"row": 1, "status": "success", "files": [], "seed": 1}}
    lines = [{"batch": fingerprint(TURBO, inputs)}, done]
    ledger.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert main([TURBO, str(inputs), "--yes", "--no-progress"]) == 0
    assert "2 of 3 rows left: 2 predictions (2 images)" in capsys.readouterr().err
    assert emulator.stats.predictions_created == 2
