"""What a poll answer means: status, outputs and the failure envelope. Pure functions.

Status words (API.md, "Poll"): the docs say ``success``/``error``/``cancelled``, the OpenAPI
spec ``failed``, webhooks ``succeeded``/``failed``, an SDK page ``completed``. Every spelling of
an end ends the wait at once; a word that is no known end counts as running, but not forever
(:class:`StatusWatch`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CANCELLED",
    "FAILED",
    "RUNNING",
    "STALL_LIMIT",
    "SUCCEEDED",
    "Failure",
    "StatusWatch",
    "is_known",
    "is_terminal",
    "normalise_status",
    "output_urls",
    "parse_failure",
]

SUCCEEDED = "success"
#: Other spellings of success, all read as ``success``.
_SUCCESS_WORDS = frozenset({"success", "succeeded", "successful", "completed", "complete"})
#: Endings without a result; the word is kept, so the error can say it.
FAILED = frozenset(
    {"error", "errored", "failed", "failure", "aborted", "timeout", "timed_out", "expired"}
)
CANCELLED = frozenset({"cancelled", "canceled"})
#: Words known to mean "still running" (the docs' lifecycle and its usual synonyms): these
#: may last as long as the service needs (``created`` waits for a provider's capacity).
RUNNING = frozenset(
    {"created", "starting", "processing", "queued", "in_queue", "in_progress", "running", "pending"}
)
#: How long an unknown word may stand unchanged, with no deadline of the call's own.
STALL_LIMIT = 600.0
#: Keys under which third-party clients have seen URLs inside an object ``output``.
_URL_KEYS = (
    "images",
    "image",
    "url",
    "image_url",
    "output",
    "urls",
    "files",
    "file",
    "video",
    "diffusers_lora_file",
    "lora",
    "weights",
)


def normalise_status(status: Any) -> str:
    """The status trimmed, in lower case, with ``-`` and blanks as ``_``; every spelling of
    success is ``success``, ``canceled`` is ``cancelled``; missing is ``starting``."""
    text = "_".join(str(status or "starting").replace("-", " ").split()).lower()
    if text in _SUCCESS_WORDS:
        return SUCCEEDED
    return "cancelled" if text == "canceled" else text


def is_terminal(status: Any) -> bool:
    """``success`` and the failures end a prediction; anything else is still running."""
    s = normalise_status(status)
    return s == SUCCEEDED or s in FAILED or s in CANCELLED


def is_known(status: Any) -> bool:
    """A word this client knows: an end, or a documented way of still running."""
    return is_terminal(status) or normalise_status(status) in RUNNING


class StatusWatch:
    """Tells a wait that an unknown status word has stood still too long.

    A word that is neither an end nor a known way of running counts as running, as the docs
    ask; but when it has not changed (nor the logs with it) for ``limit`` seconds, the wait
    should end with an error naming the word. Fed each poll answer with the time it came.
    """

    def __init__(self, limit: float = STALL_LIMIT) -> None:
        self.limit = limit
        self._seen: tuple[str, Any] | None = None
        self._since = 0.0

    def stalled(self, status: str, logs: Any, now: float) -> bool:
        """True when ``status`` is unknown and it and ``logs`` stood still ``limit`` seconds."""
        if self._seen != (status, logs):
            self._seen, self._since = (status, logs), now
        return not is_known(status) and now - self._since >= self.limit


def output_urls(output: Any) -> list[str]:
    """Every URL in ``output``, in order: from a string, a list, or an object (nested ok), or
    a string that holds one of those as JSON."""
    urls: list[str] = []
    _collect(output, urls, depth=0)
    return list(dict.fromkeys(urls))


def _collect(value: Any, urls: list[str], depth: int) -> None:
    if depth > 5 or value is None:
        return
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(("http://", "https://", "data:")):
            urls.append(text)
        elif text.startswith(("{", "[")):
            # A trainer may answer its object as a JSON string (API.md, "LoRA training").
            with contextlib.suppress(ValueError, RecursionError):
                _collect(json.loads(text), urls, depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect(item, urls, depth + 1)
    elif isinstance(value, Mapping):
        if "error_code" in value or value.get("success") is False:
            return  # a failure envelope holds no outputs
        keys = [k for k in _URL_KEYS if k in value] or list(value)
        for key in keys:
            _collect(value[key], urls, depth + 1)


@dataclass(frozen=True)
class Failure:
    """Why a prediction failed, from the service's failure envelope."""

    message: str | None
    code: str | None
    classification: str | None
    retryable: bool | None


def parse_failure(body: Mapping[str, Any]) -> Failure:
    """The failure envelope of a poll answer (``output`` holds it; older answers use ``error``)."""
    out = body.get("output")
    env: Mapping[str, Any] = out if isinstance(out, Mapping) else {}
    message = env.get("error_message") or env.get("error") or env.get("message")
    if not message:
        top = body.get("error")
        message = top if isinstance(top, str) else None
        if isinstance(out, str) and not out.startswith("http"):
            message = message or out
    if not message and isinstance(body.get("logs"), str):
        message = body["logs"].strip().splitlines()[-1] if body["logs"].strip() else None
    cls = env.get("classification")
    classification = cls.get("category") if isinstance(cls, Mapping) else cls
    retryable = env.get("retryable")
    return Failure(
        message=str(message) if message else None,
        code=str(env["error_code"]) if env.get("error_code") else None,
        classification=str(classification) if classification else None,
        retryable=retryable if isinstance(retryable, bool) else None,
    )
