"""What checking inputs costs as a schema grows: enum size, description length, property count.

Each figure is the best of a few runs, first (compiling the schema's rules) and then warm
(the rules cached, as a form re-checks on every keystroke). Doubling the size should about
double the time: the checks are linear.

    python benchmarks/schema_costs.py
"""

from __future__ import annotations

import time
from collections.abc import Callable

from eachlabs_widgets._schema.inputs import check_value, validate_inputs
from eachlabs_widgets._schema.media import media_kind
from eachlabs_widgets._schema.rules import _CACHE, _CHECKED


def best(action: Callable[[], object], runs: int = 3, *, cold: bool = False) -> float:
    times = []
    for _ in range(runs):
        if cold:  # neither the rules nor the metaschema's verdicts on their pieces are kept
            _CACHE.clear()
            _CHECKED.clear()
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def row(
    label: str, sizes: list[int], make: Callable[[int], Callable[[], object]], **kw: bool
) -> None:
    previous = None
    for n in sizes:
        took = best(make(n), **kw)
        growth = f"  x{took / previous:4.1f}" if previous else ""
        print(f"{label:<38} {n:>7}: {took * 1000:8.2f} ms{growth}")
        previous = took


def enum_schema(n: int) -> dict:
    members = [f"v{i}" for i in range(n)]
    return {
        "properties": {"prompt": {"type": "string"}, "style": {"type": "string", "enum": members}}
    }


def main() -> None:
    sizes = [5_000, 10_000, 20_000, 40_000]
    row(
        "validate_inputs, enum (cold)",
        sizes,
        lambda n: lambda: validate_inputs("m", enum_schema(n), {"style": f"v{n - 1}"}),
        cold=True,
    )
    row(
        "validate_inputs, enum (warm)",
        sizes,
        lambda n: lambda: validate_inputs("m", enum_schema(n), {"style": f"v{n - 1}"}),
    )
    row(
        "check_value, enum, a wrong value (warm)",
        sizes,
        lambda n: lambda: check_value(enum_schema(n)["properties"]["style"], "nope"),
    )
    row(
        "media_kind, description of n words",
        [8_000, 16_000, 32_000, 64_000],
        lambda n: lambda: media_kind("style", {"type": "string", "description": "url " * n}),
    )
    row(
        "validate_inputs, n properties (cold)",
        [250, 500, 1_000, 2_000],
        lambda n: (
            lambda: validate_inputs(
                "m",
                {"properties": {f"p{i}": {"type": "integer", "maximum": "9"} for i in range(n)}},
                {f"p{i}": "5" for i in range(n)},
            )
        ),
        cold=True,
    )


if __name__ == "__main__":
    main()
