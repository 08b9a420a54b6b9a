"""The shipped notebooks run top to bottom in a real kernel against the emulator on loopback."""

import base64
import re
from pathlib import Path

import nbformat
import pytest

from eachlabs_widgets.demo import run_notebook
from eachlabs_widgets.emulator import Emulator, serve

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def service():
    emulator = Emulator(speed=0.02)
    with serve(emulator) as server:
        yield emulator, server.url


@pytest.fixture
def env(service, tmp_path, monkeypatch):
    emulator, url = service
    monkeypatch.setenv("EACHLABS_BASE_URL", url)
    monkeypatch.setenv("EACHLABS_API_KEY", "notebook-test-key")
    monkeypatch.setenv("EACHLABS_HOME", str(tmp_path / "home"))
    return emulator


def images_in(notebook) -> list[bytes]:
    """Every image a reader sees without a kernel: image/* outputs and data: URIs in HTML."""
    found = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            html = data.get("text/html", "")
            uris = re.findall(r"data:image/[a-z]+;base64,([A-Za-z0-9+/=]+)", html)
            if uris:
                found += [base64.b64decode(u) for u in uris]
            elif "image/jpeg" in data or "image/png" in data:
                found.append(base64.b64decode(data.get("image/jpeg") or data["image/png"]))
    return found


def test_quickstart(env, tmp_path):
    executed, page = run_notebook(NOTEBOOKS / "quickstart.ipynb", tmp_path, timeout=300)
    saved = sorted((tmp_path / "eachgen_outputs").glob("*.json"))
    assert len(saved) == 20  # twenty images, each with its sidecar
    assert executed.stat().st_size < 2_000_000
    notebook = nbformat.read(executed, as_version=4)
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    # Reopened without a kernel or widget state, every generation shows its images: 11 result
    # blocks (some hold several images side by side in one thumbnail sheet).
    assert len(images_in(notebook)) >= 11
    assert "notebook-test-key" not in executed.read_text()
    assert "notebook-test-key" not in page.read_text()
    assert env.stats.predictions_created >= 13


def test_tour_runs_every_text_to_image_model(env, tmp_path):
    executed, _ = run_notebook(NOTEBOOKS / "tour.ipynb", tmp_path, timeout=300)
    notebook = nbformat.read(executed, as_version=4)
    text = "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))
    assert "20 models" in text  # every model that needs only a prompt, LoRA models aside
    assert "Error" not in text
    assert len(list((tmp_path / "eachgen_outputs").glob("*.json"))) >= 20


def test_lora_flow(env, tmp_path):
    executed, _ = run_notebook(NOTEBOOKS / "lora.ipynb", tmp_path, timeout=300)
    notebook = nbformat.read(executed, as_version=4)
    last = notebook.cells[-1]
    assert [o.output_type for o in last.outputs if o.output_type == "error"] == []
    assert images_in(nbformat.from_dict({"cells": [last]}))
    # the weights are not downloaded with the run, only by lora.download()
    assert not any(p.suffix == ".safetensors" for p in (tmp_path / "eachgen_outputs").iterdir())
    assert any(p.suffix == ".safetensors" for p in (tmp_path / "lora-weights").iterdir())
