"""Local paths given to file inputs: uploaded when the file exists, refused before anything is
sent when it does not; URLs pass as they are. Against the emulator on a real loopback socket."""

import io
import os
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from eachlabs_widgets import AsyncEachLabs, InputValidationError
from eachlabs_widgets._journal.journal import Journal
from eachlabs_widgets._schema.inputs import validate_inputs
from eachlabs_widgets._schema.media import (
    _kind_in_description,
    existing_local_file,
    looks_like_local_path,
    media_kind,
    missing_file_problem,
    to_local_media,
)
from eachlabs_widgets._service.limiter import PredictionLimiter
from eachlabs_widgets.emulator import Emulator, serve

WAN = "wan-v2-6-text-to-image"


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "text",
    [
        "cat.png",
        "cat.pgn",
        "images/cat.png",
        "./cat",
        "../cat.jpg",
        "/tmp/cat.png",
        "~/cat.png",
        "~",
        r"C:\Users\me\cat.png",
        "C:/Users/me/cat.png",
        "C:Usersmecat.png",
        r"\\server\share\cat.png",
        '"cat.png"',
        "'/tmp/my cat.png'",
        "\u201c/tmp/cat.png\u201d",
        "file:///tmp/cat.png",
        "www.example.com/cat.png",
    ],
)
def test_what_looks_like_a_local_path(text):
    assert looks_like_local_path(text)


@pytest.mark.parametrize(
    "text",
    [
        "https://cdn.example/cat.png",
        "HTTP://cdn.example/cat.png",
        "data:image/png;base64,iVBORw0KGgo=",
        "s3://bucket/cat.png",
        "",
        "   ",
        "local-file",
        "a fox in the snow",
        "1.5",
        "two\nlines.png",
    ],
)
def test_what_does_not(text):
    assert not looks_like_local_path(text)
    assert missing_file_problem(text) is None


def test_a_missing_file_gets_a_reason_and_a_hint(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cat.png").write_bytes(png())
    (tmp_path / "folder.png").mkdir()
    assert missing_file_problem("cat.png") is None
    assert missing_file_problem('"cat.png"') is None
    typo = missing_file_problem("cat.pgn")
    assert typo is not None and "no such file: 'cat.pgn' (did you mean 'cat.png'?)" in typo
    assert "http(s)://" in typo
    assert "a folder, not a file" in str(missing_file_problem("folder.png"))
    if os.name != "nt":
        lost = missing_file_problem("C:Usersmecat.png")
        assert lost is not None and "backslashes were lost" in lost
        assert "a Windows path" in str(missing_file_problem(r"C:\Users\me\cat.png"))
    assert "'https://www.example.com/cat.png'" in str(
        missing_file_problem("www.example.com/cat.png")
    )


def test_strings_are_read_as_paths_quoted_under_home_or_as_file_urls(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    path = tmp_path / "my cat.png"
    path.write_bytes(png())
    for text in (str(path), f'"{path}"', "~/my cat.png", path.as_uri()):
        assert existing_local_file(text) == path
        media = to_local_media(text)
        assert media.filename == "my cat.png" and media.content_type == "image/png"
    with pytest.raises(FileNotFoundError, match="no such file"):
        to_local_media(str(tmp_path / "nope.png"))
    assert existing_local_file("https://cdn.example/x.png") is None
    assert existing_local_file("bad\0name.png") is None


# The rule as one (quadratic) regex: the first kind word after "url" in a sentence ("URL of the
# zip file of images" takes an archive, not an image).
_OLD_DESCRIPTION_RULE = re.compile(
    r"\burl\b[^.]*?\b(image|audio|video|zip|archive|file)", re.IGNORECASE
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["url", "URL", "image", "images", "zip", "file", ".", " ", "a", "_", "x"]),
        max_size=12,
    )
)
def test_the_linear_description_scan_finds_what_the_old_regex_found(words):
    text = "".join(words)
    old = _OLD_DESCRIPTION_RULE.search(text)
    assert _kind_in_description(text) == (old.group(1).lower() if old else None)


def test_a_long_description_is_still_read():
    description = "url " * 20_000 + "of the image."
    assert media_kind("style", {"type": "string", "description": description}) == "image"


FILE_SCHEMA = {
    "required": ["prompt"],
    "properties": {"prompt": {"type": "string"}, "image_url": {"type": "string"}},
}


def test_validation_refuses_a_path_that_names_no_file_but_not_a_prompt(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputValidationError) as info:
        validate_inputs("m", FILE_SCHEMA, {"prompt": "cat.png", "image_url": "cat.png"})
    assert info.value.fields == ["image_url"]
    assert validate_inputs("m", FILE_SCHEMA, {"prompt": "cat.png"}) == {"prompt": "cat.png"}


# -- the client, over a real socket -----------------------------------------------------------


@pytest.fixture(scope="module")
def emulator():
    emu = Emulator(speed=0.005, api_key="right-key")
    with serve(emu) as server:
        emu.url = server.url
        yield emu


@pytest.fixture
def client(emulator, tmp_path):
    emulator.reset()
    return AsyncEachLabs(
        api_key="right-key",
        base_url=emulator.url,
        journal=Journal(tmp_path / "j.sqlite3"),
        limiter=PredictionLimiter(10),
    )


@pytest.fixture
def cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "cat.png").write_bytes(png())
    return tmp_path


@pytest.mark.parametrize(
    "given_as", ["cat.png", '"cat.png"', "~/cat.png", "./cat.png", "ABSOLUTE", "FILE_URL"]
)
async def test_an_existing_file_named_by_a_string_is_uploaded(client, emulator, cwd, given_as):
    value = {"ABSOLUTE": str(cwd / "cat.png"), "FILE_URL": (cwd / "cat.png").as_uri()}.get(
        given_as, given_as
    )
    payload = await client.prepare_input(WAN, {"prompt": "x", "image_url": value})
    assert payload["image_url"].startswith(emulator.url)
    assert emulator.stats.requests.get("presign") == 1
    assert await client.download(payload["image_url"]) == (cwd / "cat.png").read_bytes()


@pytest.mark.parametrize(
    "value", ["cat.pgn", r"C:\Users\me\cat.png", "C:Usersmecat.png", "~/nowhere/cat.png", "sub/"]
)
async def test_a_path_that_names_no_file_is_refused_before_anything_is_sent(
    client, emulator, cwd, value
):
    with pytest.raises(InputValidationError) as info:
        await client.run(WAN, {"prompt": "x", "image_url": value})
    assert info.value.fields == ["image_url"]
    assert "image_url:" in str(info.value)
    assert emulator.stats.predictions_created == 0
    assert "presign" not in emulator.stats.requests


async def test_an_unreadable_file_is_refused_naming_the_field(client, emulator, cwd):
    if os.name == "nt" or os.geteuid() == 0:
        pytest.skip("permissions do not stop this user from reading")
    locked = cwd / "locked.png"
    locked.write_bytes(png())
    locked.chmod(0)
    with pytest.raises(InputValidationError, match="image_url: cannot read the file"):
        await client.run(WAN, {"prompt": "x", "image_url": "locked.png"})
    assert emulator.stats.predictions_created == 0


async def test_urls_pass_as_they_are(client, emulator, cwd):
    url = "https://cdn.example/cat.png"
    payload = await client.prepare_input(WAN, {"prompt": "x", "image_url": url})
    assert payload["image_url"] == url
    assert "presign" not in emulator.stats.requests


async def test_a_refused_input_uploads_no_file(client, emulator, cwd):
    with pytest.raises(InputValidationError) as info:
        await client.prepare_input(WAN, {"prompt": "x", "image_url": "cat.png", "max_images": 99})
    assert info.value.fields == ["max_images"]
    assert "presign" not in emulator.stats.requests


async def test_unsendable_inputs_are_refused_before_the_create(client, emulator, cwd):
    with pytest.raises(InputValidationError) as info:
        await client.run(WAN, {"prompt": "a fox \ud800", "seed": 10**40})
    assert sorted(info.value.fields) == ["prompt", "seed"]
    assert emulator.stats.predictions_created == 0
