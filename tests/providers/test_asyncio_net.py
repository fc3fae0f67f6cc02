"""The providers' asyncio transport: keep-alive reuse, a server-closed idle connection replaced, typed timeouts,
and the fallback to httpx's default transport when proxy variables are set. (Every provider test that uses
the `generate` fixture also runs on this transport.)"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from arena.providers.asyncio_net import AsyncioTransport, provider_client
from tests.providers.conftest import LocalServer

LIMITS = httpx.Limits(max_connections=8, max_keepalive_connections=8)


async def _peer_port(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers with the client's source port, so a test can tell connections apart."""
    if scope["type"] != "http":
        return
    body = str(scope["client"][1]).encode()
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def test_connections_are_reused_and_a_closed_one_is_replaced(serve: Callable[..., LocalServer]) -> None:
    server = serve(_peer_port)

    async def run() -> tuple[str, str, str]:
        async with httpx.AsyncClient(transport=AsyncioTransport(LIMITS), trust_env=False) as client:
            first = (await client.get(f"{server.url}/a")).text
            second = (await client.get(f"{server.url}/b")).text
            # Close the pooled connection from the server's side, as a restarting server would.
            pool = client._transport._pool  # type: ignore[attr-defined]
            for connection in pool.connections:
                stream = connection._connection._network_stream
                stream.get_extra_info("socket").shutdown(socket.SHUT_RDWR)
            await asyncio.sleep(0.05)
            third = (await client.get(f"{server.url}/c")).text
            return first, second, third

    first, second, third = asyncio.run(run())
    assert first == second  # one keep-alive connection for both
    assert third != first  # the dead one was not reused


def test_connect_and_read_timeouts_are_httpx_timeouts(serve: Callable[..., LocalServer]) -> None:
    async def hang(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await asyncio.sleep(30)

    server = serve(hang)

    async def read() -> None:
        async with httpx.AsyncClient(transport=AsyncioTransport(LIMITS), trust_env=False) as client:
            await client.get(f"{server.url}/slow", timeout=httpx.Timeout(5.0, read=0.2))

    with pytest.raises(httpx.ReadTimeout):
        asyncio.run(read())

    async def refused(port: int) -> None:
        async with httpx.AsyncClient(transport=AsyncioTransport(LIMITS), trust_env=False) as client:
            await client.get(f"http://127.0.0.1:{port}/")

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(httpx.ConnectError):
        asyncio.run(refused(port))


def test_proxy_variables_keep_httpx_default_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    timeout = httpx.Timeout(5.0)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    plain = provider_client(LIMITS, timeout)
    assert isinstance(plain._transport, AsyncioTransport)  # type: ignore[attr-defined]
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    proxied = provider_client(LIMITS, timeout)
    assert not isinstance(proxied._transport, AsyncioTransport)  # type: ignore[attr-defined]
    asyncio.run(plain.aclose())
    asyncio.run(proxied.aclose())
