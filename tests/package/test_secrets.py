"""The API key never appears in logs, reprs, exceptions or files we write."""

import logging
import pickle

import pytest

from eachlabs_widgets import AsyncEachLabs, AuthenticationError, configure
from eachlabs_widgets._journal.journal import Journal
from eachlabs_widgets._settings import Secret, reset_configuration, resolve
from eachlabs_widgets.emulator import Emulator, serve

KEY = "sk-live-0123456789abcdef-DO-NOT-LEAK"


def test_secret_hides_itself():
    secret = Secret(KEY)
    for text in (repr(secret), str(secret), f"{secret}", repr(resolve(api_key=KEY))):
        assert KEY not in text
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_configure_and_environment_keys_stay_hidden(monkeypatch):
    monkeypatch.setenv("EACHLABS_API_KEY", KEY)
    assert KEY not in repr(resolve())
    configure(api_key=KEY)
    try:
        assert resolve().api_key.reveal() == KEY
        assert KEY not in repr(AsyncEachLabs())
    finally:
        reset_configuration()


async def test_nothing_we_log_or_write_holds_the_key(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    emulator = Emulator(speed=0.01, api_key=KEY)
    with serve(emulator) as server:
        client = AsyncEachLabs(api_key=KEY, base_url=server.url, journal=Journal(tmp_path / "j.db"))
        generation = await client.run(
            "flux-2-turbo-text-to-image", {"prompt": "a fox"}, save_to=str(tmp_path / "out")
        )
        wrong = AsyncEachLabs(api_key=KEY + "-wrong", base_url=server.url, journal=False)
        with pytest.raises(AuthenticationError) as info:
            await wrong.create_prediction("flux-2-turbo-text-to-image", {"prompt": "x"})
    assert caplog.records  # something was logged, so the check below means something
    assert KEY not in caplog.text
    assert KEY not in str(info.value) + repr(info.value) + repr(vars(info.value))
    assert KEY not in repr(generation) + str(generation._repr_mimebundle_())
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(written) >= 3  # journal, image, sidecar
    for path in written:
        assert KEY.encode() not in path.read_bytes(), path
