"""generate() from plain scripts and from code running inside an event loop (as in a kernel)."""

import subprocess
import sys
import textwrap


def run_script(code: str, tmp_path) -> str:
    env = {
        "EACHLABS_BASE_URL": "emulator",
        "EACHLABS_EMULATOR_SPEED": "0.01",
        "EACHLABS_HOME": str(tmp_path / "home"),
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_script_mixes_generate_and_asyncio_run(tmp_path):
    out = run_script(
        """
        import asyncio
        import eachlabs_widgets as el
        from eachlabs_widgets._service import http as _http

        made = []
        original = _http.new_client
        _http.new_client = lambda *a: made.append(1) or original(*a)

        g = el.generate("flux-2-turbo-text-to-image", "a red fox",
                        image_size="landscape_16_9", num_images=2)
        print([im.size for im in g.images])
        g2 = asyncio.run(el.agenerate("flux-2-flash-text-to-image", "x", seed=3))
        print(g2.seed)
        g3 = el.generate("flux-2-flash-text-to-image", "y")
        print(len(g3.images), len(made))
        """,
        tmp_path,
    )
    lines = out.split("\n")
    assert lines[0] == "[(1024, 576), (1024, 576)]"
    assert lines[1] == "3"
    # One client for the script's private loop (reused by both generate calls), one for
    # the loop asyncio.run made.
    assert lines[2] == "1 2"


def test_generate_inside_a_running_loop_uses_that_loop(tmp_path):
    out = run_script(
        """
        import asyncio
        import eachlabs_widgets as el

        async def cell():
            # What a notebook cell does: synchronous code while the kernel's loop runs.
            loop = asyncio.get_running_loop()
            g = el.generate("flux-2-turbo-text-to-image", "a fox", num_images=1)
            still_same = asyncio.get_running_loop() is loop
            other = await el.agenerate("flux-2-turbo-text-to-image", "a cat")
            print(g.status, other.status, still_same)

        asyncio.run(cell())
        """,
        tmp_path,
    )
    assert out.strip() == "success success True"


def test_invalid_input_raises_before_anything_is_sent(tmp_path):
    out = run_script(
        """
        import eachlabs_widgets as el
        from eachlabs_widgets._embedded import shared_emulator
        try:
            el.generate("flux-2-turbo-text-to-image", "a red fox", image_size="huge")
        except el.InputValidationError as e:
            print(e.fields, "landscape_16_9" in str(e))
        print(shared_emulator().stats.predictions_created)
        """,
        tmp_path,
    )
    assert out.split("\n")[:2] == ["['image_size'] True", "0"]
