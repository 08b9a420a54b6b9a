"""Variations in a real ipykernel, on an emulator served on loopback by this process:
``g.vary()`` and ``g.remix()`` from a cell show live cards and record their parent, and
``--parent`` in ``%%eachgen`` does too."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from eachlabs_widgets.emulator import Emulator, serve

from ..kernel_driver import Kernel, statuses
from .conftest import FLUX

pytestmark = pytest.mark.kernel


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[Emulator, Kernel]]:
    emulator = Emulator(speed=0.2)
    server = serve(emulator)
    workdir = tmp_path_factory.mktemp("kernel-lineage")
    kernel = Kernel(
        {
            "EACHLABS_BASE_URL": server.url,
            "EACHLABS_API_KEY": "test",
            "EACHLABS_HOME": str(workdir / "home"),
        },
        cwd=str(workdir),
    )
    try:
        reply, _ = kernel.run(
            "%load_ext eachlabs_widgets\n%config EachGen.poll_interval = 0.2\n"
            "import eachlabs_widgets as el",
            timeout=60,
        )
        assert reply["status"] == "ok", reply
        yield emulator, kernel
    finally:
        kernel.stop()
        server.close()


def test_vary_and_remix_in_a_cell_show_cards_and_record_the_parent(served):
    emulator, kernel = served
    reply, _ = kernel.run(f"%%eachgen {FLUX} --seed 4 -o g\na fox on a hill", timeout=60)
    assert reply["status"] == "ok", reply
    before = emulator.stats.predictions_created
    reply, messages = kernel.run("v = g.vary(n=2)\nv", timeout=60)
    assert reply["status"] == "ok", reply
    assert emulator.stats.predictions_created == before + 2
    assert statuses(messages).count("success") >= 2  # a live card per variation
    shown = [m for m in messages if m["msg_type"] == "execute_result"]
    assert shown and "<img" in shown[-1]["content"]["data"]["text/html"]  # the row of them
    out = kernel.stdout(
        "import json\n"
        "r = g.remix('a fox on a hill at night')\n"
        "print(json.dumps({'kids': [k.parent for k in v], 'seeds': [k.seed for k in v],"
        " 'remix': [r.parent, r.seed], 'chain': [e.id for e in el.lineage(r)], 'root': g.id}))"
    )
    said = json.loads(out)
    assert said["kids"] == [said["root"]] * 2 and 4 not in said["seeds"]
    assert said["remix"] == [said["root"], 4]
    assert said["chain"][1:] == [said["root"]]


def test_parent_option_of_the_magic_in_a_kernel(served):
    _, kernel = served
    reply, _ = kernel.run(f"%%eachgen {FLUX} --seed 8 -o p\na heron", timeout=60)
    assert reply["status"] == "ok", reply
    reply, _ = kernel.run(
        f"%%eachgen {FLUX} --seed 9 --parent {{p.id}} -o c\na heron at dawn", timeout=60
    )
    assert reply["status"] == "ok", reply
    out = kernel.stdout("print(c.parent == p.id, [e.id for e in el.lineage(c)] == [c.id, p.id])")
    assert out.split() == ["True", "True"]
