"""``python -m eachlabs_widgets batch …`` (see ``eachlabs-batch --help``)."""

from __future__ import annotations

import sys


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] != "batch":
        print("usage: python -m eachlabs_widgets batch MODEL INPUTS [options]", file=sys.stderr)
        return 2
    from ._batch._cli import main as batch

    return batch(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
