"""The live check's trace: what it keeps of each request and answer, and what it never keeps."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import httpx
import pytest

from eachlabs_widgets._service.trace import Trace, body_form, cut_url, scrub
from eachlabs_widgets._settings import Secret

KEY = "Zq8xKv3Wm9Lp2Rt7Yh4N"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://b.s3.amazonaws.com/u/1.png?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA%2F1"
            "&X-Amz-Signature=ab12&x-amz-security-token=T",
            "https://b.s3.amazonaws.com/u/1.png?X-Amz-Algorithm=AWS4&X-Amz-Credential=<cut>"
            "&X-Amz-Signature=<cut>&x-amz-security-token=<cut>",
        ),
        (
            "https://cdn.example/o.png?Expires=9&Signature=zz&Key-Pair-Id=K#top",
            "https://cdn.example/o.png?Expires=9&Signature=<cut>&Key-Pair-Id=<cut>#top",
        ),
        ("https://x.example/f?token=abc&size=2", "https://x.example/f?token=<cut>&size=2"),
        ("https://x.example/f?a=1&amp;Signature=s", "https://x.example/f?a=1&amp;Signature=<cut>"),
        ("https://user:pw@proxy.example:8080/v1", "https://user:<cut>@proxy.example:8080/v1"),
        (
            "https://api.eachlabs.ai/v1/models?limit=10",
            "https://api.eachlabs.ai/v1/models?limit=10",
        ),
    ],
)
def test_url_signatures_are_cut_and_the_rest_kept(url, shown):
    assert cut_url(url) == shown


def test_the_key_and_signed_urls_are_cut_inside_any_text():
    text = f'failed for key {KEY}: see "https://s3.example/a?sig=S3CRET&x=1" and go on'
    assert scrub(text, Secret(KEY)) == (
        'failed for key <redacted>: see "https://s3.example/a?sig=<cut>&x=1" and go on'
    )


def test_bodies_are_json_text_or_a_digest_never_binary():
    assert body_form(b"", "application/json", None) is None
    assert body_form(b'{"a": [1]}', "application/json; charset=utf-8", None) == {"a": [1]}
    assert body_form(b"<Error>x</Error>", "application/xml", None) == {"text": "<Error>x</Error>"}
    assert body_form(b"not json", "application/json", None) == {"text": "not json"}
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    assert body_form(png, "image/png", None) == {
        "bytes": len(png),
        "sha256": hashlib.sha256(png).hexdigest(),
        "content_type": "image/png",
    }
    assert set(body_form(b"\xff\xfe\x00", "application/octet-stream", None)) == {
        "bytes",
        "sha256",
        "content_type",
    }


def _echo(request: httpx.Request) -> httpx.Response:
    """A careless service: it echoes the key in a header and in its body."""
    if request.url.path == "/down":
        raise httpx.ConnectError("refused", request=request)
    return httpx.Response(
        200,
        headers={"X-Echo": request.headers.get("x-api-key", ""), "Set-Cookie": "s=1"},
        json={"you_sent": request.headers.get("x-api-key"), "url": "https://f.example/a?token=t"},
    )


def test_the_trace_holds_every_exchange_without_the_key(tmp_path: Path):
    path = tmp_path / "t.jsonl"

    async def go() -> None:
        client = httpx.AsyncClient(transport=httpx.MockTransport(_echo))
        with Trace(path, "https://api.example", Secret(KEY)) as trace:
            trace.attach(client)
            await client.post(
                "https://api.example/v1/prediction",
                json={"model": "m", "note": KEY},
                headers={"X-API-Key": KEY, "Authorization": f"Bearer {KEY}"},
            )
            with pytest.raises(httpx.ConnectError):
                await client.get("https://api.example/down")
        await client.aclose()

    asyncio.run(go())
    text = path.read_text(encoding="utf-8")
    assert KEY not in text
    header, answered, unanswered = (json.loads(line) for line in text.splitlines())
    assert header["base_url"] == "https://api.example" and header["version"] == 1
    request, response = answered["request"], answered["response"]
    assert request["headers"]["x-api-key"] == request["headers"]["authorization"] == "<redacted>"
    assert request["body"] == {"model": "m", "note": "<redacted>"}
    assert response["headers"]["x-echo"] == "<redacted>"
    assert response["headers"]["set-cookie"] == "<redacted>"
    assert response["body"] == {"you_sent": "<redacted>", "url": "https://f.example/a?token=<cut>"}
    assert unanswered["request"]["url"] == "https://api.example/down"
    assert unanswered["response"] is None


def test_an_s3_signature_error_keeps_its_message_but_not_what_was_signed():
    xml = (
        "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated"
        " does not match</Message><AWSAccessKeyId>AKIAEXAMPLE</AWSAccessKeyId><StringToSign>"
        "AWS4-HMAC-SHA256\n2026\nscope\nhash</StringToSign><SignatureProvided>ab12cd"
        "</SignatureProvided><CanonicalRequest>PUT\n/u/1.png\nX-Amz-Credential=AKIA%2F1"
        "</CanonicalRequest></Error>"
    )
    shown = body_form(xml.encode(), "application/xml", None)["text"]
    assert "SignatureDoesNotMatch" in shown and "does not match" in shown
    for secret in ("AKIA", "ab12cd", "AWS4-HMAC", "/u/1.png"):
        assert secret not in shown
    assert "<SignatureProvided><cut></SignatureProvided>" in shown
