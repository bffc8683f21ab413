"""The real aiohttp transport against real loopback sockets: every failure becomes our error."""
from __future__ import annotations

import asyncio

import pytest

from gateway.bento_client import AiohttpTransport, UpstreamTimeout, UpstreamUnreachable
from tests import aio
from devtools.procs import free_port

OK = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n"
      b'{"ok": 1}\r\n')


async def serve(behaviour) -> tuple[asyncio.AbstractServer, str]:
    """A raw TCP server on loopback whose connection handler is `behaviour(reader, writer)`."""
    server = await asyncio.start_server(behaviour, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"


async def answer_ok(reader, writer):
    try:
        while await reader.readuntil(b"\r\n\r\n"):
            writer.write(OK)
            await writer.drain()
    except asyncio.IncompleteReadError:  # the client closed its keep-alive connection
        writer.close()


async def hang(reader, writer):
    await asyncio.sleep(5)


async def hang_up(reader, writer):
    await reader.readuntil(b"\r\n\r\n")
    writer.close()


async def call(url: str, timeout: float = 0.3):
    async with AiohttpTransport(url, timeout) as transport:
        return await transport("POST", "/recommend", b"{}", {"x-request-id": "t-1"})


@pytest.mark.parametrize("behaviour,error", [(hang, UpstreamTimeout),
                                             (hang_up, UpstreamUnreachable)])
def test_failures_map_to_transport_errors(behaviour, error):
    async def scenario():
        server, url = await serve(behaviour)
        async with server:
            started = asyncio.get_running_loop().time()
            with pytest.raises(error):
                await call(url)
            assert asyncio.get_running_loop().time() - started < 2
    aio.run(scenario())


def test_refused_connection_is_unreachable():
    with pytest.raises(UpstreamUnreachable):
        aio.run(call(f"http://127.0.0.1:{free_port()}"))


def test_answers_and_reuses_the_connection():
    connections = []

    async def counting(reader, writer):
        connections.append(writer)
        await answer_ok(reader, writer)

    async def scenario():
        server, url = await serve(counting)
        async with server:
            async with AiohttpTransport(url, 1.0) as transport:
                for _ in range(3):
                    assert await transport("GET", "/readyz", None, {}) == (200, b'{"ok": 1}\r\n')
    aio.run(scenario())
    assert len(connections) == 1
