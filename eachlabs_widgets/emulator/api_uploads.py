"""Uploads: presign, the signed PUT, the public URL and ``DELETE /v1/files/{id}``."""

from __future__ import annotations

import hashlib
import json

from .messages import UPLOAD_PREFIX, Request, Response, body_limit, s3_error
from .state import State, unauthorized
from .uploads import (
    DEFAULT_RETENTION,
    FILE_TYPES,
    MAX_BYTES,
    MAX_RETENTION,
    MIN_RETENTION,
    Upload,
    signature_for,
)


def presign(state: State, request: Request, args: list[str]) -> Response:
    with state.lock:
        if state.authorize(request) is None:
            return unauthorized()
        try:
            body = json.loads(request.body) if request.body.strip() else {}
        except ValueError:
            return Response.error(400, "Invalid request body")
        if not isinstance(body, dict):
            return Response.error(400, "Invalid request body")
        content_type = body.get("content_type")
        if not isinstance(content_type, str) or not content_type.strip():
            return Response.error(400, "content_type is required")
        file_type = body.get("file_type") or "other"
        if file_type not in FILE_TYPES:
            return Response.error(400, f"file_type must be one of {', '.join(FILE_TYPES)}")
        retention = body.get("expires_in_seconds")
        if retention is None:
            retention = DEFAULT_RETENTION
        if (
            isinstance(retention, bool)
            or not isinstance(retention, int | float)
            or not MIN_RETENTION <= retention <= MAX_RETENTION
        ):
            message = f"expires_in_seconds must be between {MIN_RETENTION} and {MAX_RETENTION}"
            return Response.error(400, message)
        upload_id = state.new_id()
        upload = Upload(
            id=upload_id,
            content_type=content_type.strip(),
            file_type=str(file_type),
            signature=signature_for(upload_id, content_type.strip(), state.seed),
            created=state.now(),
            retention=float(retention),
        )
        state.uploads[upload_id] = upload
        with_id = not state.settings.presign_without_id
        return Response.json(200, upload.presign_body(request.base_url, with_id=with_id))


def _denied(code: str, message: str, status: int = 403) -> Response:
    return Response(status, {"Content-Type": "application/xml"}, s3_error(code, message))


def too_large() -> Response:
    """S3's answer to a PUT over the limit (the server sends it before reading such a body)."""
    return body_limit(UPLOAD_PREFIX)[1]


def put(state: State, request: Request, args: list[str]) -> Response:
    """The presigned PUT: signature, signed headers and Content-Type must all match."""
    with state.lock:
        upload = state.uploads.get(args[0])
        if upload is None or request.param("X-Amz-Signature") != upload.signature:
            return _denied("SignatureDoesNotMatch", "The request signature does not match.")
        if upload.put_expired(state.now()):
            return _denied("AccessDenied", "Request has expired")
        for name, value in upload.required_headers().items():
            if request.header(name) != value:
                return _denied("SignatureDoesNotMatch", f"Missing or wrong signed header {name}.")
        sent_type = (request.header("content-type") or "").strip().lower()
        if sent_type != upload.content_type.lower():
            return _denied(
                "SignatureDoesNotMatch",
                "The Content-Type does not match the one the URL was signed for.",
            )
        if len(request.body) > MAX_BYTES:
            return too_large()
        upload.data = bytes(request.body)
        upload.put_at = state.now()
        return Response(200, {"ETag": f'"{hashlib.md5(upload.data).hexdigest()}"'})


def uploaded_file(state: State, request: Request, args: list[str]) -> Response:
    name = args[0]
    with state.lock:
        upload = state.uploads.get(name.split(".", 1)[0])
        if (
            upload is None
            or upload.data is None
            or upload.expired(state.now())
            or name != upload.name
        ):
            return Response.error(404, "File not found")
        return Response(200, {"Content-Type": upload.content_type}, upload.data)


def delete(state: State, request: Request, args: list[str]) -> Response:
    """``DELETE /v1/files/{id}`` (API.md, "Upload"): 204, also for a file that never existed
    (404 for that with the ``files_delete_404`` switch: both mean "gone"); 409 while the file
    is still processing (for ``files_processing_seconds`` after its PUT)."""
    with state.lock:
        if state.authorize(request) is None:
            return unauthorized()
        upload = state.uploads.get(args[0])
        now = state.now()
        if upload is None:
            if state.settings.files_delete_404:
                return Response.error(404, "File not found")
            return Response(204)
        processing = state.settings.files_processing_seconds
        if upload.put_at is not None and now - upload.put_at < processing:
            return Response.error(409, "File is still processing; try again shortly")
        del state.uploads[args[0]]
        return Response(204)
