"""``python -m eachlabs_widgets.emulator`` (console script ``eachlabs-emulator``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .core import Emulator
from .faults import KINDS, parse_spec
from .predictions import CLASSIFICATIONS
from .replay import Replay
from .server import serve

REPLAY_HELP = """replay (--replay TRACE):
  TRACE is a JSON Lines file, as doctor(live=True) writes it. Line 1 is a header
  {"trace": "eachlabs-widgets", "version": 1, "base_url": "<api origin>", ...}; each
  further line is one exchange
  {"request": {"method", "url": <absolute, signatures cut>, "headers", "body"},
   "response": {"status", "headers", "body"}, "elapsed_ms": n}
  with each body a JSON value, {"text": str}, {"bytes": n, "sha256": hex,
  "content_type": str} or null. A request gets the next unused exchange with the same
  method and URL path (query ignored) at the API's origin; other origins (upload PUTs,
  output downloads) are served here under /_replay/{scheme}/{host}/..., and their URLs
  are rewritten to it in replayed bodies. {"bytes": ...} bodies answer a deterministic
  placeholder of that type (a real PNG for image/png). With no exchange left:
  404 {"error": "no recorded exchange for METHOD PATH"}."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eachlabs-emulator",
        description="Serve a local emulator of the EachLabs Predictions API.",
        epilog=REPLAY_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--port", type=int, default=8787, help="port (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--speed", type=float, default=1.0, help="duration scale (0.1 = 10x)")
    parser.add_argument("--api-key", default=None, help="accept only this key (default: any)")
    parser.add_argument("--seed", type=int, default=None, help="make prediction ids reproducible")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help=f"kind[:endpoint[:times]] with kind in {', '.join(KINDS)}; repeatable",
    )
    parser.add_argument(
        "--failure",
        choices=sorted(CLASSIFICATIONS),
        default=None,
        help="every prediction fails with this classification",
    )
    parser.add_argument(
        "--legacy-failed-status", action="store_true", help="failures poll as 'failed'"
    )
    parser.add_argument("--never-finish", action="store_true", help="predictions never end")
    parser.add_argument("--output-404", action="store_true", help="output files answer 404")
    parser.add_argument(
        "--string-defaults", action="store_true", help="schemas print defaults as strings"
    )
    parser.add_argument(
        "--account-cap",
        type=int,
        default=10,
        help="predictions in flight per account (default 10; with --balance: only at $10 or less)",
    )
    parser.add_argument(
        "--balance",
        type=float,
        default=None,
        metavar="USD",
        help="the account's balance: no cap above $10; 402 when in-flight estimates exceed it",
    )
    parser.add_argument(
        "--starts-per-second",
        type=int,
        default=None,
        metavar="N",
        help="more creates a second answer 429 'too many executions were started at once'",
    )
    parser.add_argument(
        "--created-seconds",
        type=float,
        default=0.0,
        metavar="S",
        help="predictions stay 'created' this long before starting",
    )
    parser.add_argument(
        "--cancel-completes",
        action="store_true",
        help="an accepted cancel does not take: the prediction completes and is billed",
    )
    parser.add_argument(
        "--cancel-status-success",
        action="store_true",
        help='the cancel answers "status": "success" (a doc page\'s variant)',
    )
    parser.add_argument(
        "--trainer-output-string",
        action="store_true",
        help="trainers answer their output as a JSON string",
    )
    parser.add_argument(
        "--files-delete-404",
        action="store_true",
        help="DELETE /v1/files/{id} of an unknown file answers 404 (default 204)",
    )
    parser.add_argument(
        "--files-processing-seconds",
        type=float,
        default=0.0,
        metavar="S",
        help="a delete this soon after the upload answers 409 (still processing)",
    )
    parser.add_argument(
        "--presign-without-id", action="store_true", help="the presign answer has no 'id'"
    )
    parser.add_argument(
        "--record-categories",
        action="store_true",
        help="failure envelopes use the record's error_code/category words (VALIDATION, …)",
    )
    parser.add_argument(
        "--durations",
        default=None,
        metavar="JSON",
        help="per-model duration ranges, e.g. '{\"imagen-4-fast\": [0.8, 1.4]}' (seconds)",
    )
    parser.add_argument(
        "--cache-mb", type=float, default=32, help="bound of the generated-file cache (MB)"
    )
    parser.add_argument(
        "--replay",
        default=None,
        metavar="TRACE",
        help="serve a recorded trace back instead (see below); the switches above do not apply",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser


def _emulator(args: argparse.Namespace) -> Emulator:
    faults = [parse_spec(spec) for spec in args.fault]
    try:
        durations = json.loads(args.durations) if args.durations else None
    except ValueError:
        raise ValueError("--durations must be a JSON object") from None
    emulator = Emulator(
        speed=args.speed,
        api_key=args.api_key,
        seed=args.seed,
        account_cap=args.account_cap,
        failure=args.failure,
        legacy_failed_status=args.legacy_failed_status,
        never_finish=args.never_finish,
        output_404=args.output_404,
        string_defaults=args.string_defaults,
        durations=durations,
        cache_bytes=int(args.cache_mb * 1024 * 1024),
        balance=args.balance,
        starts_per_second=args.starts_per_second,
        created_seconds=args.created_seconds,
        cancel_completes=args.cancel_completes,
        cancel_status_success=args.cancel_status_success,
        trainer_output_string=args.trainer_output_string,
        files_delete_404=args.files_delete_404,
        files_processing_seconds=args.files_processing_seconds,
        presign_without_id=args.presign_without_id,
        record_categories=args.record_categories,
    )
    for fault in faults:
        emulator.inject(fault.kind, endpoint=fault.endpoint, times=fault.times, **fault.options)
    return emulator


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    answers: Emulator | Replay
    try:
        answers = Replay.load(args.replay) if args.replay else _emulator(args)
    except (OSError, ValueError) as exc:
        print(f"eachlabs-emulator: {exc}", file=sys.stderr)
        return 2
    server = serve(answers, host=args.host, port=args.port, verbose=args.verbose)
    if isinstance(answers, Replay):
        count = len(answers.exchanges)
        print(f"Replaying {args.replay} ({count} exchanges) on {server.url}", flush=True)
    else:
        print(f"EachLabs emulator listening on {server.url}", flush=True)
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
