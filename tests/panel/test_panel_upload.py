"""``FileDrop``'s protocol: pieces in order, answers that carry what the kernel holds."""

from __future__ import annotations

import html
from typing import Any

from eachlabs_widgets.forms._widgets import size_text
from eachlabs_widgets.panel import Panel
from eachlabs_widgets.panel._upload import FileDrop

from .conftest import png


def drop() -> tuple[FileDrop, list[list[tuple[str, bytes]]]]:
    got: list[list[tuple[str, bytes]]] = []
    return FileDrop(got.append), got


def send(widget: FileDrop, batch: str, files: dict[str, bytes], chunk: int) -> list[Any]:
    """What drop.js sends for ``files``: begin, the pieces in order, end; the answers."""
    answers = [
        widget.handle(
            {
                "type": "begin",
                "batch": batch,
                "files": [{"name": n, "size": len(d)} for n, d in files.items()],
            }
        )
    ]
    for index, data in enumerate(files.values()):
        for offset in range(0, len(data), chunk):
            answers.append(
                widget.handle(
                    {"type": "chunk", "batch": batch, "file": index, "offset": offset},
                    [memoryview(data[offset : offset + chunk])],
                )
            )
    answers.append(widget.handle({"type": "end", "batch": batch}))
    return answers


def test_pieces_are_acknowledged_with_the_bytes_held():
    widget, got = drop()
    files = {"a.png": bytes(range(256)) * 10, "b.png": b"x" * 1000}
    answers = send(widget, "1", files, chunk=700)
    acks = [a["received"] for a in answers if a["type"] == "ack"]
    assert acks == [0, 700, 1400, 2100, 2560, 3260, 3560]  # every piece, cumulative
    assert answers[-1] == {"type": "done", "batch": "1", "files": 2, "bytes": 3560}
    assert got == [list(files.items())]


def test_a_piece_out_of_order_or_too_large_is_refused():
    widget, got = drop()
    widget.handle({"type": "begin", "batch": "b", "files": [{"name": "a", "size": 10}]})
    answer = widget.handle({"type": "chunk", "batch": "b", "file": 0, "offset": 5}, [b"12345"])
    assert answer["type"] == "error" and "out of order" in answer["message"]
    widget.handle({"type": "begin", "batch": "c", "files": [{"name": "a", "size": 3}]})
    answer = widget.handle({"type": "chunk", "batch": "c", "file": 0, "offset": 0}, [b"12345"])
    assert answer["type"] == "error" and "larger than announced" in answer["message"]
    assert got == []


def test_a_new_selection_replaces_the_last():
    widget, got = drop()
    widget.handle({"type": "begin", "batch": "old", "files": [{"name": "a", "size": 4}]})
    send(widget, "new", {"n.png": b"data"}, chunk=2)
    late = widget.handle({"type": "chunk", "batch": "old", "file": 0, "offset": 0}, [b"ab"])
    assert late["type"] == "error" and got == [[("n.png", b"data")]]


def test_too_large_a_selection_is_refused_before_any_piece():
    widget, _got = drop()
    widget.max_bytes = 100
    answer = widget.handle({"type": "begin", "batch": "x", "files": [{"name": "a", "size": 101}]})
    assert answer["type"] == "error" and "MB" in answer["message"]


async def test_the_trainer_takes_files_sent_in_pieces(emulated):
    panel = Panel(model="flux-lora-portrait-trainer")
    await panel.ready()
    files = {f"{i}.png": png((i * 20, 40, 0), (64, 64)) for i in range(12)}
    answers = send(panel.training.upload, "t", files, chunk=100)
    assert answers[-1]["type"] == "done" and answers[-1]["files"] == 12
    assert panel.training.count == 12 and len(panel.training.thumbs.children) == 12
    assert "12 images" in panel.training.status.value and "MB" in panel.training.status.value
    archive = panel.form.value["images_data_url"]
    assert archive.content_type == "application/zip"
    # one unit for sizes: the field and the upload area say the same
    size = html.escape(size_text(len(archive.data)))
    assert size.endswith(" MB") and size in panel.training.status.value
    assert size in panel.form.fields["images_data_url"].file_label.value


def test_sizes_are_megabytes():
    assert size_text(9_314_000) == "9.31 MB" and size_text(104_857_600) == "104.9 MB"
    assert size_text(2_000) == "< 0.01 MB" and size_text(0) == "0.00 MB"
