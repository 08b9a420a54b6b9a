"""The live check's round trip: each step's requests, and the rows of their verdicts.

The steps run one after another through one client whose every exchange a
:class:`~.._service.trace.Trace` records; the verdicts are read from those records
(:mod:`.verdicts`) and with the client's own checks of a model and a presign answer, so a
service that answers in a shape the client would misread is named here as it would fail there.
A step that fails is a row, and the next step still runs.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote

from .._exceptions import (
    APIError,
    EachLabsError,
    NotFoundError,
    PredictionCancelledError,
    PredictionFailedError,
    PredictionTimeoutError,
)
from .._schema.inputs import properties_of
from .._service.client import AsyncEachLabs, _model_problem, _presign_problem
from .._service.prediction import Prediction
from .._service.trace import Trace
from .plan import PROMPT, smallest_inputs, tiny_png
from .verdicts import (
    FAILED,
    INFO,
    MATCH,
    MISMATCH,
    UNSUPPORTED,
    Row,
    answer_of,
    cancel_answer,
    create_answer,
    outcome,
    polls_of,
    request_ids,
    status_words,
)

__all__ = ["check"]

#: Seconds a create may take to succeed, and a cancelled one to say how it ended.
RUN_TIMEOUT = 180.0
SETTLE_TIMEOUT = 120.0
LIST_LIMIT = 10
MAX_PAGES = 20
#: How long the uploaded PNG may live, should its delete fail (seconds; API.md, "Upload").
UPLOAD_RETENTION = 3600


async def catalogue(client: AsyncEachLabs, auth: bool) -> Row:
    """``GET /v1/models`` page by page (limit/offset) until a short page, two at least."""
    pages: list[Any] = []
    offset = 0
    while len(pages) < MAX_PAGES:
        params = {"limit": LIST_LIMIT, "offset": offset}
        page = await client._http.json("GET", "/v1/models", params=params, auth=auth)
        pages.append(page)
        if not isinstance(page, list):
            kind = type(page).__name__
            return ("catalogue paging", MISMATCH, f"page {len(pages)} is a {kind}, not an array")
        offset += len(page)
        if len(pages) >= 2 and (len(page) < LIST_LIMIT or page == pages[-2]):
            break
    slugs = [m.get("slug") if isinstance(m, dict) else None for p in pages for m in p]
    problems = []
    if None in slugs or not all(isinstance(s, str) for s in slugs):
        problems.append("some items are not models with a slug")
    if len(set(slugs)) < len(slugs):
        problems.append("a page repeats models of another (offset ignored?)")
    if any(len(p) > LIST_LIMIT for p in pages):
        problems.append(f"a page holds more than limit={LIST_LIMIT} models")
    if problems:
        return ("catalogue paging", MISMATCH, "; ".join(problems))
    schemas = sum(isinstance(m.get("request_schema"), dict) for p in pages for m in p)
    more = ", more not read" if len(pages) == MAX_PAGES and len(pages[-1]) == LIST_LIMIT else ""
    return (
        "catalogue paging",
        MATCH,
        f"{len(slugs)} models in {len(pages)} pages of up to {LIST_LIMIT}{more}; "
        f"{schemas} carry their request_schema",
    )


async def model_schema(client: AsyncEachLabs, model: str, auth: bool) -> tuple[Row, dict[str, Any]]:
    """``GET /v1/model?slug=``: the detail the client builds its checks and forms from."""
    detail = await client._http.json("GET", "/v1/model", params={"slug": model}, auth=auth)
    problem = _model_problem(detail)
    if problem is None:
        fields = ("title", "slug", "version", "output_type", "request_schema")
        missing = [k for k in fields if k not in detail]
        if missing:
            problem = f"it has no {', '.join(missing)}"
        elif detail.get("slug") != model:
            problem = f"it describes {detail.get('slug')!r}, not {model!r}"
    if problem is not None:
        return ("model schema", MISMATCH, problem), {}
    schema = detail.get("request_schema") or {}
    shown = (
        f"{model}: {len(properties_of(schema))} inputs, output_type "
        f"{detail.get('output_type')!r}, version {detail.get('version')!r}"
    )
    return ("model schema", MATCH, shown), schema


async def cancel(
    client: AsyncEachLabs, trace: Trace, model: str, inputs: Mapping[str, Any]
) -> list[Row]:
    """A second create, cancelled as soon as it exists, then followed until it ends (a
    cancel is a request: the record says it may still complete, and then it is billed)."""
    start = trace.mark()
    made: asyncio.Future[Prediction] = asyncio.get_running_loop().create_future()

    def on_update(prediction: Prediction) -> None:
        if not made.done():
            made.set_result(prediction)

    inputs = {**inputs, "prompt": PROMPT + " (cancelled at once)"}
    run = asyncio.ensure_future(
        client.run(model, inputs, on_update=on_update, save_to=None, timeout=RUN_TIMEOUT)
    )
    first: set[asyncio.Future[Any]] = {made, run}
    await asyncio.wait(first, return_when=asyncio.FIRST_COMPLETED)
    if not made.done():  # the create failed: run's error says why
        made.cancel()
        run.result()
    prediction = made.result()
    run.cancel()  # the client cancels on the service what it created, and journals it
    await asyncio.wait({run})
    if not run.cancelled():  # it ended (or failed) on its own before the cancel landed
        how = "succeeded" if run.exception() is None else f"ended: {run.exception()}"
        return [("cancel", INFO, f"not sent: the prediction {how} first")]
    rows = [cancel_answer(trace.exchanges[start:])]
    try:
        done = await client.follow(
            prediction.id, model, dict(prediction.input), timeout=SETTLE_TIMEOUT, save_to=None
        )
    except PredictionCancelledError:
        polls = polls_of(trace.exchanges[start:], prediction.id)
        metrics = answer_of(polls[-1])["body"].get("metrics") if polls else None
        cost = metrics.get("cost") if isinstance(metrics, dict) else None
        if cost:
            rows.append(("after the cancel", MISMATCH, f"cancelled, yet metrics.cost is ${cost}"))
        else:
            rows.append(("after the cancel", MATCH, "cancelled, cost $0 (not billed)"))
    except PredictionFailedError as exc:
        rows.append(("after the cancel", MATCH, f"ended in error: {exc}"))
    except PredictionTimeoutError:
        rows.append(
            (
                "after the cancel",
                FAILED,
                f"no end within {SETTLE_TIMEOUT:g} s: it may complete and be billed; "
                f"el.resume({prediction.id!r}) follows it",
            )
        )
    else:
        cost = done.cost
        paid = f"${cost:g}" if cost is not None else "an unknown amount"
        rows.append(
            (
                "after the cancel",
                MATCH,
                f"completed before the cancel took effect: billed {paid}, its files downloaded",
            )
        )
    return rows


async def upload(client: AsyncEachLabs, trace: Trace) -> list[Row]:
    """A 1 KB PNG: presign, the signed PUT, read back from its public URL, and deleted."""
    http = client._http
    png = tiny_png()
    presign = await http.json(
        "POST",
        "/v1/upload/presign",
        json={
            "content_type": "image/png",
            "file_type": "image",
            "expires_in_seconds": UPLOAD_RETENTION,
        },
    )
    problem = _presign_problem(presign)
    if problem is not None:
        return [("upload presign", MISMATCH, problem)]
    fields = [k for k in ("id", "expires_at") if not presign.get(k)]
    headers = {str(k): str(v) for k, v in (presign.get("required_headers") or {}).items()}
    rows: list[Row] = [
        ("upload presign", MISMATCH, f"no {' and no '.join(fields)}")
        if fields
        else (
            "upload presign",
            MATCH,
            f"id, presigned_url, public_url, expires_at, required_headers: {', '.join(headers) or 'none'}",
        )
    ]

    async def put() -> Row:
        answer = await http.request(
            "PUT",
            presign["presigned_url"],
            auth=False,
            content=png,
            headers={**headers, "Content-Type": "image/png"},
        )
        return ("upload PUT", MATCH, f"{len(png)} bytes, HTTP {answer.status_code}")

    async def served() -> Row:
        answer = await http.request("GET", presign["public_url"], auth=False)
        if hashlib.sha256(answer.content).digest() == hashlib.sha256(png).digest():
            return ("upload served", MATCH, "the public URL serves the same bytes")
        return (
            "upload served",
            MISMATCH,
            f"the public URL serves {len(answer.content)} other bytes",
        )

    # Each is a row of its own, and whatever happened the file is deleted.
    for name, work in (("upload PUT", put), ("upload served", served)):
        row = await step(rows, name, work())
        if row is not None:
            rows.append(row)
    upload_id = presign.get("id")
    if not upload_id:
        rows.append(("upload delete", MISMATCH, "no id: the file stays public until it expires"))
        return rows
    rows.append(await delete(client, trace, str(upload_id)))
    return rows


async def delete(client: AsyncEachLabs, trace: Trace, upload_id: str) -> Row:
    """``DELETE /v1/files/{id}``: 204 or 404 both mean gone (API.md, "Upload")."""
    start = trace.mark()
    deleter: Callable[[str], Awaitable[Any]] | None = getattr(client, "delete_upload", None)
    try:
        if callable(deleter):
            await deleter(upload_id)
        if not [e for e in trace.exchanges[start:] if e["request"]["method"] == "DELETE"]:
            await client._http.request("DELETE", f"/v1/files/{quote(upload_id, safe='')}")
    except NotFoundError:
        pass  # 404: gone
    except APIError as exc:
        if exc.status_code in (405, 501):
            return ("upload delete", UNSUPPORTED, f"HTTP {exc.status_code}")
        return ("upload delete", FAILED, str(exc))
    sent = [e for e in trace.exchanges[start:] if e["request"]["method"] == "DELETE"]
    status = answer_of(sent[-1]).get("status") if sent else None
    if status in (200, 202, 204, 404):
        return ("upload delete", MATCH, f"gone (HTTP {status})")
    return ("upload delete", FAILED, f"HTTP {status}")


async def step(rows: list[Row], name: str, work: Awaitable[Any]) -> Any:
    """``work``'s result; a failure becomes a row named ``name`` saying the error."""
    try:
        return await work
    except asyncio.CancelledError:
        raise
    except EachLabsError as exc:
        rows.append((name, FAILED, str(exc)))
    except Exception as exc:  # the table must still come: say what broke
        rows.append((name, FAILED, f"{type(exc).__name__}: {exc}"))
    return None


async def check(client: AsyncEachLabs, trace: Trace, model: str) -> list[Row]:
    """Every step in order; the rows of their verdicts."""
    auth = client.settings().api_key is not None
    rows: list[Row] = []
    listed = await step(rows, "catalogue paging", catalogue(client, auth))
    if listed is not None:
        rows.append(listed)
    found = await step(rows, "model schema", model_schema(client, model, auth))
    schema: dict[str, Any] = {}
    if found is not None:
        rows.append(found[0])
        schema = found[1]
    inputs = smallest_inputs(schema) if schema else {"prompt": PROMPT}
    rows.append(("inputs", INFO, ", ".join(f"{k}={v!r}" for k, v in inputs.items())))
    start = trace.mark()
    failed: list[Row] = []  # said after the rows of what was answered
    generation = await step(
        failed, "create and follow", client.run(model, inputs, timeout=RUN_TIMEOUT, save_to=None)
    )
    rows.append(create_answer(trace.exchanges[start:]))
    rows += outcome(trace.exchanges[start:], generation)
    rows += failed
    rows += await step(rows, "cancel", cancel(client, trace, model, inputs)) or []
    rows += await step(rows, "upload", upload(client, trace)) or []
    rows.append(status_words(trace.exchanges))
    rows.append(request_ids(trace.exchanges))
    return rows
