"""The rows of a batch: a CSV with a header row of input names, or JSONL of one object a line,
in the encodings and separators spreadsheets write (see :mod:`._reading`).

Rows are read as they are needed (a 1,000-row file is never all in memory as payloads).
Every row is checked against the model's schema before anything is sent.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .._exceptions import InputValidationError
from .._schema.inputs import choose_seed, validate_inputs
from ._reading import InputsFormat, UnreadableInputs, sniff_format

__all__ = ["BatchInputError", "fingerprint", "payload_for", "read_rows", "row_key"]


class BatchInputError(ValueError):
    """The inputs file cannot run: unreadable, no ``prompt``, or a row the schema refuses."""


def read_rows(
    path: Path, names: Iterable[str] = (), fmt: InputsFormat | None = None
) -> Iterator[dict[str, Any]]:
    """Each row's inputs, in file order; blank lines and rows of empty cells are skipped and
    empty cells left out. Column names (CSV headers, JSONL keys) are matched to ``names`` (the
    model's inputs) and ``prompt`` ignoring case, surrounding blanks and ``_`` written as a
    space. The encoding and separator are sniffed (:func:`sniff_format`) unless ``fmt`` is
    given.

    Raises :class:`BatchInputError` saying what to change in the file.
    """
    try:
        fmt = fmt or sniff_format(path)
        if fmt.jsonl:
            yield from _jsonl_rows(path, fmt, names)
        else:
            yield from _csv_rows(path, fmt, names)
    except UnreadableInputs as exc:
        raise BatchInputError(str(exc)) from None
    except UnicodeDecodeError as exc:
        raise BatchInputError(
            f"{path}: not {fmt.encoding if fmt else 'UTF-8'} text ({exc.reason}): save it as "
            "UTF-8 (in Excel: Save As › 'CSV UTF-8 (Comma delimited)')"
        ) from None


def _jsonl_rows(path: Path, fmt: InputsFormat, names: Iterable[str]) -> Iterator[dict[str, Any]]:
    lookup = _lookup(names)
    with path.open(encoding=fmt.encoding) as lines:
        for line_no, line in enumerate(lines, 1):
            line = line.lstrip("\ufeff")  # a mark may also start a line of joined files
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise BatchInputError(
                    f"{path}: line {line_no} is not JSON ({exc}): each line must be one object, "
                    'e.g. {"prompt": "a fox", "seed": 7}'
                ) from None
            if not isinstance(row, dict):
                raise BatchInputError(
                    f"{path}: line {line_no} is not a JSON object: write each row as "
                    '{"prompt": "…", …} on a line of its own'
                )
            keys = _named(path, f"line {line_no}", list(row), lookup)
            yield dict(zip(keys, row.values(), strict=True))


def _csv_rows(path: Path, fmt: InputsFormat, names: Iterable[str]) -> Iterator[dict[str, Any]]:
    lookup = _lookup(names)
    with path.open(encoding=fmt.encoding, newline="") as handle:
        reader = csv.reader(handle, fmt.dialect())
        header: list[str] | None = None
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue  # a blank line, or a row of empty cells (Excel writes ",,,")
            if header is None:
                header = _named(path, "the header row", cells, lookup)
                if "prompt" not in header:
                    shown = ", ".join(repr(c) for c in cells)
                    raise BatchInputError(
                        f"{path}: the header row must name a 'prompt' column (it names "
                        f"{shown}): rename the column of prompts to 'prompt'"
                    )
                continue
            extra = cells[len(header) :]
            if any(c.strip() for c in extra):
                raise BatchInputError(
                    f"{path}: line {reader.line_num} has {len(cells)} cells, the header "
                    f"{len(header)}: put a cell holding {_said(fmt.delimiter)} in double quotes "
                    f'("a fox{fmt.delimiter} in snow"), or add the missing column\'s name'
                )
            row = {k: v for k, v in zip(header, cells, strict=False) if v.strip()}
            if "" in row:
                raise BatchInputError(
                    f"{path}: line {reader.line_num} has {row['']!r} under a column without a "
                    "name: name that column in the header row, or empty its cells"
                )
            yield row  # a short row leaves its last inputs out, as empty cells do
    if header is None:
        raise BatchInputError(f"{path}: no rows: the first line names the inputs, e.g. prompt,seed")


def _lookup(names: Iterable[str]) -> dict[str, str]:
    lookup = {_folded(n): n for n in names if isinstance(n, str)}
    lookup.setdefault("prompt", "prompt")
    return lookup


def _folded(name: str) -> str:
    return " ".join(name.replace("\ufeff", "").replace("_", " ").split()).casefold()


def _named(path: Path, where: str, keys: list[str], lookup: dict[str, str]) -> list[str]:
    """The inputs' own names for ``keys``; two columns for one input is an error."""
    source: dict[str, str] = {}
    names: list[str] = []
    for key in keys:
        name = lookup.get(_folded(key), key.strip())
        names.append(name)
        if not name:
            continue  # a column without a name (spreadsheets export empty ones): its cells must be too
        if name in source:
            raise BatchInputError(
                f"{path}: {where}: {source[name]!r} and {key!r} both name the input {name!r}: "
                "keep one"
            )
        source[name] = key
    return names


def _said(delimiter: str) -> str:
    return {"\t": "a tab"}.get(delimiter, f"'{delimiter}'")


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
