"""Output downloads against a real loopback file host: the size cap, the call's deadline,
expired and missing links, and what is left on disk when a download fails."""

from __future__ import annotations

import base64
import gzip
import time
from pathlib import Path

import pytest

from eachlabs_widgets import ConfigurationError, OutputDownloadError
from eachlabs_widgets._service import download
from eachlabs_widgets._service.download import max_download_bytes

from ..output_stand import SLUG, png, stream_forever, watch_staging

S3_EXPIRED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
    b"<Message>Request has expired</Message><RequestId>ABC</RequestId></Error>"
)


@pytest.fixture
def client(stand_client):
    return stand_client


def staged_files(*folders: Path) -> list[Path]:
    return [p for f in folders if f.exists() for p in f.rglob(".eachlabs-*")]


class _Made(list):
    on_disk = False


@pytest.fixture(params=["in memory", "staging file"])
def spool(request, monkeypatch):
    """Both places a download goes: memory while small, a staging file past ``SPOOL_BYTES``
    (made tiny here, so that every download goes on in a file). Gives the staging files made,
    in a list that is ``on_disk`` when they were expected."""
    made = _Made()
    watch_staging(monkeypatch, made)
    if request.param == "staging file":
        made.on_disk = True
        monkeypatch.setattr(download, "SPOOL_BYTES", 16)
    return made


async def test_an_endless_file_stops_at_the_cap(
    client, stand, tmp_path, system_temp, monkeypatch, spool
):
    monkeypatch.setenv("EACHLABS_MAX_DOWNLOAD_MB", "2")
    stand.files = stream_forever(bytes(256 << 10))
    out = tmp_path / "out"
    with pytest.raises(OutputDownloadError, match=r"larger than the 2 MB cap") as caught:
        await client.run(SLUG, {"prompt": "a fox"}, save_to=str(out))
    pid = caught.value.prediction_id
    assert pid and pid in str(caught.value) and "EACHLABS_MAX_DOWNLOAD_MB" in str(caught.value)
    assert client.journal.get(pid).status == "downloading"  # resumable, not forgotten
    assert staged_files(out, system_temp) == []
    assert bool(spool) == spool.on_disk
    assert all(p.parent == out and not p.exists() for p in spool)


async def test_a_declared_size_over_the_cap_is_refused_before_reading(client, stand, monkeypatch):
    monkeypatch.setenv("EACHLABS_MAX_DOWNLOAD_MB", "1")

    def host(handler, stand):
        handler.send_response(200)
        handler.send_header("Content-Type", "image/png")
        handler.send_header("Content-Length", str(50_000_000))
        handler.end_headers()
        handler.wfile.write(b"\x89PNG\r\n\x1a\n")  # and then nothing: only the header counts
        return None

    stand.files = host
    with pytest.raises(OutputDownloadError, match=r"1 MB cap \(50 MB\)"):
        await client.run(SLUG, {"prompt": "a fox"})


async def test_a_compressed_answer_is_capped_by_what_it_inflates_to(client, stand, monkeypatch):
    monkeypatch.setenv("EACHLABS_MAX_DOWNLOAD_MB", "1")
    packed = gzip.compress(b"\x89PNG\r\n\x1a\n" + bytes(8_000_000))
    assert len(packed) < 100_000
    stand.files = lambda handler, stand: (
        200,
        {"Content-Type": "image/png", "Content-Encoding": "gzip"},
        packed,
    )
    with pytest.raises(OutputDownloadError, match="cap"):
        await client.run(SLUG, {"prompt": "a fox"})


async def test_a_trickling_file_ends_at_the_calls_deadline(client, stand, tmp_path, system_temp):
    stand.files = stream_forever(b"x", pause=0.2)  # httpx's per-read timeout never fires
    with pytest.raises(OutputDownloadError, match="deadline") as caught:
        await client.run(SLUG, {"prompt": "a fox"}, timeout=1.0, save_to=str(tmp_path / "o"))
    assert caught.value.prediction_id in str(caught.value)
    assert staged_files(tmp_path, system_temp) == []


async def test_a_deadline_passed_to_download_bounds_it(client, stand):
    stand.files = stream_forever(b"x", pause=0.2)
    with pytest.raises(OutputDownloadError, match="deadline"):
        await client.download(f"{stand.url}/files/p/0.png", deadline=time.monotonic() + 0.5)


async def test_an_expired_link_says_only_the_download_failed_and_how_to_retry(client, stand):
    stand.output = lambda stand, pid, inputs: [
        f"{stand.url}/files/6f1c2a9e.png?X-Amz-Expires=3600&X-Amz-Signature=c0ffee"
    ]
    stand.files = lambda handler, stand: (403, {"Content-Type": "application/xml"}, S3_EXPIRED)
    with pytest.raises(OutputDownloadError) as caught:
        await client.run(SLUG, {"prompt": "a fox"})
    error = caught.value
    text = str(error)
    assert error.status_code == 403 and error.prediction_id in text
    assert "AccessDenied: Request has expired" in text and "<?xml" not in text
    assert "succeeded" in text and f"resume({error.prediction_id!r})" in text
    assert "X-Amz-Signature" not in text and "c0ffee" not in text  # the signed part stays out
    entry = client.journal.get(error.prediction_id)
    assert entry.status == "downloading" and entry.urls


async def test_a_failed_download_is_resumed_without_a_new_prediction(client, stand, tmp_path):
    stand.files = lambda handler, stand: (404, {}, b'{"error": "File not found"}')
    with pytest.raises(OutputDownloadError, match="404 File not found") as caught:
        await client.run(SLUG, {"prompt": "a fox"})
    stand.files = lambda handler, stand: (200, {"Content-Type": "image/png"}, png())
    entry = client.journal.get(caught.value.prediction_id)
    g = await client.follow(entry.id, entry.model, entry.inputs, save_to=str(tmp_path / "o"))
    assert [im.size for im in g.images] == [(8, 8)] and g.paths[0].exists()
    assert stand.creates() == 1
    assert client.journal.get(entry.id).status == "success"
    assert not client.journal.get(entry.id).error


async def test_one_failed_output_removes_every_staged_one(
    client, stand, tmp_path, system_temp, spool
):
    def host(handler, stand):
        if handler.path.endswith("/1.png"):
            return 404, {}, b'{"error": "File not found"}'
        return 200, {"Content-Type": "image/png"}, png()

    stand.files = host
    out = tmp_path / "out"
    with pytest.raises(OutputDownloadError, match="404"):
        await client.run(SLUG, {"prompt": "a fox", "num_images": 3}, save_to=str(out))
    assert staged_files(out, system_temp) == []
    assert not out.exists() or list(out.iterdir()) == []
    assert not any(p.exists() for p in spool)  # those made before the failure, if any


async def test_the_key_never_goes_to_the_file_host(client, stand):
    await client.run(SLUG, {"prompt": "a fox", "num_images": 2})
    [create] = [h for m, p, h in stand.requests if m == "POST"]
    assert create["x-api-key"] == "sk-test-key-for-the-api-only"
    assert len(stand.file_requests()) == 2
    assert all("x-api-key" not in headers for headers in stand.file_requests())


async def test_data_uri_outputs(client, stand):
    image = png(4, 4)
    encoded = base64.b64encode(image).decode()
    stand.output = lambda stand, pid, inputs: [f"data:image/png;base64,{encoded}"]
    g = await client.run(SLUG, {"prompt": "a fox"})
    assert g.outputs[0].data == image and g.outputs[0].content_type == "image/png"
    with pytest.raises(OutputDownloadError, match="not valid base64"):
        await client.download("data:image/png;base64,@@@")


async def test_a_bare_download_names_the_link(client, stand):
    stand.files = lambda handler, stand: (404, {}, b'{"error": "File not found"}')
    with pytest.raises(OutputDownloadError, match=r"downloading .*/files/x/0.png failed: .*404"):
        await client.download(f"{stand.url}/files/x/0.png?sig=secret")


def test_the_cap_setting(monkeypatch):
    monkeypatch.delenv("EACHLABS_MAX_DOWNLOAD_MB", raising=False)
    assert max_download_bytes() == 200_000_000
    monkeypatch.setenv("EACHLABS_MAX_DOWNLOAD_MB", "0.5")
    assert max_download_bytes() == 500_000
    for wrong in ("0", "-3", "lots", "inf", "nan"):
        monkeypatch.setenv("EACHLABS_MAX_DOWNLOAD_MB", wrong)
        with pytest.raises(ConfigurationError, match="EACHLABS_MAX_DOWNLOAD_MB"):
            max_download_bytes()


async def test_a_body_that_breaks_off_is_fetched_again(client, stand, spool):
    image = png(32, 32)
    tries = []

    def host(handler, stand):
        tries.append(1)
        if len(tries) == 1:  # promise the whole file, send a tenth of it, hang up
            handler.send_response(200)
            handler.send_header("Content-Type", "image/png")
            handler.send_header("Content-Length", str(len(image)))
            handler.end_headers()
            handler.wfile.write(image[: len(image) // 10])
            return None
        return 200, {"Content-Type": "image/png"}, image

    stand.files = host
    g = await client.run(SLUG, {"prompt": "a fox"})
    assert len(tries) == 2 and g.outputs[0].data == image
    assert len(spool) == (1 if spool.on_disk else 0)  # started again from its first byte


async def test_a_mislabelled_encoding_is_our_error_after_a_few_tries(client, stand):
    stand.files = lambda handler, stand: (
        200,
        {"Content-Type": "image/png", "Content-Encoding": "gzip"},
        png(),
    )
    with pytest.raises(OutputDownloadError, match=r"could not be read \(DecodingError.*3 tries"):
        await client.run(SLUG, {"prompt": "a fox"})
    assert len(stand.file_requests()) == 3
