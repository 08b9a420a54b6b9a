"""Inputs files as spreadsheets and shells write them: byte-order marks, Windows-1252,
UTF-16, ``;``/tab/``|`` separators, headers in other cases or with blanks, blank lines; and
files that cannot be read say what to change."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest

import eachlabs_widgets as el
from eachlabs_widgets._batch._inputs import BatchInputError, read_rows
from eachlabs_widgets._batch._reading import sniff_format

NAMES = ["prompt", "seed", "image_size", "num_images"]
BOM = codecs.BOM_UTF8


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def rows(path: Path) -> list[dict[str, object]]:
    return list(read_rows(path, NAMES))


@pytest.mark.parametrize(
    ("data", "delimiter"),
    [
        (BOM + b"prompt,seed\r\na fox,1\r\n", ","),  # Excel "CSV UTF-8"
        (b"prompt;seed\r\na fox;1\r\n", ";"),  # Excel with a decimal comma
        (b"prompt\tseed\na fox\t1\n", "\t"),  # a tab-separated export
        (b"prompt|seed\na fox|1\n", "|"),
        (b"prompt, seed\na fox, 1\n", ","),  # blanks after each comma
    ],
)
def test_every_common_separator_and_the_bom_read_the_same_rows(tmp_path, data, delimiter):
    path = write(tmp_path, "p.csv", data)
    assert sniff_format(path).delimiter == delimiter
    assert rows(path) == [{"prompt": "a fox", "seed": "1"}]


def test_a_semicolon_file_whose_prompts_hold_commas_splits_on_semicolons(tmp_path):
    path = write(tmp_path, "p.csv", b"prompt;seed\na fox, in snow;1\na cat, asleep;2\n")
    assert rows(path) == [
        {"prompt": "a fox, in snow", "seed": "1"},
        {"prompt": "a cat, asleep", "seed": "2"},
    ]


def test_windows_1252_is_read_and_said(tmp_path):
    path = write(tmp_path, "p.csv", "prompt\ncafé crème – 5 €\n".encode("cp1252"))
    fmt = sniff_format(path)
    assert fmt.encoding == "cp1252"
    assert "not UTF-8 (line 2): read as Windows-1252" in (fmt.note or "")
    assert rows(path) == [{"prompt": "café crème – 5 €"}]


def test_utf16_from_excel_unicode_text_is_read(tmp_path):
    text = "prompt\tseed\r\nun renard roux\t3\r\n"
    path = write(tmp_path, "p.txt", codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert rows(path) == [{"prompt": "un renard roux", "seed": "3"}]
    bare = write(tmp_path, "q.csv", text.encode("utf-16-le"))
    assert rows(bare) == [{"prompt": "un renard roux", "seed": "3"}]


def test_headers_in_other_cases_with_blanks_or_spaces_name_the_inputs(tmp_path):
    path = write(tmp_path, "p.csv", b" Prompt ,SEED,Image Size\na fox,1,square\n")
    assert rows(path) == [{"prompt": "a fox", "seed": "1", "image_size": "square"}]


def test_blank_lines_and_rows_of_empty_cells_are_skipped(tmp_path):
    path = write(tmp_path, "p.csv", b"\r\nprompt,seed\r\n\r\na fox,1\r\n,\r\n  \r\na cat,\r\n")
    assert rows(path) == [{"prompt": "a fox", "seed": "1"}, {"prompt": "a cat"}]


def test_empty_columns_a_spreadsheet_exported_are_ignored(tmp_path):
    path = write(tmp_path, "p.csv", b"prompt,seed,,\r\na fox,1,,\r\na cat,2\r\n")
    assert rows(path) == [{"prompt": "a fox", "seed": "1"}, {"prompt": "a cat", "seed": "2"}]
    bad = write(tmp_path, "q.csv", b"prompt,seed,\r\na fox, in snow,1\r\n")
    with pytest.raises(BatchInputError, match="under a column without a name"):
        rows(bad)


def test_jsonl_with_a_bom_keys_in_other_cases_and_blank_lines(tmp_path):
    body = '{"Prompt": "a fox", "seed": 1}\r\n\r\n{"prompt": "a cat"}\r\n'
    path = write(tmp_path, "p.jsonl", BOM + body.encode())
    assert rows(path) == [{"prompt": "a fox", "seed": 1}, {"prompt": "a cat"}]


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("p.csv", b"text,seed\na fox,1\n", "rename the column of prompts to 'prompt'"),
        ("p.csv", b"prompt,Prompt\na,b\n", "'prompt' and 'Prompt' both name the input"),
        ("p.csv", b"prompt,seed\na fox, in snow,1\n", 'in double quotes ("a fox, in snow")'),
        ("p.csv", b"PK\x03\x04 a workbook", "Save As"),
        ("p.csv", b"prompt\n\x81\x8d\x8f\x90\n", "neither UTF-8 nor Windows-1252"),
        ("p.jsonl", b'{"prompt": "a fox",}\n', "each line must be one object"),
        ("p.json", b'[{"prompt": "a fox"}]', "one object per line (JSONL)"),
        ("p.csv", b"\n\n", "no rows"),
    ],
)
def test_a_file_that_cannot_be_read_says_what_to_change(tmp_path, name, data, says):
    path = write(tmp_path, name, data)
    with pytest.raises(BatchInputError) as caught:
        rows(path)
    assert says in str(caught.value)


def test_an_excel_semicolon_file_in_windows_1252_runs_on_the_emulator(tmp_path, monkeypatch):
    monkeypatch.setenv("EACHLABS_BASE_URL", "emulator")
    monkeypatch.setenv("EACHLABS_EMULATOR_SPEED", "0.02")
    monkeypatch.setenv("EACHLABS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EACHLABS_OUTPUT_DIR", str(tmp_path / "out"))
    data = "Prompt;Seed;Image Size\r\ncafé, crème;7;square\r\n;;\r\nthé;8;square\r\n"
    inputs = write(tmp_path, "p.csv", data.encode("cp1252"))
    said: list[str] = []
    from eachlabs_widgets._batch._run import run_batch
    from eachlabs_widgets._service.sync import run_sync

    summary = run_sync(
        run_batch("flux-2-turbo-text-to-image", inputs, progress=False, say=said.append)
    )
    assert summary is not None and summary.ok and summary.rows == 2
    assert any("read as Windows-1252" in s and "separated by semicolons" in s for s in said)
    sent = {e.inputs["prompt"]: e.inputs for e in el.history(limit=None, emulator=True)}
    assert sent["café, crème"]["seed"] == 7 and sent["thé"]["image_size"] == "square"
    assert json.loads(json.dumps(sent["thé"]))["seed"] == 8
