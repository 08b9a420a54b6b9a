"""JupyterLab / Voila servers and Debian's headless Chromium, isolated and stopped by pid."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

#: The notebook each test opens: the Panel on the embedded emulator.
PANEL_CELL = """\
import os
os.environ.update(EACHLABS_BASE_URL="emulator", EACHLABS_EMULATOR_SPEED="0.2")
from eachlabs_widgets.panel import Panel
panel = Panel(model="flux-2-turbo-text-to-image")
panel"""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not Path(CHROMIUM).exists():
        skip = pytest.mark.skip(reason=f"Debian's chromium is not installed at {CHROMIUM}")
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children_of(pid: int) -> list[int]:
    """Every descendant process id of ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        kids = [p for p, pp in parents.items() if pp == parent]
        found.extend(kids)
        frontier.extend(kids)
    return found


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server and every process it started (kernels), by pid."""
    pids = children_of(proc.pid)
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@dataclass
class Server:
    url: str
    token: str
    root: Path
    proc: subprocess.Popen[bytes]
    log: Path


def write_notebook(path: Path, sources: Sequence[str] = (PANEL_CELL,)) -> None:
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": f"cell-{index}",
                "metadata": {},
                "outputs": [],
                "source": source,
            }
            for index, source in enumerate(sources)
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook), encoding="utf-8")


def start(kind: str, tmp: Path, notebook: str, theme: str | None = None) -> Server:
    """``kind``: lab, voila or notebook (Notebook 7); ``theme``: a JupyterLab theme name
    ("JupyterLab Dark") set in the isolated user settings."""
    root = tmp / "notebooks"
    root.mkdir(exist_ok=True)
    config, runtime = tmp / f"{kind}-config", tmp / f"{kind}-runtime"
    (config / "labconfig").mkdir(parents=True, exist_ok=True)
    if theme is not None:
        settings = config / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True, exist_ok=True)
        (settings / "themes.jupyterlab-settings").write_text(json.dumps({"theme": theme}))
    # keeps the "news" toast off the page
    (config / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    runtime.mkdir(exist_ok=True)
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(config),
        JUPYTER_RUNTIME_DIR=str(runtime),
        EACHLABS_HOME=str(tmp / "home"),
        EACHLABS_OUTPUT_DIR=str(tmp / "outputs"),
    )
    env.pop("EACHLABS_API_KEY", None)
    if kind == "lab":
        args = [
            sys.executable, "-m", "jupyterlab", "--allow-root", "--no-browser",
            "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]  # fmt: skip
    elif kind == "notebook":
        args = [
            sys.executable, "-m", "notebook", "--allow-root", "--no-browser",
            "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
        ]  # fmt: skip
    else:
        args = [
            sys.executable, "-m", "voila", notebook, "--no-browser", "--Voila.ip=127.0.0.1",
            f"--port={port}", f"--token={token}", "--show_tracebacks=True",
        ]  # fmt: skip
    log = tmp / f"{kind}.log"
    with log.open("wb") as out:  # the server keeps its own copy of the descriptor
        proc = subprocess.Popen(
            args, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    probe = f"{url}/api/status?token={token}" if kind != "voila" else f"{url}/voila/static/"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{kind} exited: {log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(probe, timeout=1)
            break
        except OSError as exc:
            if getattr(exc, "code", None) in (403, 404, 405):
                break
            time.sleep(0.2)
    else:
        stop(proc)
        raise RuntimeError(f"{kind} did not start: {log.read_text()[-2000:]}")
    return Server(url, token, root, proc, log)


@pytest.fixture
def servers(tmp_path) -> Iterator[dict[str, Any]]:
    """Start servers on demand; every one is stopped (with its kernels) at the end."""
    started: list[Server] = []

    def launch(
        kind: str,
        notebook: str = "panel.ipynb",
        sources: Sequence[str] = (PANEL_CELL,),
        theme: str | None = None,
    ) -> Server:
        (tmp_path / "notebooks").mkdir(exist_ok=True)
        write_notebook(tmp_path / "notebooks" / notebook, sources)
        server = start(kind, tmp_path, notebook, theme)
        started.append(server)
        return server

    try:
        yield {"launch": launch}
    finally:
        for server in started:
            stop(server.proc)


@pytest.fixture
def browser(tmp_path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    profile = tmp_path / "chromium-profile"
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1100, "height": 2200},
        )
        # A busy 2-core machine can take well over playwright's 30 s default to start a
        # kernel and render its first widget; a wait that fails still fails, only later.
        context.set_default_timeout(90_000)
        try:
            yield context
        finally:
            context.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
