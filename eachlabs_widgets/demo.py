"""Run a notebook headless and say where its results are: ``python -m eachlabs_widgets.demo NB``.

Used by ``scripts/demo`` to run ``notebooks/quickstart.ipynb`` on the embedded emulator. The
executed notebook and an HTML copy are written to the output folder, and the images beside them
(the notebook runs with that folder as its working directory).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def run_notebook(source: Path, output_dir: Path, timeout: int = 600) -> tuple[Path, Path]:
    """Execute ``source`` in a fresh kernel inside ``output_dir``; returns (ipynb, html) paths."""
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    output_dir.mkdir(parents=True, exist_ok=True)
    notebook = nbformat.read(source, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(output_dir)}},
    )
    client.execute()
    executed = output_dir / source.name
    nbformat.write(notebook, executed)
    html, _ = HTMLExporter().from_notebook_node(notebook)
    page = executed.with_suffix(".html")
    page.write_text(html, encoding="utf-8")
    return executed, page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--output-dir", type=Path, default=Path("demo-output"))
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = parser.parse_args(argv)
    if not os.environ.get("EACHLABS_BASE_URL") and not os.environ.get("EACHLABS_API_KEY"):
        os.environ["EACHLABS_BASE_URL"] = "emulator"
    where = os.environ.get("EACHLABS_BASE_URL", "https://api.eachlabs.ai")
    print(f"Running {args.notebook} against {where} …", flush=True)
    started = time.monotonic()
    out = args.output_dir.resolve()
    executed, page = run_notebook(args.notebook.resolve(), out, args.timeout)
    images = sorted(p for p in (out / "eachgen_outputs").glob("*") if not p.name.endswith(".json"))
    print(f"Done in {time.monotonic() - started:.0f} s.")
    print(f"  Open this page in a browser to see the results: {page}")
    print(f"  The executed notebook:                          {executed}")
    print(f"  {len(images)} full-size image(s) with their parameters in: {out / 'eachgen_outputs'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
