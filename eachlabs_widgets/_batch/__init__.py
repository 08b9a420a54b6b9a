"""Batches: one model over the rows of a CSV or JSONL file, resumable, within a budget.

From a shell: ``eachlabs-batch MODEL INPUTS [--out RESULTS] [--max-cost USD]
[--concurrency N] [--yes]`` (or ``python -m eachlabs_widgets batch …``); from Python:
:func:`batch`.

A front end: it may import every wing (``_service``, ``_schema``, ``_journal``) and the
package's base modules; nothing imports it but the package's top.
"""

from __future__ import annotations

from pathlib import Path

from .._service.sync import run_sync
from ._inputs import BatchInputError
from ._run import BatchSummary, estimate_price, run_batch

__all__ = ["BatchInputError", "BatchSummary", "batch", "estimate_price"]


def batch(
    model: str,
    inputs: str | Path,
    *,
    out: str | Path | None = None,
    max_cost: float | None = None,
    concurrency: int = 10,
    progress: bool = True,
) -> BatchSummary:
    """Run ``model`` over every row of ``inputs`` (CSV with a header row of input names, or
    JSONL; ``prompt`` required) and write RESULTS (``NAME.results.csv`` beside the inputs by
    default): one row per input row, in input order, with ``row``, ``id``, ``status``,
    ``files``, ``seed``, ``cost``, ``error`` and ``note``.

    Every row is checked against the model's schema first (:class:`BatchInputError` names the
    row and the field; nothing is sent). ``max_cost`` (USD) stops creating before more would
    be spent: rows it (or the session's budget) leaves out are ``skipped``, never sent, counted
    in :attr:`BatchSummary.skipped` (not ``failed``), and run by the next call. Calling it again with the same arguments resumes: rows whose create was answered
    are not created again. Outputs are saved to the output folder (``EACHLABS_OUTPUT_DIR``).
    """
    summary = run_sync(
        run_batch(
            model,
            Path(inputs),
            out=out,
            max_cost=max_cost,
            concurrency=concurrency,
            progress=progress,
        )
    )
    assert summary is not None  # no confirmation is asked from Python
    return summary
