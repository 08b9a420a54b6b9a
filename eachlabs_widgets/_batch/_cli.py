"""``eachlabs-batch MODEL INPUTS [--out RESULTS] [--max-cost USD] [--concurrency N] [--yes]``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .._exceptions import EachLabsError
from .._service.sync import run_sync
from ._inputs import BatchInputError
from ._run import run_batch

__all__ = ["build_parser", "main"]

#: Exit statuses: every row succeeded; some did not (failed, or left out by --max-cost or the
#: budget); nothing was run (refused before anything was sent, or every row left out).
OK, SOME_FAILED, NOT_RUN = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eachlabs-batch",
        description=(
            "Run one EachLabs model over the rows of INPUTS (a CSV with a header row of input "
            "names, or JSONL of one object per line; 'prompt' is required). Killed and run again "
            "with the same arguments, it resumes: nothing already created is created again."
        ),
        epilog="Exit status: 0 when every row succeeded, 2 when nothing was run (every row left "
        "out by --max-cost or the budget included), 1 otherwise.",
    )
    parser.add_argument("model", help="the model's slug, e.g. flux-2-turbo-text-to-image")
    parser.add_argument("inputs", type=Path, help="rows: .csv or .jsonl")
    parser.add_argument(
        "--out", default=None, help="RESULTS (default: INPUTS' name + .results.csv; .jsonl too)"
    )
    parser.add_argument(
        "--max-cost",
        type=float,
        default=None,
        metavar="USD",
        help="stop creating before spending more than this",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=10,
        metavar="N",
        help="predictions in flight at most (default 10); below it, the account's cap as the "
        "service's 429s reveal it (only accounts with a balance of $10 or less are capped)",
    )
    parser.add_argument(
        "--yes", action="store_true", help="go on without asking (required without a terminal)"
    )
    parser.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress (a bar on a terminal, a plain line every few seconds elsewhere)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.inputs.is_file():
        print(f"eachlabs-batch: {args.inputs}: no such file", file=sys.stderr)
        return NOT_RUN
    if args.concurrency < 1:
        print("eachlabs-batch: --concurrency must be at least 1", file=sys.stderr)
        return NOT_RUN

    def confirm(question: str) -> bool:
        if args.yes:
            return True
        if not sys.stdin.isatty():
            print("eachlabs-batch: no terminal to confirm on; pass --yes to go on", file=sys.stderr)
            return False
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")

    try:
        summary = run_sync(
            run_batch(
                args.model,
                args.inputs,
                out=args.out,
                max_cost=args.max_cost,
                concurrency=args.concurrency,
                confirm=confirm,
                progress=not args.no_progress,
            )
        )
    except BatchInputError as exc:
        print(f"eachlabs-batch: nothing was sent:\n{exc}", file=sys.stderr)
        return NOT_RUN
    except (EachLabsError, ValueError, OSError) as exc:
        print(f"eachlabs-batch: {exc}", file=sys.stderr)
        return NOT_RUN
    except KeyboardInterrupt:
        print(
            "eachlabs-batch: interrupted; run again with the same arguments to resume",
            file=sys.stderr,
        )
        return SOME_FAILED
    if summary is None:
        return NOT_RUN
    because = f" ({summary.not_run_because})" if summary.not_run_because else ""
    print(
        f"{summary.succeeded} of {summary.rows} succeeded, {summary.failed} failed, "
        f"{summary.skipped} not run{because}; results in {summary.results}",
        file=sys.stderr,
    )
    if summary.ok:
        return OK
    return NOT_RUN if summary.skipped == summary.rows else SOME_FAILED


if __name__ == "__main__":
    sys.exit(main())
