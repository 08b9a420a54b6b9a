"""A script's first call goes straight to its requests: between the call and its first create
nothing is imported and no TLS context is built on the event loop (the HTTP stack is imported
with the API, the context is built by the warm-up thread meanwhile)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

SCRIPT = """
import asyncio, json, sys, threading
from eachlabs_widgets._service import warm as _warm

built_in = []
real_create = _warm._create
def create():
    built_in.append(threading.current_thread().name)
    return real_create()
_warm._create = create

from eachlabs_widgets import agenerate, _client  # as a script does, before its first call

async def main():
    before = set(sys.modules)
    seen = {}
    real = _client.AsyncEachLabs.create_prediction
    async def create_prediction(self, model, input, **kw):
        seen.setdefault("imported", sorted(set(sys.modules) - before))
        return await real(self, model, input, **kw)
    _client.AsyncEachLabs.create_prediction = create_prediction
    done = await asyncio.gather(
        agenerate("flux-2-turbo-text-to-image", "a red fox"),
        agenerate("imagen-4-fast", "a red fox"),
    )
    seen["images"] = sum(len(g.images) for g in done)
    return seen

seen = asyncio.run(main())
seen["tls_built_in"] = built_in
print(json.dumps(seen))
"""


@pytest.fixture
def served(tmp_path):
    """The emulator in a process of its own, on loopback, as the benchmark serves it."""
    server = subprocess.Popen(
        [sys.executable, "-m", "eachlabs_widgets.emulator", "--port", "0", "--speed", "0.01"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert "listening on" in line, line
        yield line.rsplit(" ", 1)[-1].strip()
    finally:
        server.kill()
        server.wait()


def test_the_first_call_imports_nothing_and_builds_no_tls_context_before_its_create(
    served, tmp_path
):
    env = {k: v for k, v in os.environ.items() if not k.startswith("EACHLABS_")}
    env.update(
        EACHLABS_BASE_URL=served,
        EACHLABS_API_KEY="first-call-key",
        EACHLABS_HOME=str(tmp_path / "home"),
        EACHLABS_OUTPUT_DIR=str(tmp_path / "out"),
    )
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["images"] >= 2  # the calls went through (else the checks below prove nothing)
    # Neither the HTTP transport (httpcore, anyio's backend) nor Pillow (inputs that are text
    # hold no image) came in during the first call.
    assert seen["imported"] == []
    assert seen["tls_built_in"] == ["eachlabs-warm-up"]
