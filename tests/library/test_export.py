"""export(): Hugging Face imagefolder layout (images, metadata.jsonl, a contact sheet), as a
folder or one zip, from Results, Generations and journal entries of several models."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from PIL import Image

import eachlabs_widgets as el

FLUX = "flux-2-turbo-text-to-image"
IMAGEN = "imagen4-preview"


@pytest.fixture
def made() -> list[el.Generation]:
    return [
        el.generate(FLUX, "a red fox", seed=1, num_images=2),
        el.generate(IMAGEN, "a blue whale", seed="9"),
        el.generate(FLUX, "a kite", output_format="jpeg"),
    ]


def rows(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_a_folder_holds_images_metadata_and_a_contact_sheet(made, tmp_path: Path) -> None:
    out = el.export(el.history(), tmp_path / "export")
    assert out == tmp_path / "export"
    meta = rows((out / "metadata.jsonl").read_text(encoding="utf-8"))
    assert len(meta) == 4  # every image once: two, one, one
    names = [m["file_name"] for m in meta]
    assert len(set(names)) == 4 and all((out / n).is_file() for n in names)
    for m in meta:
        assert set(m) == {
            "file_name",
            "prompt",
            "model",
            "seed",
            "inputs",
            "cost",
            "created_at",
            "prediction_id",
        }
        assert isinstance(m["inputs"], str) and json.loads(m["inputs"])["prompt"] == m["prompt"]
        assert m["seed"] is None or isinstance(m["seed"], int)  # one type, whatever the model
        assert m["cost"] is None or isinstance(m["cost"], float)
    by_prompt = {m["prompt"]: m for m in meta}
    assert by_prompt["a blue whale"]["seed"] == 9 and by_prompt["a blue whale"]["model"] == IMAGEN
    assert by_prompt["a kite"]["file_name"].endswith(".jpg")
    with Image.open(out / "contact_sheet.png") as sheet:
        assert sheet.width >= 4 * 200 and sheet.height >= 200
    # the exported files are the saved ones, byte for byte
    saved = {p.name: p.read_bytes() for g in made for p in g.paths}
    assert sorted(saved) == sorted(names)
    assert all((out / n).read_bytes() == saved[n] for n in names)


def test_a_zip_holds_the_same_layout(made, tmp_path: Path) -> None:
    target = el.export(el.find("fox"), tmp_path / "fox.zip")
    with zipfile.ZipFile(target) as archive:
        names = sorted(archive.namelist())
        meta = rows(archive.read("metadata.jsonl").decode())
    assert len(meta) == 2 and {m["prompt"] for m in meta} == {"a red fox"}
    assert names == sorted([m["file_name"] for m in meta] + ["contact_sheet.png", "metadata.jsonl"])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers


def test_generations_in_memory_and_single_items(made, tmp_path: Path) -> None:
    out = el.export(made[1], tmp_path / "one")
    assert len(rows((out / "metadata.jsonl").read_text())) == 1
    out = el.export(made, tmp_path / "all")
    assert len(rows((out / "metadata.jsonl").read_text())) == 4


def test_what_cannot_be_exported_says_so(made, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="Results, Generations or journal entries"):
        el.export("a string", tmp_path / "x")
    with pytest.raises(TypeError, match="not int"):
        el.export([1], tmp_path / "x")
    for g in made:
        for p in g.paths:
            p.unlink()
    with pytest.raises(ValueError, match="nothing to export"):
        el.export(el.history(), tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()
