"""An httpx transport, sync and async, that answers from an :class:`Emulator` in process."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import httpx

from .messages import Request, Response

if TYPE_CHECKING:
    from .core import Emulator

# Paths whose answers may take a while to make (images): handled off the event loop.
_SLOW_PREFIXES = ("/files/", "/uploads/")


def _to_request(request: httpx.Request, body: bytes) -> Request:
    headers = list(request.headers.multi_items())
    if "host" not in {name.lower() for name, _ in headers}:
        headers.append(("host", request.url.netloc.decode("ascii")))
    return Request.build(
        request.method,
        request.url.path,
        query=request.url.query.decode("ascii"),
        headers=headers,
        body=body,
        scheme=request.url.scheme,
    )


def _wait(answer: Response, request: httpx.Request) -> tuple[float, bool]:
    """How long to sleep for a slow answer, and whether the client's read timeout hits first."""
    timeout = request.extensions.get("timeout") or {}
    read = timeout.get("read") if isinstance(timeout, dict) else None
    if isinstance(read, int | float) and answer.delay > read:
        return float(read), True
    return answer.delay, False


def _timed_out(request: httpx.Request) -> httpx.ReadTimeout:
    return httpx.ReadTimeout("timed out (emulated slow answer)", request=request)


def _to_response(response: Response, request: httpx.Request) -> httpx.Response:
    if response.drop == "before":
        raise httpx.ConnectError(
            "Connection refused (emulated dropped connection)", request=request
        )
    if response.drop == "after":
        raise httpx.RemoteProtocolError(
            "Server disconnected without sending a response.", request=request
        )
    return httpx.Response(
        response.status, headers=response.headers, content=response.body, request=request
    )


class EmulatorTransport(httpx.AsyncBaseTransport, httpx.BaseTransport):
    """Use with ``httpx.AsyncClient(transport=..., base_url=EMULATOR_BASE_URL)`` (or Client).

    A dropped connection raises ``httpx.ConnectError`` (nothing happened) or
    ``httpx.RemoteProtocolError`` (the request took effect, the answer was lost); a slow
    answer sleeps with ``asyncio.sleep`` / ``time.sleep`` and raises ``httpx.ReadTimeout``
    if the request's read timeout is shorter (the request still took effect).
    """

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self.emulator.handle(_to_request(request, request.read()))
        if answer.delay > 0:
            seconds, timed_out = _wait(answer, request)
            time.sleep(seconds)
            if timed_out:
                raise _timed_out(request)
        return _to_response(answer, request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        converted = _to_request(request, await request.aread())
        if converted.path.startswith(_SLOW_PREFIXES):
            answer = await asyncio.to_thread(self.emulator.handle, converted)
        else:
            answer = self.emulator.handle(converted)
        if answer.delay > 0:
            seconds, timed_out = _wait(answer, request)
            await asyncio.sleep(seconds)
            if timed_out:
                raise _timed_out(request)
        return _to_response(answer, request)

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass
