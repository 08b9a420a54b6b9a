"""Upload: presign, signed PUT with required headers, public URL, delete."""

from __future__ import annotations

import httpx
import pytest

from eachlabs_widgets.emulator import EMULATOR_BASE_URL, Emulator

from .helpers import FakeClock, run, upload

PNG = b"\x89PNG\r\n\x1a\n" + b"fake image data" * 10


def presign(client: httpx.Client, **body: object) -> dict:
    response = client.post("/v1/upload/presign", json={"content_type": "image/png", **body})
    assert response.status_code == 200, response.text
    data: dict = response.json()
    return data


def test_presign_put_get_delete(client: httpx.Client, emu: Emulator) -> None:
    info = presign(client, file_type="image")
    assert set(info) == {"id", "presigned_url", "public_url", "expires_at", "required_headers"}
    assert info["required_headers"] == {"x-amz-meta-file-id": info["id"]}
    assert info["public_url"] == f"{EMULATOR_BASE_URL}/uploads/{info['id']}.png"
    assert info["expires_at"].endswith("Z")
    # Not there until the PUT.
    assert client.get(info["public_url"]).status_code == 404
    with httpx.Client(transport=emu.transport()) as bare:  # no API key on the signed URL
        put = bare.put(
            info["presigned_url"],
            content=PNG,
            headers={"Content-Type": "image/png", **info["required_headers"]},
        )
        assert put.status_code == 200
        got = bare.get(info["public_url"])
    assert got.status_code == 200
    assert got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert client.delete(f"/v1/files/{info['id']}").status_code == 204
    assert client.get(info["public_url"]).status_code == 404
    assert client.delete(f"/v1/files/{info['id']}").status_code == 204  # gone is gone
    assert client.delete("/v1/files/never-existed").status_code == 204


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "image/png"},  # missing the signed header
        {"Content-Type": "image/png", "x-amz-meta-file-id": "other"},
        {"Content-Type": "image/jpeg", "x-amz-meta-file-id": "ID"},
        {"x-amz-meta-file-id": "ID"},
    ],
)
def test_put_with_wrong_headers_is_rejected(client: httpx.Client, headers: dict[str, str]) -> None:
    info = presign(client)
    headers = {k: v.replace("ID", info["id"]) for k, v in headers.items()}
    response = client.put(info["presigned_url"], content=PNG, headers=headers)
    assert response.status_code == 403
    assert b"SignatureDoesNotMatch" in response.content
    assert client.get(info["public_url"]).status_code == 404


def test_put_with_bad_signature_or_late_is_rejected(client: httpx.Client, clock: FakeClock) -> None:
    info = presign(client)
    headers = {"Content-Type": "image/png", **info["required_headers"]}
    tampered = info["presigned_url"].replace("Signature=", "Signature=0")
    assert client.put(tampered, content=PNG, headers=headers).status_code == 403
    clock.advance(16 * 60)  # the URL lives 15 minutes
    late = client.put(info["presigned_url"], content=PNG, headers=headers)
    assert late.status_code == 403
    assert b"expired" in late.content


def test_presign_errors(client: httpx.Client, emu: Emulator) -> None:
    missing = client.post("/v1/upload/presign", json={"file_type": "image"})
    assert missing.status_code == 400
    assert missing.json() == {"error": "content_type is required"}
    assert (
        client.post(
            "/v1/upload/presign", json={"content_type": "image/png", "file_type": "pdf"}
        ).status_code
        == 400
    )
    assert (
        client.post(
            "/v1/upload/presign", json={"content_type": "image/png", "expires_in_seconds": 5}
        ).status_code
        == 400
    )
    with httpx.Client(transport=emu.transport(), base_url=EMULATOR_BASE_URL) as anon:
        assert (
            anon.post("/v1/upload/presign", json={"content_type": "image/png"}).status_code == 401
        )
        assert anon.delete("/v1/files/x").status_code == 401


def test_retention(client: httpx.Client, clock: FakeClock) -> None:
    info = presign(client, expires_in_seconds=60)
    headers = {"Content-Type": "image/png", **info["required_headers"]}
    assert client.put(info["presigned_url"], content=PNG, headers=headers).status_code == 200
    assert client.get(info["public_url"]).status_code == 200
    clock.advance(61)
    assert client.get(info["public_url"]).status_code == 404


def test_uploaded_url_as_model_input(client: httpx.Client, clock: FakeClock) -> None:
    info = presign(client)
    body = run(client, clock, "wan-v2-6-text-to-image", prompt="x", image_url=info["public_url"])
    assert body["status"] == "error"  # nothing was uploaded yet
    assert "image_url" in body["output"]["error_message"]
    headers = {"Content-Type": "image/png", **info["required_headers"]}
    client.put(info["presigned_url"], content=PNG, headers=headers)
    body = run(client, clock, "wan-v2-6-text-to-image", prompt="x", image_url=info["public_url"])
    assert body["status"] == "success"


def test_the_limit_is_100_mb_decimal(client: httpx.Client) -> None:
    """ "At most 100 MB per file" (API.md, "Upload"): 100,000,000 bytes take, one more not."""
    info = presign(client)
    headers = {"Content-Type": "image/png", **info["required_headers"]}
    over = client.put(info["presigned_url"], content=b"\0" * 100_000_001, headers=headers)
    assert over.status_code == 400
    assert b"<Code>EntityTooLarge</Code>" in over.content
    assert client.get(info["public_url"]).status_code == 404
    at = client.put(info["presigned_url"], content=b"\0" * 100_000_000, headers=headers)
    assert at.status_code == 200
    assert len(client.get(info["public_url"]).content) == 100_000_000


@pytest.mark.parametrize("seconds", [60, 365 * 24 * 3600])
def test_expires_in_seconds_bounds_are_inclusive(client: httpx.Client, seconds: int) -> None:
    info = presign(client, expires_in_seconds=seconds)
    assert info["expires_at"].endswith("Z")


@pytest.mark.parametrize("seconds", [59, 365 * 24 * 3600 + 1, "600", True, None])
def test_expires_in_seconds_out_of_range_is_400(client: httpx.Client, seconds: object) -> None:
    if seconds is None:  # absent: the default of 180 days
        assert presign(client)
        return
    response = client.post(
        "/v1/upload/presign", json={"content_type": "image/png", "expires_in_seconds": seconds}
    )
    assert response.status_code == 400
    assert "expires_in_seconds" in response.json()["error"]


def test_presign_without_id_switch(client: httpx.Client, emu: Emulator) -> None:
    emu.presign_without_id = True
    info = presign(client)
    assert "id" not in info
    assert set(info) == {"presigned_url", "public_url", "expires_at", "required_headers"}
    headers = {"Content-Type": "image/png", **info["required_headers"]}
    assert client.put(info["presigned_url"], content=PNG, headers=headers).status_code == 200
    assert client.get(info["public_url"]).content == PNG


def test_delete_404_variant_and_409_while_processing(
    client: httpx.Client, emu: Emulator, clock: FakeClock
) -> None:
    emu.files_delete_404 = True
    missing = client.delete("/v1/files/never-existed")
    assert missing.status_code == 404
    assert missing.json() == {"error": "File not found"}
    emu.files_processing_seconds = 5
    info = presign(client)
    headers = {"Content-Type": "image/png", **info["required_headers"]}
    client.put(info["presigned_url"], content=PNG, headers=headers)
    busy = client.delete(f"/v1/files/{info['id']}")
    assert busy.status_code == 409
    assert "processing" in busy.json()["error"]
    assert client.get(info["public_url"]).status_code == 200  # still there
    clock.advance(5)
    assert client.delete(f"/v1/files/{info['id']}").status_code == 204
    assert client.get(info["public_url"]).status_code == 404
    assert client.delete(f"/v1/files/{info['id']}").status_code == 404  # gone


def test_a_deleted_upload_can_no_longer_be_an_input(client: httpx.Client, clock: FakeClock) -> None:
    url = upload(client, PNG)
    upload_id = url.rsplit("/", 1)[1].split(".")[0]
    assert client.delete(f"/v1/files/{upload_id}").status_code == 204
    body = run(client, clock, "wan-v2-6-text-to-image", prompt="x", image_url=url)
    assert body["status"] == "error"
    assert "image_url: could not download" in body["output"]["error_message"]
