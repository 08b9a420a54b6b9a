import pytest

from eachlabs_widgets._service.client import _model_cache, learner
from eachlabs_widgets._settings import reset_configuration
from tests.scripted_server import ScriptedServer

SECRET = "sk-live-TRUST-0123456789abcdef"


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("EACHLABS_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EACHLABS_OUTPUT_DIR", str(tmp_path / "out"))
    monkeypatch.delenv("EACHLABS_API_KEY", raising=False)
    monkeypatch.delenv("EACHLABS_BASE_URL", raising=False)
    reset_configuration()
    _model_cache.clear()
    learner.forget()
    yield
    reset_configuration()
    _model_cache.clear()
    learner.forget()


@pytest.fixture
def api():
    with ScriptedServer() as server:
        yield server


@pytest.fixture
def foreign():
    """Another origin: a different loopback address, as any host on the internet would be."""
    with ScriptedServer(host="127.0.0.2") as server:
        yield server


@pytest.fixture
def client(api):
    from eachlabs_widgets import AsyncEachLabs

    return AsyncEachLabs(api_key=SECRET, base_url=api.url, journal=False)
