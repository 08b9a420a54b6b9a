"""``%eachgen doctor --live`` in a real kernel: the price is asked in the frontend's input box,
and a frontend that allows no input (nbconvert, papermill) gets nothing done."""

from __future__ import annotations

from typing import Any

import pytest

from eachlabs_widgets.emulator import Emulator, serve

from ..kernel_driver import Kernel

pytestmark = pytest.mark.kernel

KEY = "Zq8xKv3Wm9Lp2Rt7Yh4N"


def stdout(messages: list[Any]) -> str:
    return "".join(
        m["content"]["text"]
        for m in messages
        if m["msg_type"] == "stream" and m["content"]["name"] == "stdout"
    )


def test_the_price_is_asked_in_the_input_box_and_headless_does_nothing(tmp_path):
    emulator = Emulator(api_key=KEY, speed=0.2)
    server = serve(emulator)
    env = {
        "EACHLABS_BASE_URL": server.url,
        "EACHLABS_API_KEY": KEY,
        "EACHLABS_HOME": str(tmp_path / "home"),
    }
    kernel = Kernel(env, cwd=str(tmp_path))
    try:
        kernel.execute("%load_ext eachlabs_widgets")
        headless = kernel.kc.execute("%eachgen doctor --live", allow_stdin=False)
        assert kernel.wait_idle(headless, 60)["status"] == "ok"
        assert "--yes" in stdout(kernel.of(headless))
        assert emulator.stats.predictions_created == 0

        asked = kernel.kc.execute(
            "r = %eachgen doctor --live\nprint('problems', r.problems, r.ran)", allow_stdin=True
        )
        question = kernel.kc.get_stdin_msg(timeout=60)["content"]
        assert "2 real predictions of flux-2-turbo-text-to-image" in question["prompt"]
        assert question["prompt"].endswith("Go on? [y/N] ") and not question["password"]
        kernel.kc.input("y")
        assert kernel.wait_idle(asked, 120)["status"] == "ok"
        out = stdout(kernel.of(asked))
        assert "problems [] True" in out and "Trace written" in out and KEY not in out
        assert emulator.stats.predictions_created == 2
    finally:
        kernel.stop()
        server.close()
