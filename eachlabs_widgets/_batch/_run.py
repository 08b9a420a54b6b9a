"""Run one model over the rows of a file: resumable, in flat memory, within a budget."""

from __future__ import annotations

import asyncio
import csv
import json
import statistics
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .._exceptions import (
    BudgetExceededError,
    EachLabsError,
    PredictionCancelledError,
    PredictionTimeoutError,
)
from .._generation import Generation
from .._journal.journal import Journal
from .._service.budget import Budget, usd
from .._service.client import AsyncEachLabs, settle_background
from .._service.prediction import Prediction
from .._settings import output_dir
from ._inputs import BatchInputError, fingerprint, payload_for, read_rows
from ._ledger import Ledger, RowState
from ._progress import make_progress
from ._reading import UnreadableInputs, sniff_format

__all__ = ["BatchSummary", "estimate_price", "results_path", "run_batch"]

COLUMNS = ["row", "id", "status", "files", "seed", "cost", "error", "note"]
MAX_LISTED = 20  # input problems listed before "and N more"
KEPT_PAYLOADS = 10_000  # rows whose checked payload is kept from the check to the run
#: Seconds an interrupted batch waits for the cancels it started to be settled.
BACKGROUND_HOLD = 15.0
#: How a row's status is counted while the batch runs: what was never sent never "failed".
_COUNTED = {"success": "done", "skipped": "not run"}


@dataclass(frozen=True)
class BatchSummary:
    """What a batch did: rows in all, how many succeeded, failed (sent, and did not succeed)
    or were not run (``skipped``: nothing sent, a budget reached); RESULTS; ``not_run_because``
    says why rows were not run (``--max-cost 0.02 reached``), ``None`` when none was left out."""

    rows: int
    succeeded: int
    failed: int
    skipped: int
    results: Path
    not_run_because: str | None = None

    @property
    def ok(self) -> bool:
        return self.succeeded == self.rows


def results_path(inputs: Path, out: str | Path | None) -> Path:
    """RESULTS: ``out``, or ``NAME.results.csv`` beside the inputs."""
    if out:
        return Path(out)
    return inputs.with_name(inputs.stem + ".results.csv")


def estimate_price(journal: Journal | None, model: str, base_url: str) -> float | None:
    """USD per image for ``model`` on ``base_url``, from the costs the service reported
    (``metrics.cost`` per image, learned in the journal); ``None`` until one was seen."""
    if journal is None:
        return None
    costs = getattr(journal, "costs", None)
    try:
        if callable(costs):
            seen = [float(c) for c in costs(model, base_url) if c is not None]
        else:
            seen = []
            for entry in journal.entries(limit=50, model=model, status="success"):
                cost = entry.metrics.get("cost")
                if entry.base_url == base_url and isinstance(cost, int | float) and entry.urls:
                    seen.append(float(cost) / len(entry.urls))
    except Exception:  # the journal is a help here, never a requirement
        return None
    return statistics.median(seen) if seen else None


class _Results:
    """RESULTS, written in input order as rows finish (later rows wait in a small buffer)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._jsonl = path.suffix.lower() in (".jsonl", ".ndjson")
        self._file: IO[str] = path.open("w", encoding="utf-8", newline="")
        self._csv = None if self._jsonl else csv.DictWriter(self._file, COLUMNS)
        if self._csv is not None:
            self._csv.writeheader()
        self._next = 1
        self._waiting: dict[int, dict[str, Any]] = {}

    def put(self, row: int, result: dict[str, Any]) -> None:
        self._waiting[row] = result
        while self._next in self._waiting:
            self._write(self._waiting.pop(self._next))
            self._next += 1
        self._file.flush()

    def _write(self, result: dict[str, Any]) -> None:
        if self._csv is not None:
            shown = dict(result)
            shown["files"] = ";".join(result.get("files") or [])
            self._csv.writerow({k: "" if shown.get(k) is None else shown[k] for k in COLUMNS})
        else:
            self._file.write(json.dumps({k: result.get(k) for k in COLUMNS}) + "\n")

    def close(self) -> None:
        self._file.close()


async def run_batch(
    model: str,
    inputs: Path,
    *,
    out: str | Path | None = None,
    max_cost: float | None = None,
    concurrency: int = 10,
    confirm: Callable[[str], bool] | None = None,
    progress: bool = True,
    client: AsyncEachLabs | None = None,
    say: Callable[[str], None] = lambda text: print(text, file=sys.stderr),
) -> BatchSummary | None:
    """Run ``model`` over every row of ``inputs``; ``None`` if ``confirm`` said no.

    ``concurrency`` is the most predictions in flight: the client's limiter is raised (or
    lowered) to it for the batch's run and set back after.

    Raises :class:`BatchInputError` (naming the row and field) before anything is sent.
    """
    client = client or AsyncEachLabs()
    base_url = client.settings().base_url
    schema = (await client.get_model(model)).get("request_schema") or {}
    batch = fingerprint(model, inputs)
    try:
        fmt = sniff_format(inputs)
    except UnreadableInputs as exc:
        raise BatchInputError(str(exc)) from None
    if fmt.note:
        say(f"{inputs.name}: {fmt.note}")
    properties = schema.get("properties")
    names = list(properties) if isinstance(properties, dict) else []

    def rows_of() -> Iterator[dict[str, Any]]:
        return read_rows(inputs, names, fmt)

    # Every row is checked before anything is sent. The first rows' payloads are kept for
    # their run (checking one costs about as much CPU as one of its polls); the rest are
    # checked again when their turn comes, so a long file is never held whole.
    rows = 0
    images_of: dict[int, int] = {}
    checked: dict[int, dict[str, Any]] = {}
    problems: list[str] = []
    for number, row in enumerate(rows_of(), 1):
        rows = number
        try:
            payload = payload_for(model, schema, row, number, batch)
        except BatchInputError as exc:
            problems.append(str(exc))
            continue
        images_of[number] = _images(payload)
        if number <= KEPT_PAYLOADS:
            checked[number] = payload
    if problems:
        more = len(problems) - MAX_LISTED
        listed = problems[:MAX_LISTED] + ([f"… and {more} more"] if more > 0 else [])
        raise BatchInputError("\n".join(listed))
    if rows == 0:
        raise BatchInputError(f"{inputs}: no rows")

    target = results_path(inputs, out)
    progress_path = target.with_name(target.name + ".progress")
    # A rerun estimates (and asks about) only the rows an earlier run did not finish.
    finished = Ledger.finished_rows(progress_path, batch)
    todo = rows - len(finished)
    images = sum(n for number, n in images_of.items() if number not in finished)
    price = estimate_price(client.journal, model, base_url)
    if todo == 0:
        say(f"all {rows} rows were done by an earlier run: nothing to create; writing {target}")
    else:
        reporter = "the emulator" if client.emulated else "the service"
        left = f"{todo} of {rows} rows left: " if finished else ""
        what = f"{left}{todo} predictions ({images} images) of {model}"
        if price is None:
            estimate = f"{what}: price unknown (no cost reported by {reporter} yet)"
        else:
            estimate = (
                f"{what}: about ${price * images:.2f} at ${price:.4f} per image, from what "
                f"{reporter} reported"
            )
        say(estimate + (f"; stopping before ${max_cost:.2f}" if max_cost is not None else ""))
        if confirm is not None and not confirm("Go on?"):
            return None

    ledger = Ledger(progress_path, batch)
    _find_lost_creates(ledger, client.journal, model, schema, rows_of(), batch)
    results = _Results(target)
    # Per batch run, on top of the session's budget that every create reserves against.
    budget = Budget(max_cost, setting="--max-cost")
    save_to = output_dir()
    counts = {"done": 0, "failed": 0, "not run": 0, "running": 0}
    statuses: dict[int, str] = {}  # every row's, this run's or an earlier one's
    not_run_because: dict[str, None] = {}  # the reasons, in the order first met
    bar = make_progress(rows, progress)

    async def one(number: int, row: dict[str, Any]) -> dict[str, Any]:
        kept = checked.pop(number, None)
        state = ledger.rows.get(number) or RowState()
        if state.result is not None:
            return state.result
        payload = kept or payload_for(model, schema, row, number, batch)
        result: dict[str, Any] = {"row": number}
        # Said from what the ledger knew before this run: running the row updates ``state``.
        earlier = state.id
        if state.id is not None:
            note = "resumed"
        elif state.sent:
            note = "created again: the earlier create was sent but never answered"
        else:
            note = None
        try:
            reservation = await budget.reserve(model, _images(payload), price)
        except BudgetExceededError:
            # Nothing sent, nothing in the ledger: a rerun runs the row (with the same seed,
            # which comes from the row's place in the batch, not from this run).
            not_run_because[f"--max-cost {max_cost} reached"] = None
            return {
                **result,
                "status": "skipped",
                "error": f"not run: --max-cost {max_cost} reached",
            }
        # The seed sent: a row left out has none (nothing was sent).
        result["seed"] = payload.get("seed")
        counts["running"] += 1
        if bar is not None:
            bar.show(counts)
        cost: Any = 0.0  # what the reservation is settled with: nothing billed unless said
        try:
            generation = await _run_row(client, ledger, number, state, model, payload, save_to)
        except (PredictionCancelledError, asyncio.CancelledError) as exc:
            if isinstance(exc, asyncio.CancelledError):
                cost = None  # a cancel not confirmed: it may still be billed
                raise
            result.update(status="cancelled", error=str(exc))
        except PredictionTimeoutError as exc:
            cost = None  # still running on the service: billed if it succeeds
            result.update(status="timeout", error=str(exc))
        except BudgetExceededError as exc:  # the session's budget: nothing was sent
            not_run_because[f"{exc.setting} {usd(exc.budget)} reached"] = None
            result.update(status="skipped", error=f"not run: {exc}", seed=None)
        except (EachLabsError, OSError) as exc:
            result.update(status="error", error=str(exc))
        else:
            cost = generation.metrics.get("cost")
            result.update(
                status="success",
                files=_files_of(client.journal, generation) if save_to else [],
                cost=cost,
            )
        finally:
            counts["running"] -= 1
            reservation.settle(cost)
        result["id"] = ledger.rows[number].id if number in ledger.rows else None
        if earlier is not None and result["id"] not in (None, earlier):
            note = f"created again: {earlier} was cancelled (not billed)"
        if note:
            result["note"] = note
        if result["status"] == "skipped":  # refused before its create: a rerun runs it
            ledger.unsent(number)
        else:
            ledger.finished(number, result)
        return result

    source = enumerate(rows_of(), 1)

    async def worker() -> None:
        for number, row in source:
            result = await one(number, row)
            results.put(number, result)
            statuses[number] = result["status"]
            counts[_COUNTED.get(result["status"], "failed")] += 1
            if bar is not None:
                bar.show(counts, advance=True)

    limiter = client.limiter
    ceiling = limiter.ceiling
    limiter.resize(concurrency)
    workers = [asyncio.ensure_future(worker()) for _ in range(max(1, concurrency))]
    try:
        await asyncio.gather(*workers)
    except BaseException:
        # Interrupted: gather returns as soon as one worker ends, while the others still
        # settle their rows (a create in flight waited for and cancelled, a cancel asked of
        # the service). Every one of them finishes that first, and so does the work they
        # left in the background: else the process exits under them, their cancels unsent.
        if any(not w.done() for w in workers):
            say("interrupted: cancelling the predictions in flight on the service…")
        await _finish(workers)
        await settle_background(BACKGROUND_HOLD)
        raise
    finally:
        limiter.resize(ceiling)
        results.close()
        ledger.close()
        if bar is not None:
            bar.close()
    succeeded = sum(1 for s in statuses.values() if s == "success")
    skipped = sum(1 for s in statuses.values() if s == "skipped")
    because = "; ".join(not_run_because) or None
    return BatchSummary(rows, succeeded, rows - succeeded - skipped, skipped, target, because)


async def _finish(workers: Sequence[asyncio.Future[None]]) -> None:
    """Cancel ``workers`` and wait until each has ended, whatever interrupts come meanwhile
    (each one's clean-up is bounded: the client waits a few seconds at most for a create or a
    cancel). A fifth Ctrl+C still ends the process at once (see :func:`run_sync`)."""
    while True:
        pending = [w for w in workers if not w.done()]
        if not pending:
            return
        for w in pending:
            w.cancel()
        try:
            await asyncio.wait(pending)
        except asyncio.CancelledError:
            continue


async def _run_row(
    client: AsyncEachLabs,
    ledger: Ledger,
    number: int,
    state: RowState,
    model: str,
    payload: dict[str, Any],
    save_to: str | None,
) -> Generation:
    if state.id is not None:  # created by an earlier run: follow it, create nothing
        try:
            return await client.follow(state.id, model, payload, save_to=save_to)
        except PredictionCancelledError:
            pass  # cancelled when that run was interrupted: never billed, so made again

    def on_update(prediction: Prediction) -> None:
        if prediction.status == "created":
            ledger.created(number, prediction.id)

    ledger.sent(number)
    return await client.run(model, payload, on_update=on_update, save_to=save_to)


def _find_lost_creates(
    ledger: Ledger,
    journal: Journal | None,
    model: str,
    schema: dict[str, Any],
    rows: Iterator[dict[str, Any]],
    batch: str,
) -> None:
    """Rows sent without a recorded answer: the journal may have their prediction (killed
    between its write and ours); the row's seed makes its inputs unique to it."""
    lost = {n for n, s in ledger.rows.items() if s.sent and s.id is None and s.result is None}
    if not lost or journal is None:
        return
    wanted: dict[str, int] = {}
    for number, row in enumerate(rows, 1):
        if number in lost:
            wanted[json.dumps(payload_for(model, schema, row, number, batch), sort_keys=True)] = (
                number
            )
    try:
        entries = journal.entries(limit=max(1000, 4 * len(ledger.rows)), model=model)
    except Exception:
        return
    for entry in entries:
        number = wanted.pop(json.dumps(entry.inputs, sort_keys=True), 0)
        if number:
            ledger.created(number, entry.id)


def _files_of(journal: Journal | None, generation: Generation) -> list[str]:
    """Where the prediction's outputs were saved: what the save itself reported (what the
    journal records too), or the journal's row when the save said nothing. Reading the
    journal waits for its writes, on the event loop: it is the exception."""
    if generation.paths:
        return [str(path) for path in generation.paths]
    flush = getattr(journal, "flush", None)
    if callable(flush):
        flush()
    entry = journal.get(generation.id) if journal is not None else None
    return list(entry.files) if entry is not None else []


def _images(payload: dict[str, Any]) -> int:
    count = payload.get("num_images", 1)
    return count if isinstance(count, int) and count > 0 else 1
