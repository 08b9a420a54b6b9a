"""How an inputs file is written: its text encoding and, for a CSV, its separator.

Spreadsheets export CSV in several shapes: Excel's "CSV UTF-8" and Windows PowerShell start
the file with a byte-order mark, older exports are Windows-1252 text, Excel in most of Europe
separates cells with ``;``, "Unicode Text" is UTF-16 with tabs. All of these are read; what was
assumed is said once (:attr:`InputsFormat.note`); a file that cannot be read says what to
change.
"""

from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DELIMITERS", "InputsFormat", "UnreadableInputs", "sniff_format"]

#: The separators a CSV may use: comma, semicolon (Excel with a decimal comma), tab, pipe.
DELIMITERS = ",;\t|"
_NAMES = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "pipes"}
_SAMPLE = 64 * 1024  # enough text to see the header and a few rows
_SAVE_AS = "save it as UTF-8 (in Excel: Save As › 'CSV UTF-8 (Comma delimited)')"


class UnreadableInputs(ValueError):
    """The file's bytes cannot be read as text or rows; the message says what to change."""


@dataclass(frozen=True)
class InputsFormat:
    """``encoding`` (a Python codec name), ``jsonl`` or not, the CSV ``delimiter`` and
    ``skipinitialspace`` (blanks after each separator, as in ``prompt, seed``), and ``note``:
    a sentence on what was assumed, or ``None`` for plain UTF-8 comma-separated text."""

    encoding: str
    jsonl: bool
    delimiter: str = ","
    skipinitialspace: bool = False
    note: str | None = None

    def dialect(self) -> type[csv.Dialect]:
        """The ``csv`` dialect: Excel's quoting with this file's separator."""

        class Sniffed(csv.excel):
            delimiter = self.delimiter
            skipinitialspace = self.skipinitialspace

        return Sniffed


def sniff_format(path: Path) -> InputsFormat:
    """How ``path`` is written; raises :class:`UnreadableInputs` saying what to change."""
    with path.open("rb") as handle:
        head = handle.read(_SAMPLE)
    if head.startswith(b"PK\x03\x04"):
        raise UnreadableInputs(
            f"{path}: this is a spreadsheet workbook (.xlsx/.ods), not CSV text: in the "
            f"spreadsheet, Save As › 'CSV UTF-8 (Comma delimited)'"
        )
    encoding, said = _encoding(path, head)
    text = head.decode(encoding, errors="ignore")
    jsonl = path.suffix.lower() in (".jsonl", ".ndjson") or (
        path.suffix.lower() == ".json" and text.lstrip("\ufeff \t\r\n").startswith("{")
    )
    if jsonl:
        return InputsFormat(encoding, True, note=said)
    if path.suffix.lower() == ".json":
        raise UnreadableInputs(
            f"{path}: a JSON file must hold one object per line (JSONL), e.g. "
            '{"prompt": "a fox"}; rename it to .jsonl once it does'
        )
    delimiter, blanks = _delimiter(text)
    notes = [said] if said else []
    if delimiter != ",":
        notes.append(f"cells separated by {_NAMES[delimiter]}")
    return InputsFormat(encoding, False, delimiter, blanks, "; ".join(notes) or None)


def _encoding(path: Path, head: bytes) -> tuple[str, str | None]:
    """UTF-16 by its byte-order mark; else UTF-8 (with or without a mark); else Windows-1252
    (what Excel's plain "CSV" writes on Western Windows), said so; else an error."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "read as UTF-16 (its byte-order mark says so)"
    if head.count(b"\x00") > len(head) // 4:  # UTF-16 without a mark: every other byte is 0
        even = head[0::2].count(0) > head[1::2].count(0)
        return ("utf-16-be" if even else "utf-16-le"), "read as UTF-16 (every other byte is 0)"
    where = _first_bad(path, "utf-8-sig")
    if where is None:
        return "utf-8-sig", None
    if _first_bad(path, "cp1252") is None:
        return "cp1252", (
            f"not UTF-8 (line {where}): read as Windows-1252; if characters look wrong, {_SAVE_AS}"
        )
    raise UnreadableInputs(
        f"{path}: line {where} is neither UTF-8 nor Windows-1252 text: {_SAVE_AS}"
    )


def _first_bad(path: Path, encoding: str) -> int | None:
    """The first line that does not decode, or ``None`` when the whole file does."""
    decoder = codecs.getincrementaldecoder(encoding)()
    line = 1
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                return line + block[: exc.start].count(b"\n")
            line += block.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return line
    return None


def _delimiter(text: str) -> tuple[str, bool]:
    """The separator and whether blanks follow it. The header row decides when it holds one
    candidate (names rarely hold separators, prompts often do); otherwise ``csv.Sniffer``,
    restricted to :data:`DELIMITERS`, weighs the sample; a one-column file is comma-separated."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    header = lines[0] if lines else ""
    present = [d for d in DELIMITERS if d in header]
    if not present:
        return ",", False
    if len(present) == 1:
        chosen = present[0]
    else:
        try:
            chosen = csv.Sniffer().sniff("\n".join(lines[:50]), "".join(present)).delimiter
        except csv.Error:
            chosen = max(present, key=header.count)
    cells = header.split(chosen)[1:]
    blanks = bool(cells) and all(c[:1] == " " for c in cells)
    return chosen, blanks
