"""``python -m eachlabs_widgets.emulator`` (console script ``eachlabs-emulator``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .core import Emulator
from .faults import KINDS, parse_spec
from .predictions import CLASSIFICATIONS
from .server import serve


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="eachlabs-emulator",
        description="Serve a local emulator of the EachLabs Predictions API.",
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
    parser.add_argument("--failure", choices=sorted(CLASSIFICATIONS), default=None)
    parser.add_argument("--legacy-failed-status", action="store_true")
    parser.add_argument("--never-finish", action="store_true")
    parser.add_argument("--output-404", action="store_true")
    parser.add_argument("--string-defaults", action="store_true")
    parser.add_argument("--account-cap", type=int, default=10)
    parser.add_argument(
        "--durations",
        default=None,
        metavar="JSON",
        help="per-model duration ranges, e.g. '{\"imagen-4-fast\": [0.8, 1.4]}' (seconds)",
    )
    parser.add_argument(
        "--cache-mb", type=float, default=32, help="bound of the generated-file cache (MB)"
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
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
        )
    except ValueError as exc:
        print(f"eachlabs-emulator: {exc}", file=sys.stderr)
        return 2
    for fault in faults:
        emulator.inject(fault.kind, endpoint=fault.endpoint, times=fault.times, **fault.options)
    server = serve(emulator, host=args.host, port=args.port, verbose=args.verbose)
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
