"""Fixtures for the magic tests: a real InteractiveShell, the embedded emulator, tmp dirs, and
(:func:`kernel_on_emulator`) a real ipykernel on an emulator served on loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from eachlabs_widgets import _settings
from eachlabs_widgets._display.render import embed_mode, set_embed_mode
from eachlabs_widgets._embedded import shared_emulator
from eachlabs_widgets._service.client import _model_cache, learner
from eachlabs_widgets._service.limiter import ACCOUNT_CAP, limiter

FLUX = "flux-2-turbo-text-to-image"
NANO = "nano-banana-pro"
SLOW = "flux-2-max-text-to-image"  # 20 s at speed 1


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch) -> Iterator[None]:
    monkeypatch.setenv("EACHLABS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EACHLABS_BASE_URL", "emulator")
    monkeypatch.setenv("EACHLABS_EMULATOR_SPEED", "0.01")
    monkeypatch.delenv("EACHLABS_API_KEY", raising=False)
    monkeypatch.delenv("EACHLABS_OUTPUT_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    emulator = shared_emulator()
    emulator.reset()
    emulator.configure(speed=0.01)
    _model_cache.clear()
    learner.forget()
    _settings.reset_configuration()
    mode = embed_mode()
    yield
    limiter.resize(ACCOUNT_CAP)
    set_embed_mode(mode)
    _model_cache.clear()
    learner.forget()


@pytest.fixture(scope="session")
def _ipython(tmp_path_factory) -> Any:
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    if InteractiveShell.initialized():
        return InteractiveShell.instance()
    os.environ.setdefault("IPYTHONDIR", str(tmp_path_factory.mktemp("ipython")))
    config = Config()
    config.HistoryManager.enabled = False
    return InteractiveShell.instance(config=config)


class Displays:
    """What the shell published: (data, update?, display_id) in order."""

    def __init__(self) -> None:
        self.items: list[tuple[dict[str, Any], bool, str | None]] = []

    def publish(self, data: dict[str, Any], metadata: Any = None, **kwargs: Any) -> None:
        transient = kwargs.get("transient") or {}
        self.items.append((data, bool(kwargs.get("update")), transient.get("display_id")))

    @property
    def final(self) -> dict[str, Any]:
        """The last update of a display: what a saved notebook keeps."""
        updates = [data for data, update, _ in self.items if update]
        assert updates, "no display was updated"
        return updates[-1]


@pytest.fixture
def shell(_ipython, monkeypatch) -> Iterator[Any]:
    """The shell with the extension freshly loaded (a new EachGen per test)."""
    shell = _ipython
    shell.run_line_magic("load_ext", "eachlabs_widgets")
    shell.run_line_magic("config", "EachGen.poll_interval = 0.05")  # quick polls: fast tests
    yield shell
    shell.run_line_magic("unload_ext", "eachlabs_widgets")
    shell.config.pop("EachGen", None)  # %config lands in the shell's config: not for the next
    for name in [k for k in shell.user_ns if k.startswith("t_")]:
        del shell.user_ns[name]


@pytest.fixture
def displays(shell, monkeypatch) -> Displays:
    recorder = Displays()
    monkeypatch.setattr(shell.display_pub, "publish", recorder.publish)
    return recorder


@pytest.fixture
def emulator() -> Any:
    return shared_emulator()


def kernel_on_emulator(name: str, *, speed: float) -> Any:
    """A module's fixture ``served``: ``(emulator, kernel)``, one real ipykernel (in a fresh
    folder named after ``name``) on an emulator of ``speed`` served on loopback, for every
    test of the module: ``served = kernel_on_emulator("kernel-x", speed=0.2)``."""

    @pytest.fixture(scope="module")
    def served(tmp_path_factory: Any) -> Iterator[Any]:
        from ..kernel_driver import on_emulator  # jupyter_client: only where a kernel runs

        with on_emulator(tmp_path_factory.mktemp(name), speed=speed) as both:
            yield both

    return served
