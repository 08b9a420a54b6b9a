"""The control plane, for tests that drive an emulator in another process.

- ``POST /_emulator/inject`` — body: :meth:`Emulator.inject` keyword arguments
  (``{"kind": "rate_limit", "endpoint": "create", "times": 2, "retry_after": 1}``).
- ``GET|POST /_emulator/settings`` — read / change persistent switches and ``speed``.
- ``GET /_emulator/stats`` — :attr:`Emulator.stats` as JSON.
- ``GET /_emulator/predictions`` — one record per prediction, in creation order:
  ``{"now", "predictions": [{"id", "model", "account", "created_at", "duration", "ended_at",
  "seen_end_at", "polls", "cancel_requested_at"}]}`` — clock readings in seconds; ``ended_at``:
  when it ended (or will); ``cancel_requested_at``: when a cancel was accepted (None: never);
  ``seen_end_at``: when a poll first answered with the end; ``account``: a digest of the key
  (``?account=`` keeps one account's).
- ``DELETE /_emulator/faults`` — drop pending faults.
- ``POST /_emulator/reset`` — :meth:`Emulator.reset`.

No API key is needed and no fault ever applies here.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .messages import Request, Response

if TYPE_CHECKING:
    from .core import Emulator

PREFIX = "/_emulator/"


def _body(request: Request) -> Any:
    return json.loads(request.body) if request.body.strip() else None


def handle_control(emulator: Emulator, request: Request) -> Response:
    action = request.path[len(PREFIX) :].strip("/")
    method = request.method
    try:
        if action == "stats" and method == "GET":
            return Response.json(200, emulator.stats.to_dict())
        if action == "predictions" and method == "GET":
            account = request.param("account")
            records = [r for r in emulator.records() if account in (None, r["account"])]
            return Response.json(200, {"now": emulator.now(), "predictions": records})
        if action == "settings" and method == "GET":
            return Response.json(200, emulator.settings())
        if action == "settings" and method == "POST":
            body = _body(request)
            if not isinstance(body, dict):
                return Response.error(400, "expected a JSON object of settings")
            return Response.json(200, emulator.configure(**body))
        if action == "inject" and method == "POST":
            body = _body(request)
            if not isinstance(body, dict) or not isinstance(body.get("kind"), str):
                return Response.error(400, "expected a JSON object with a 'kind'")
            kwargs = dict(body)
            emulator.inject(kwargs.pop("kind"), **kwargs)
            return Response.json(200, {"faults_pending": emulator.stats.faults_pending})
        if action == "faults" and method == "DELETE":
            emulator.clear_faults()
            return Response(204)
        if action == "reset" and method == "POST":
            emulator.reset()
            return Response.json(200, {"status": "ok"})
    except (ValueError, TypeError) as exc:
        return Response.error(400, str(exc))
    return Response.error(404, "Not found")
