"""The rows of a batch: a CSV with a header row of input names, or JSONL of one object a line.

Rows are read as they are needed (a 1,000-row file is never all in memory as payloads).
Every row is checked against the model's schema before anything is sent.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .._exceptions import InputValidationError
from .._schema.inputs import choose_seed, validate_inputs

__all__ = ["BatchInputError", "fingerprint", "payload_for", "read_rows", "row_key"]


class BatchInputError(ValueError):
    """The inputs file cannot run: unreadable, no ``prompt``, or a row the schema refuses."""


def read_rows(path: Path) -> Iterator[dict[str, Any]]:
    """Each row's inputs (``row`` numbers from 1); empty CSV cells are left out."""
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        with path.open(encoding="utf-8") as lines:
            number = 0
            for line_no, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                number += 1
                try:
                    row = json.loads(line)
                except ValueError as exc:
                    raise BatchInputError(f"{path}: line {line_no} is not JSON ({exc})") from None
                if not isinstance(row, dict):
                    raise BatchInputError(f"{path}: line {line_no} is not a JSON object")
                yield row
        return
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or "prompt" not in reader.fieldnames:
            raise BatchInputError(f"{path}: the header row must name a 'prompt' column")
        for row in reader:
            if None in row:
                raise BatchInputError(
                    f"{path}: line {reader.line_num} has more cells than the header"
                )
            yield {k: v for k, v in row.items() if v not in (None, "")}


def fingerprint(model: str, path: Path) -> str:
    """Names one batch: the model and the inputs file's content."""
    digest = hashlib.sha256(model.encode() + b"\n")
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def row_key(batch: str, number: int) -> random.Random:
    """A generator seeded by the row, so a rerun picks the same seed for it."""
    digest = hashlib.sha256(f"{batch}:{number}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def payload_for(
    model: str, schema: Mapping[str, Any], row: Mapping[str, Any], number: int, batch: str
) -> dict[str, Any]:
    """The row as it will be sent: checked, coerced, with a seed that is the same on a rerun.

    Raises :class:`BatchInputError` naming the row and the field.
    """
    if not isinstance(row.get("prompt"), str) or not row["prompt"].strip():
        raise BatchInputError(f"row {number}: prompt: required, but not given")
    try:
        payload = validate_inputs(model, schema, row)
    except InputValidationError as exc:
        fields = ", ".join(str(p.get("field")) for p in exc.problems)
        raise BatchInputError(f"row {number} ({fields}): {exc}") from None
    return choose_seed(schema, payload, row_key(batch, number))
