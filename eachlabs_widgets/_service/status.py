"""What a poll answer means: status, outputs and the failure envelope. Pure functions."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CANCELLED",
    "FAILED",
    "Failure",
    "is_terminal",
    "normalise_status",
    "output_urls",
    "parse_failure",
]

SUCCEEDED = "success"
FAILED = frozenset({"error", "failed"})
CANCELLED = frozenset({"cancelled", "canceled"})
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
    """The status in lower case; ``canceled`` is spelled ``cancelled``; missing is ``starting``."""
    text = str(status or "starting").strip().lower()
    return "cancelled" if text == "canceled" else text


def is_terminal(status: Any) -> bool:
    """``success`` and the failures end a prediction; anything else is still running."""
    s = normalise_status(status)
    return s == SUCCEEDED or s in FAILED or s in CANCELLED


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
