"""The live check's verdicts: each answer, as the trace recorded it, against what the client
expects, read with the client's own parsers (``status``). Pure functions of the exchanges."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from .._generation import Generation
from .._service.status import is_terminal, output_urls

__all__ = [
    "BAD",
    "FAILED",
    "INFO",
    "MATCH",
    "MISMATCH",
    "UNSUPPORTED",
    "cancel_answer",
    "create_answer",
    "outcome",
    "request_ids",
    "status_words",
]

MATCH, MISMATCH, FAILED, UNSUPPORTED, INFO = (
    "matches",
    "DIFFERS",
    "FAILED",
    "not supported by this service",
    "",
)
#: Verdicts that make a problem.
BAD = (MISMATCH, FAILED)
#: The status words of the record (API.md, "Poll"), in any of its spellings.
SUCCESS = frozenset({"success", "succeeded", "completed"})
ENDS = SUCCESS | {"error", "failed", "cancelled", "canceled"}
KNOWN_WORDS = ENDS | {"created", "starting", "processing"}
Row = tuple[str, str, str]
Exchanges = list[dict[str, Any]]


def path_of(exchange: Mapping[str, Any]) -> str:
    """The request's path from ``/v1/`` on (a base URL may put a gateway's prefix before it)."""
    path = httpx.URL(exchange["request"]["url"]).path
    start = path.find("/v1/")
    return path[start:] if start > 0 else path


def answer_of(exchange: Mapping[str, Any]) -> Mapping[str, Any]:
    return exchange.get("response") or {}


def polls_of(exchanges: Exchanges, prediction_id: str | None = None) -> Exchanges:
    """The polls among ``exchanges`` (of one prediction, if given), answered with an object."""
    found = []
    for e in exchanges:
        parts = path_of(e).rstrip("/").split("/")
        if e["request"]["method"] != "GET" or parts[1:3] != ["v1", "prediction"]:
            continue
        if len(parts) != 4 or (prediction_id is not None and parts[3] != prediction_id):
            continue
        if isinstance(answer_of(e).get("body"), dict):
            found.append(e)
    return found


def create_answer(exchanges: Exchanges) -> Row:
    """The create's answer holds the id under ``predictionID`` (API.md, "Create")."""
    creates = [
        e
        for e in exchanges
        if e["request"]["method"] == "POST" and path_of(e).rstrip("/") == "/v1/prediction"
    ]
    if not creates:
        return ("create answer", FAILED, "no create was sent")
    answer = answer_of(creates[-1])
    body = answer.get("body")
    if not answer:
        return ("create answer", FAILED, "no answer")
    if answer["status"] != 200:
        return ("create answer", FAILED, f"HTTP {answer['status']}: {said(body)}")
    if isinstance(body, dict) and isinstance(body.get("predictionID"), str):
        return ("create answer", MATCH, f"HTTP 200, predictionID {body['predictionID']}")
    other = [k for k in ("prediction_id", "id") if isinstance(body, dict) and k in body]
    if other:
        return ("create answer", MISMATCH, f"the id is under {other[0]!r}, not 'predictionID'")
    return ("create answer", MISMATCH, f"no predictionID in {said(body)}")


def outcome(exchanges: Exchanges, generation: Generation | None) -> list[Row]:
    """The last poll's ``output`` (at a success) and ``metrics``, and the files downloaded
    (``generation``: ``None`` when the run failed)."""
    polls = polls_of(exchanges)
    if not polls:
        return []
    final = answer_of(polls[-1])["body"]
    rows: list[Row] = []
    if str(final.get("status")).lower() in SUCCESS:
        rows.append(_output_row(final.get("output")))
    rows.append(_metrics_row(final.get("metrics")))
    if generation is not None:
        rows.append(_download_row(exchanges, polls, generation))
    return rows


def _output_row(output: Any) -> Row:
    urls = output_urls(output)
    shape = (
        f"a list of {len(output)}"
        if isinstance(output, list)
        else "one URL string"
        if isinstance(output, str)
        else f"an object ({', '.join(map(str, output))})"
        if isinstance(output, dict)
        else type(output).__name__
    )
    if urls:
        return ("output", MATCH, f"{shape}: {len(urls)} file URL(s)")
    return ("output", MISMATCH, f"{shape}: no file URL the client recognises")


def _metrics_row(metrics: Any) -> Row:
    metrics = metrics if isinstance(metrics, dict) else {}
    wrong = [
        name
        for name in ("cost", "predict_time")
        if isinstance(metrics.get(name), bool) or not isinstance(metrics.get(name), int | float)
    ]
    if wrong:
        return ("metrics", MISMATCH, f"metrics.{' and metrics.'.join(wrong)} not a number")
    return (
        "metrics",
        MATCH,
        f"cost ${metrics['cost']:g}, predict_time {metrics['predict_time']:g} s",
    )


def _download_row(exchanges: Exchanges, polls: Exchanges, generation: Generation) -> Row:
    urls = generation.urls
    downloads = [e for e in exchanges if e["request"]["method"] == "GET" and e not in polls]
    files = [e for e in downloads if not path_of(e).startswith("/v1/")]
    images = generation.images
    sizes = ", ".join(f"{im.width}×{im.height}" for im in images)
    kinds = {str((answer_of(e).get("body") or {}).get("content_type", "?")) for e in files}
    nbytes = sum(int((answer_of(e).get("body") or {}).get("bytes", 0)) for e in files)
    if generation.undecodable or len(images) != len(urls):
        problem = "; ".join(generation.undecodable.values()) or "not every file is an image"
        return ("download", MISMATCH, problem)
    return (
        "download",
        MATCH,
        f"{len(images)} image(s), {nbytes} bytes, {', '.join(kinds)}, {sizes}",
    )


def cancel_answer(exchanges: Exchanges) -> Row:
    """``POST …/cancel`` is accepted with ``status`` ``cancelled`` (or ``success``)."""
    sent = [
        e for e in exchanges if e["request"]["method"] == "POST" and path_of(e).endswith("/cancel")
    ]
    if not sent:
        return ("cancel answer", FAILED, "no cancel was sent")
    answer = answer_of(sent[-1])
    body = answer.get("body")
    if answer.get("status") in (400, 409):  # only a prediction still running can be cancelled
        return ("cancel answer", INFO, f"refused (HTTP {answer['status']}: {said(body)})")
    if not answer or answer["status"] != 200:
        return ("cancel answer", FAILED, f"HTTP {answer.get('status')}: {said(body)}")
    word = body.get("status") if isinstance(body, dict) else None
    if word in ("cancelled", "canceled", "success"):
        return ("cancel answer", MATCH, f"accepted (status {word!r}); a request, not an outcome")
    return ("cancel answer", MISMATCH, f"status {word!r} in {said(body)}")


def status_words(exchanges: Exchanges) -> Row:
    """Every status word polled is one of the record's, and the client reads it as meant."""
    words = [str(answer_of(e)["body"].get("status")) for e in polls_of(exchanges)]
    seen = list(dict.fromkeys(words))
    unknown = [w for w in seen if w.lower() not in KNOWN_WORDS]
    if not words:
        return ("status words", INFO, "no poll was answered")
    if unknown:
        return ("status words", MISMATCH, f"unknown: {', '.join(unknown)} (taken as running)")
    misread = [w for w in seen if w.lower() in ENDS and not is_terminal(w)]
    if misread:
        return (
            "status words",
            MISMATCH,
            f"{', '.join(misread)} ends a prediction, but the client waits on",
        )
    ended = [w for w in seen if is_terminal(w)]
    return (
        "status words",
        MATCH,
        f"{', '.join(seen)} ({len(words)} polls; ends: {', '.join(ended)})",
    )


def request_ids(exchanges: Exchanges) -> Row:
    """Every answer of the API carries ``X-Request-Id`` (API.md, "Authentication")."""
    api = [e for e in exchanges if e.get("response") and path_of(e).startswith("/v1/")]
    carried = [e for e in api if answer_of(e)["headers"].get("x-request-id")]
    echoed = [
        e
        for e in carried
        if answer_of(e)["headers"]["x-request-id"] == e["request"]["headers"].get("x-request-id")
    ]
    if not api:
        return ("X-Request-Id", INFO, "no answer from the API")
    if len(carried) < len(api):
        return (
            "X-Request-Id",
            MISMATCH,
            f"missing on {len(api) - len(carried)} of {len(api)} answers",
        )
    how = "the id sent is echoed" if len(echoed) == len(api) else "its own ids"
    return ("X-Request-Id", MATCH, f"on all {len(api)} answers ({how})")


def said(body: Any) -> str:
    if isinstance(body, dict) and ("error" in body or "message" in body):
        return str(body.get("error") or body.get("message"))[:200]
    return repr(body)[:200]
