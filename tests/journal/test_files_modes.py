"""Saved outputs, sidecars and staged downloads get the permissions the umask gives (not 0600)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from eachlabs_widgets._journal.files import atomic_write, write_output, write_sidecar
from eachlabs_widgets._service.download import staging_file

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


@pytest.fixture(params=[0o022, 0o002, 0o077])
def umask(request):
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_saved_files_follow_the_umask(tmp_path, umask):
    expected = 0o666 & ~umask
    path = write_output(tmp_path, "stem", ".png", b"\x89PNG\r\n\x1a\n" + bytes(30), {"a": 1})
    sidecar = write_sidecar(path, {"a": 1})
    plain = tmp_path / "plain.txt"
    atomic_write(plain, b"x")
    assert (mode(path), mode(sidecar), mode(plain)) == (expected, expected, expected)


def test_a_staged_download_moved_into_place_keeps_the_mode(tmp_path, umask):
    fd, staged = staging_file(tmp_path)
    with os.fdopen(fd, "wb") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n" + bytes(30))
    data = staged.read_bytes()
    path = write_output(tmp_path, "stem", ".png", data, {"b": 2}, staged=staged)
    assert mode(path) == 0o666 & ~umask
