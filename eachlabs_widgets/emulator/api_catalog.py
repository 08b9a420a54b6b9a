"""``GET /v1/models`` and ``GET /v1/model``: no API key needed."""

from __future__ import annotations

from .catalog import models, models_by_slug
from .messages import Request, Response
from .state import State


class _BadParam(Exception):
    pass


def _int_param(request: Request, name: str, default: int, low: int, high: int | None) -> int:
    raw = request.param(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise _BadParam from None
    if value < low or (high is not None and value > high):
        raise _BadParam
    return value


def list_models(state: State, request: Request, args: list[str]) -> Response:
    """A bare array page of model details (``request_schema``, no category); ``name`` filters
    slug and title (case-insensitive substring); no total: a page shorter than ``limit`` is
    the last (API.md, "Endpoints")."""
    try:
        limit = _int_param(request, "limit", 50, 1, 500)
    except _BadParam:
        return Response.error(400, "invalid limit parameter")
    try:
        offset = _int_param(request, "offset", 0, 0, None)
    except _BadParam:
        return Response.error(400, "invalid offset parameter")
    name = (request.param("name") or "").strip().lower()
    found = [m for m in models() if not name or name in m.slug.lower() or name in m.title.lower()]
    page = found[offset : offset + limit]
    strings = state.settings.string_defaults
    return Response.json(200, [m.detail(string_defaults=strings) for m in page])


def get_model(state: State, request: Request, args: list[str]) -> Response:
    slug = (request.param("slug") or "").strip()
    if not slug:
        return Response.error(400, "slug parameter is required")
    model = models_by_slug().get(slug)
    if model is None:
        return Response.error(404, "Failed to fetch model: model not found")
    return Response.json(200, model.detail(string_defaults=state.settings.string_defaults))
