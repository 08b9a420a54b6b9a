"""A paid result is never thrown away: a failed save, an output Pillow cannot decode, an answer
without a file, and two predictions wanting one file name, against a real loopback server."""

from __future__ import annotations

import asyncio
import json
import struct
import threading
import zlib
from pathlib import Path

import pytest

from eachlabs_widgets import Generation, Output
from eachlabs_widgets._display.card import LiveCard
from eachlabs_widgets._display.render import generation_bundle
from eachlabs_widgets._journal.files import read_png_text, write_output
from eachlabs_widgets._service import download

from ..output_stand import SLUG, png, watch_staging


@pytest.fixture
def client(stand_client):
    return stand_client


def leftovers(*folders: Path) -> list[Path]:
    """Staging and temporary files left behind (there must be none)."""
    return [
        p for f in folders if f.exists() for p in f.rglob(".*") if p.suffix in (".part", ".tmp")
    ]


def bomb(side: int) -> bytes:
    """A valid 1-bit PNG of side×side pixels that compresses to a few KB."""
    raw = zlib.compress((b"\x00" + bytes((side + 7) // 8)) * side, 9)

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


# -- a failed save ---------------------------------------------------------------------------


async def test_a_folder_that_cannot_be_made_still_returns_the_generation(
    client, tmp_path, system_temp
):
    (tmp_path / "blocker").write_text("a file where a folder should be")
    target = tmp_path / "blocker" / "out"
    with pytest.warns(UserWarning, match=r"could not be saved to .*blocker") as warned:
        g = await client.run(SLUG, {"prompt": "a fox"}, save_to=str(target))
    assert g.id in str(warned[0].message)
    assert [im.size for im in g.images] == [(8, 8)]  # the paid image is all there
    assert g.paths == [] and g.save_error and "not saved" in repr(g)
    entry = client.journal.get(g.id)
    assert entry.status == "success" and entry.files == []
    assert entry.error.startswith("files not saved")
    assert "not saved" in generation_bundle(g)["text/plain"]
    # it can still be kept: elsewhere, by hand
    saved = g.save(tmp_path / "elsewhere")
    assert saved[0].read_bytes().startswith(b"\x89PNG")
    # the download was staged in the system temp folder and removed from there
    assert leftovers(system_temp, tmp_path) == []


async def test_a_saved_run_stages_beside_the_destination_and_leaves_nothing(
    client, stand, tmp_path, system_temp, monkeypatch
):
    # Past what memory keeps, a download goes on in a staging file beside its destination.
    monkeypatch.setattr(download, "SPOOL_BYTES", 64)
    out = tmp_path / "out"
    made = watch_staging(monkeypatch)
    stand.files = lambda handler, stand: (200, {"Content-Type": "image/png"}, png())
    g = await client.run(SLUG, {"prompt": "a fox", "num_images": 2}, save_to=str(out))
    assert len(made) == 2
    assert all(p.parent == out and p.name.startswith(".eachlabs-") for p in made)
    assert all(p.suffix == ".part" and not p.exists() for p in made)  # moved into place
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [p.name for p in g.paths] + [p.name + ".json" for p in g.paths]
    )
    for index, path in enumerate(g.paths):
        params = json.loads(read_png_text(path.read_bytes())["eachlabs"])
        assert params["prediction_id"] == g.id and params["output_index"] == index
    assert leftovers(system_temp, tmp_path) == []


async def test_a_small_output_is_saved_from_memory_without_a_staging_file(
    client, stand, tmp_path, system_temp, monkeypatch
):
    # An image of a few MB is held whole anyway: no staging file is made, read back, removed.
    out = tmp_path / "out"
    made = watch_staging(monkeypatch)
    stand.files = lambda handler, stand: (200, {"Content-Type": "image/png"}, png())
    g = await client.run(SLUG, {"prompt": "a fox", "num_images": 2}, save_to=str(out))
    assert made == []
    assert [p.read_bytes()[:8] for p in g.paths] == [b"\x89PNG\r\n\x1a\n"] * 2
    assert [im.size for im in g.images] == [(8, 8), (8, 8)]
    assert leftovers(system_temp, tmp_path) == []


# -- outputs Pillow cannot decode ------------------------------------------------------------

UNDECODABLE = {
    "truncated PNG": png(64, 64)[:60],
    "decompression bomb": bomb(30000),
    "a bomb under Pillow's hard limit": bomb(13000),
    "an unknown format that looks like a GIF": b"GIF89a" + bytes(200),
}


@pytest.mark.parametrize("label", list(UNDECODABLE))
async def test_an_output_that_does_not_decode_is_kept_and_shown_as_a_link(
    client, stand, tmp_path, label
):
    data = UNDECODABLE[label]
    stand.files = lambda handler, stand: (200, {"Content-Type": "image/png"}, data)
    g = await client.run(SLUG, {"prompt": "a fox"}, save_to=str(tmp_path / "out"))
    assert g.images == []
    assert list(g.undecodable) == [0]
    if "bomb" in label:
        assert "megapixel limit" in g.undecodable[0]  # refused before decoding a pixel
    saved = g.paths[0].read_bytes()
    assert saved[:16] == data[:16] and len(saved) >= len(data)  # the file as the service made it
    assert client.journal.get(g.id).files == [str(g.paths[0])]
    bundle = generation_bundle(g)
    assert "image/jpeg" not in bundle
    assert g.paths[0].name in bundle["text/html"] and "does not decode" in bundle["text/html"]
    assert "does not decode" in generation_bundle(g, "full")["text/plain"]
    card = LiveCard(SLUG)
    card.finish(g)
    assert card.status == "success"
    assert g.paths[0].name in card.gallery.children[0].value


async def test_a_good_image_beside_a_broken_one_still_shows(client, stand, tmp_path):
    def host(handler, stand):
        body = png(16, 16) if handler.path.endswith("/0.png") else png(16, 16)[:50]
        return 200, {"Content-Type": "image/png"}, body

    stand.files = host
    g = await client.run(SLUG, {"prompt": "a fox", "num_images": 2}, save_to=str(tmp_path))
    assert [im.size for im in g.images] == [(16, 16)]
    assert list(g.undecodable) == [1]
    assert "data:image/jpeg;base64," in generation_bundle(g)["text/html"]
    card = LiveCard(SLUG, slots=2)
    card.finish(g)
    assert [type(w).__name__ for w in card.gallery.children] == ["Image", "HTML"]


def test_the_panel_card_keeps_a_result_that_does_not_decode():
    g = Generation(
        id="p1",
        model=SLUG,
        status="success",
        inputs={"prompt": "x"},
        urls=["https://cdn/0.png"],
        outputs=[Output("https://cdn/0.png", b"\x89PNG\r\n\x1a\n" + bytes(40))],
    )
    card = LiveCard(SLUG, prompt="x", thumbnails=False)  # as the panel shows a run
    card.finish(g)
    said = " ".join(getattr(child, "value", "") for child in card.gallery.children)
    assert card.status == "success"
    assert "does not decode" in said and "href='https://cdn/0.png'" in said


# -- a success whose answer names no file ----------------------------------------------------

RAW_OUTPUTS = {
    "null": None,
    "a text": "A red fox standing in fresh snow at golden hour.",
    "a relative URL": "/files/x/0.png",
    "a URL nested too deep": {"a": {"b": {"c": {"d": {"e": {"f": "https://cdn/x.png"}}}}}},
}


@pytest.mark.parametrize("label", list(RAW_OUTPUTS))
async def test_a_success_without_a_file_keeps_its_raw_output(client, stand, tmp_path, label):
    raw = RAW_OUTPUTS[label]
    stand.output = lambda stand, pid, inputs: raw
    with pytest.warns(UserWarning, match="names no file") as warned:
        g = await client.run(SLUG, {"prompt": "a fox"}, save_to=str(tmp_path / "out"))
    assert g.id in str(warned[0].message)
    assert g.output == raw and g.raw_output
    assert ".output" in repr(g)
    [kept] = g.paths
    assert json.loads(kept.read_text()) == {"raw_output": raw}
    entry = client.journal.get(g.id)
    assert entry.status == "success" and entry.files == [str(kept)]
    assert json.dumps(raw) in entry.error
    shown = generation_bundle(g)
    assert json.dumps(raw)[:40] in shown["text/plain"]
    assert "raw output" in shown["text/html"]
    again = Generation.from_entry(entry)  # and it comes back from the journal as it was
    assert again.output == raw and again.raw_output


# -- file names ------------------------------------------------------------------------------


async def test_predictions_whose_ids_share_a_long_prefix_never_share_a_file(
    client, stand, tmp_path
):
    numbers = iter(range(100))
    stand.ids = lambda: f"0190f3a2-7c1e-7aaa-8000-{next(numbers):012d}"  # time-ordered ids
    out = tmp_path / "out"
    runs = await asyncio.gather(
        *(client.run(SLUG, {"prompt": "a fox", "seed": s}, save_to=str(out)) for s in range(6))
    )
    paths = [g.paths[0] for g in runs]
    assert len(set(paths)) == 6 and all(p.exists() for p in paths)
    for g in runs:  # every file is its own prediction's
        assert json.loads(read_png_text(g.paths[0].read_bytes())["eachlabs"])["prediction_id"] == (
            g.id
        )


def test_a_taken_name_is_never_overwritten(tmp_path):
    first = write_output(tmp_path, "same", ".png", png(colour=(1, 1, 1)), {"n": 1})
    before = first.read_bytes()
    second = write_output(tmp_path, "same", ".png", png(colour=(2, 2, 2)), {"n": 2})
    assert (first.name, second.name) == ("same.png", "same-2.png")
    assert first.read_bytes() == before


def test_ids_that_differ_only_in_case_keep_both_files(tmp_path):
    when = Generation(id="x", model=SLUG, status="success", inputs={}, urls=[]).created_at
    made = [
        Generation(
            id=pid,
            model=SLUG,
            status="success",
            inputs={"prompt": "p"},
            urls=[],
            outputs=[Output("https://cdn/0.png", png(colour=colour))],
            created_at=when,
        )
        for pid, colour in (("AbC", (1, 1, 1)), ("abc", (2, 2, 2)))
    ]
    paths = [g.save(tmp_path)[0] for g in made]
    assert paths[0] != paths[1]
    ids = [json.loads(read_png_text(p.read_bytes())["eachlabs"])["prediction_id"] for p in paths]
    assert ids == ["AbC", "abc"]


def test_threads_racing_for_one_name_each_get_their_own(tmp_path):
    paths: list[Path] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def save(n: int) -> None:
        start.wait()
        path = write_output(tmp_path, "race", ".png", png(colour=(n, n, n)), {"n": n})
        with lock:
            paths.append(path)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(paths)) == 8
    kept = {json.loads(read_png_text(p.read_bytes())["eachlabs"])["n"] for p in paths}
    assert kept == set(range(8))
    assert leftovers(tmp_path) == []
