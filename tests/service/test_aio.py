"""The aiohttp pool under httpx (direct connections), against real sockets on loopback: what
it sends, what its failures become (the retry policy's "was it sent?"), and its connections."""

import asyncio
import gc
import gzip
import logging
import socket
import ssl

import httpx
import pytest

from eachlabs_widgets._service.aio import EAGER_BYTES, AiohttpPool
from eachlabs_widgets._service.network import LIMITS

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class Loopback:
    """A raw HTTP/1.1 server: records each request's head and body and each connection, and
    answers as ``behaviour`` says (``ok``, ``close`` after reading the request)."""

    def __init__(self, behaviour: str = "ok") -> None:
        self.behaviour = behaviour
        self.requests: list[tuple[bytes, bytes]] = []
        self.connections = 0

    async def __aenter__(self) -> "Loopback":
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length) if length else b""
                self.requests.append((head, body))
                if self.behaviour == "cookie" and len(self.requests) == 1:
                    writer.write(OK.replace(b"\r\n\r\n", b"\r\nSet-Cookie: lb=7; Path=/\r\n\r\n"))
                    await writer.drain()
                    continue
                if self.behaviour == "close":
                    writer.close()
                    return
                if self.behaviour.startswith("short "):  # promise a body, send part, hang up
                    promised = int(self.behaviour.split()[1])
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % promised)
                    writer.write(b"x" * (promised // 2))
                    await writer.drain()
                    writer.close()
                    return
                if self.behaviour == "gzip":
                    packed = gzip.compress(b'{"status": "success"}')
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
                        b"Content-Length: %d\r\n\r\n%s" % (len(packed), packed)
                    )
                    await writer.drain()
                    continue
                writer.write(OK)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


def _client() -> httpx.AsyncClient:
    pool = AiohttpPool(ssl.create_default_context(), LIMITS)
    return httpx.AsyncClient(transport=pool, timeout=httpx.Timeout(5.0))


async def test_requests_go_out_as_httpx_built_them_over_one_kept_connection():
    async with Loopback() as server, _client() as client:
        for _ in range(5):
            response = await client.get(f"{server.url}/v1/prediction/a%2Fb?x=1%202")
            assert response.status_code == 200 and response.json() == {}
        response = await client.post(f"{server.url}/v1/prediction", json={"model": "m"})
        assert response.status_code == 200
    head, _ = server.requests[0]
    assert head.startswith(b"GET /v1/prediction/a%2Fb?x=1%202 HTTP/1.1\r\nHost: 127.0.0.1:")
    assert b"\r\nUser-Agent: " in head  # as httpx spelled it; the path not quoted again
    head, body = server.requests[-1]
    assert head.startswith(b"POST /v1/prediction HTTP/1.1\r\n")
    assert body == b'{"model":"m"}'
    assert server.connections == 1  # kept alive and reused


async def test_a_streamed_body_arrives_whole():
    async def chunks():
        for part in (b"a" * 70_000, b"b" * 5):
            yield part

    async with Loopback() as server, _client() as client:
        response = await client.put(
            f"{server.url}/upload", content=chunks(), headers={"Content-Length": "70005"}
        )
        assert response.status_code == 200
    head, body = server.requests[0]
    assert body == b"a" * 70_000 + b"b" * 5
    assert b"transfer-encoding" not in head.lower()  # the length was given: no chunks


async def test_a_cookie_the_server_sets_is_sent_back():
    # the shared client skips the cookie store for answers that set none; one that sets one
    # is kept as httpx keeps it
    from eachlabs_widgets._service.http import new_client

    async with Loopback("cookie") as server:
        client = new_client()
        try:
            for _ in range(3):
                assert (await client.get(f"{server.url}/v1/models")).status_code == 200
        finally:
            await client.aclose()
    assert b"cookie:" not in server.requests[0][0].lower()
    assert all(b"\r\nCookie: lb=7\r\n" in head for head, _ in server.requests[1:])


async def test_a_refused_connection_is_a_connect_error_nothing_was_sent():
    with socket.socket() as s:  # a port that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with _client() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{port}/v1/models")


async def test_a_connection_dropped_after_the_request_is_not_a_connect_error():
    # The retry policy retries a create only when nothing can have been sent (a connect
    # error): a drop after the request left must never look like one.
    async with Loopback("close") as server, _client() as client:
        with pytest.raises(httpx.TransportError) as info:
            await client.post(f"{server.url}/v1/prediction", json={"model": "m"})
    assert not isinstance(info.value, (httpx.ConnectError, httpx.ConnectTimeout))
    assert isinstance(info.value, httpx.RemoteProtocolError)
    assert len(server.requests) == 1


@pytest.mark.parametrize("promised", [1_000, EAGER_BYTES * 4])
async def test_an_answer_that_breaks_off_is_a_protocol_error_read_whole_or_streamed(promised):
    # Small answers (every JSON answer of the API) are read whole before httpx sees them,
    # longer ones stream: a body cut short is the same error either way, never a hang.
    async with Loopback(f"short {promised}") as server, _client() as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(f"{server.url}/v1/prediction/p")
        with pytest.raises(httpx.RemoteProtocolError):  # a small one: as the answer comes
            async with client.stream("GET", f"{server.url}/v1/prediction/p") as response:
                await response.aread()


async def test_a_small_compressed_answer_is_decoded_and_its_connection_kept():
    async with Loopback("gzip") as server, _client() as client:
        for _ in range(3):
            response = await client.get(f"{server.url}/v1/prediction/p")
            assert response.json() == {"status": "success"}
    assert server.connections == 1


def test_a_pool_left_on_a_loop_closed_by_hand_logs_nothing(caplog):
    loop = asyncio.new_event_loop()

    async def use() -> None:
        async with Loopback() as server:
            client = _client()
            await client.get(server.url)  # opens the session, keeps a connection alive

    loop.run_until_complete(use())
    loop.close()
    with caplog.at_level(logging.ERROR, logger="asyncio"):
        gc.collect()
    assert not [r for r in caplog.records if "Unclosed" in r.getMessage()]


def test_a_script_against_a_server_exits_without_a_word_on_stderr(tmp_path):
    # The sync API's loop never closes its client: at exit the pool is dropped quietly.
    import os
    import subprocess
    import sys

    from eachlabs_widgets.emulator import Emulator, serve

    with serve(Emulator(speed=0.01)) as server:
        env = {
            **os.environ,
            "EACHLABS_BASE_URL": server.url,
            "EACHLABS_API_KEY": "smk_test",
            "EACHLABS_HOME": str(tmp_path / "home"),
            "EACHLABS_OUTPUT_DIR": str(tmp_path / "out"),
        }
        code = (
            "import eachlabs_widgets as el; "
            "print(el.generate('flux-2-turbo-text-to-image', 'a fox', card=False).status)"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
        )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "success"
    assert out.stderr == ""
