"""Uploaded input files: presign, the signed PUT, the public URL and delete.

The presigned URL is ``{base}/_uploads/{id}?X-Amz-Expires=900&X-Amz-Signature=...`` and lives
15 minutes (clock time, not scaled by ``speed``). A PUT must carry the signature, every
``required_headers`` entry and the presigned ``Content-Type``; otherwise it gets an S3-style
``403`` XML error, as a real bucket would; a file over 100 MB (decimal, 100,000,000 bytes, API.md,
"Upload") gets S3's ``400 EntityTooLarge``. The bytes are then served at ``public_url`` until the
retention the presign asked for (``expires_in_seconds``, 60 s..365 days, default 180 days) ends
or ``DELETE /v1/files/{id}`` removes them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import mimetypes
from dataclasses import dataclass
from typing import Any

from .messages import MAX_UPLOAD_BYTES

PUT_LIFETIME = 15 * 60
MAX_BYTES = MAX_UPLOAD_BYTES  # "At most 100 MB per file": decimal megabytes
MIN_RETENTION = 60
MAX_RETENTION = 365 * 24 * 3600
DEFAULT_RETENTION = 180 * 24 * 3600
FILE_TYPES = ("image", "video", "audio", "other")

_EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/jpg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
    "video/mp4": "mp4",
    "audio/mpeg": "mp3",
    "audio/wav": "wav",
    "application/zip": "zip",
}


def extension_for(content_type: str) -> str:
    bare = content_type.split(";")[0].strip().lower()
    if bare in _EXTENSIONS:
        return _EXTENSIONS[bare]
    guessed = mimetypes.guess_extension(bare)
    return guessed.lstrip(".") if guessed else "bin"


@dataclass
class Upload:
    id: str
    content_type: str
    file_type: str
    signature: str
    created: float  # clock reading
    retention: float  # seconds the stored file lives
    data: bytes | None = None
    put_at: float | None = None  # clock reading of the PUT

    @property
    def name(self) -> str:
        return f"{self.id}.{extension_for(self.content_type)}"

    def put_expired(self, now: float) -> bool:
        return now - self.created > PUT_LIFETIME

    def expired(self, now: float) -> bool:
        return now - self.created > self.retention

    def presign_body(self, base_url: str, *, with_id: bool = True) -> dict[str, Any]:
        expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=self.retention)
        body = {
            "id": self.id,
            "presigned_url": (
                f"{base_url}/_uploads/{self.id}"
                f"?X-Amz-Expires={PUT_LIFETIME}&X-Amz-Signature={self.signature}"
            ),
            "public_url": f"{base_url}/uploads/{self.name}",
            "expires_at": expires.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "required_headers": {"x-amz-meta-file-id": self.id},
        }
        if not with_id:
            del body["id"]
        return body

    def required_headers(self) -> dict[str, str]:
        return {"x-amz-meta-file-id": self.id}


def signature_for(upload_id: str, content_type: str, salt: int | None) -> str:
    return hashlib.sha256(f"{salt}:{upload_id}:{content_type}".encode()).hexdigest()
