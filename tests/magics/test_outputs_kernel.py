"""``%%eachgen`` in a real ipykernel when the paid output is not a picture Pillow can decode,
when the answer names no file, and when the output folder cannot be written: the cell ends
normally, ``-o`` holds the result, and the cell says what it could not show or save."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..kernel_driver import Kernel, started
from ..output_stand import SLUG, Stand, png

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[Stand, Kernel]]:
    stand = Stand()
    workdir = tmp_path_factory.mktemp("kernel")
    (workdir / "blocker").write_text("a file where a folder should be")
    try:
        with started(stand.url, workdir, poll=0.1) as kernel:
            yield stand, kernel
    finally:
        stand.close()


def final_html(messages: list[dict]) -> str:
    """The static result that replaced the live card."""
    update = [m for m in messages if m["msg_type"] == "update_display_data"][-1]
    return str(update["content"]["data"]["text/html"])


@pytest.mark.parametrize(
    "label, data",
    [
        ("truncated", png(64, 64)[:60]),
        ("not an image at all", b"\x89PNG\r\n\x1a\n" + b"garbage" * 50),
    ],
)
def test_an_output_that_does_not_decode_ends_the_cell_normally(served, label, data):
    stand, kernel = served
    stand.files = lambda handler, stand: (200, {"Content-Type": "image/png"}, data)
    reply, messages = kernel.run(f"%%eachgen {SLUG} -o g\na fox", timeout=60)
    assert reply["status"] == "ok", reply
    html = final_html(messages)
    assert "does not decode" in html
    shown = kernel.execute("print(type(g).__name__, list(g.undecodable), g.paths[0].exists())")
    assert shown.strip() == "Generation [0] True"
    assert kernel.execute("print(g.paths[0].name)").strip() in html  # a link to the kept file


def test_an_answer_without_a_file_is_kept_in_o(served):
    stand, kernel = served
    stand.output = lambda stand, pid, inputs: "a caption, not a file"
    try:
        reply, messages = kernel.run(f"%%eachgen {SLUG} -o g\na fox", timeout=60)
    finally:
        stand.output = lambda stand, pid, inputs: [f"{stand.url}/files/{pid}/0.png"]
    assert reply["status"] == "ok", reply
    assert "a caption, not a file" in final_html(messages)
    assert kernel.execute("print(g.output)").strip() == "a caption, not a file"


def test_a_folder_that_cannot_be_written_keeps_the_result_in_o(served):
    stand, kernel = served
    stand.files = lambda handler, stand: (200, {"Content-Type": "image/png"}, png())
    kernel.execute("%config EachGen.output_dir = 'blocker/out'")
    try:
        reply, messages = kernel.run(f"%%eachgen {SLUG} -o g\na fox", timeout=60)
    finally:
        kernel.execute("%config EachGen.output_dir = 'eachgen_outputs'")
    assert reply["status"] == "ok", reply
    assert "not saved" in final_html(messages)
    warned = "".join(
        m["content"]["text"]
        for m in messages
        if m["msg_type"] == "stream" and m["content"]["name"] == "stderr"
    )
    assert "could not be saved" in warned
    assert kernel.execute("print(len(g.images), g.paths)").strip() == "1 []"
