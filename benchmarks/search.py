"""How fast ``find()`` answers: a search of the journal's prompts over 10,000 rows.

A fresh journal in a temporary ``EACHLABS_HOME`` gets N predictions (prompts drawn from a
vocabulary of 2,000 words, a negative prompt on one in three, a star on one in ten, a tag on
one in five), written the way the client writes them. Then, each the median of several calls:

- the first search, which builds the FTS5 index for the rows already there (once per journal);
- ``Journal.search`` of two words (``"red fox"``), of a prefix (``"re"``), of a prefix in
  nearly every row (``"w0"``: every match ranked), of a word with the filters (model, starred,
  tag), and of no text (newest first): the rows and their entries;
- ``el.find("red fox")``: the same, made into ``Results`` (no files to read here).

Goal: a search answers in under 50 ms over 10,000 rows.

    python benchmarks/search.py [--rows 10000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

GOAL_MS = 50.0


def median_ms(call: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        before = time.perf_counter()
        call()
        times.append(time.perf_counter() - before)
    return statistics.median(times) * 1000


def fill(rows: int) -> None:
    from eachlabs_widgets._journal.journal import default_journal

    rng = random.Random(7)
    vocabulary = [f"w{n:04d}" for n in range(2000)] + ["red", "fox", "snow", "castle", "dusk"]
    models = ["flux-2-pro", "flux-2-turbo-text-to-image", "imagen-4-fast", "gpt-image-v1-5"]
    journal = default_journal()
    for n in range(rows):
        inputs: dict[str, Any] = {
            "prompt": " ".join(rng.choice(vocabulary) for _ in range(rng.randint(6, 30))),
            "seed": n,
        }
        if n % 3 == 0:
            inputs["negative_prompt"] = " ".join(rng.choice(vocabulary) for _ in range(5))
        pid = f"bench-{n:06d}"
        journal.submit_created(pid, models[n % len(models)], inputs, "https://api.eachlabs.ai")
        journal.submit_update(pid, status="success", metrics={"cost": 0.01}, duration=2.0)
    journal.flush()
    for n in range(0, rows, 10):
        journal.mark(f"bench-{n:06d}", starred=True, add=["hero"] if n % 20 == 0 else [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["EACHLABS_HOME"] = home
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        import eachlabs_widgets as el
        from eachlabs_widgets._journal.journal import default_journal

        fill(args.rows)
        journal = default_journal()
        before = time.perf_counter()
        journal.search("red")
        build = (time.perf_counter() - before) * 1000
        cases = {
            'search("red fox")': lambda: journal.search("red fox"),
            'search("re") (a prefix)': lambda: journal.search("re"),
            'search("w0") (in nearly every row)': lambda: journal.search("w0"),
            'search("red", model, starred, tag)': lambda: journal.search(
                "red", model="flux-2-pro", starred=True, tag="hero"
            ),
            "search() (newest first)": lambda: journal.search(),
            'el.find("red fox")': lambda: el.find("red fox"),
        }
        print(f"{args.rows:,} rows; first search, building the index: {build:.0f} ms")
        worst = 0.0
        for name, call in cases.items():
            figure = median_ms(call, args.repeat)
            worst = max(worst, figure)
            found = len(call())
            print(f"  {name:<38} {figure:7.1f} ms  ({found} found)")
        verdict = "met" if worst < GOAL_MS else "NOT met"
        print(f"goal: every search under {GOAL_MS:.0f} ms: {verdict} (slowest {worst:.1f} ms)")


if __name__ == "__main__":
    main()
