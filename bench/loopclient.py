"""A minimal HTTP/1.1 keep-alive JSON client for loopback load generation.

httpx costs about 3.5 ms of CPU per request on this machine, more than the vote it sends costs the app, so
a load generator built on it saturates its own core first and measures itself. This client does only
what the benchmarks need (POST JSON, read a Content-Length body, reuse connections) at a small fraction
of that cost. It only ever talks to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

_CONTENT_LENGTH = b"\r\ncontent-length:"
IDLE_EXPIRY_S = 2.0


class LoopbackHttp:
    """Up to `max_connections` keep-alive connections to 127.0.0.1:`port`; one request at a time each."""

    def __init__(self, port: int, max_connections: int, timeout_s: float = 60.0) -> None:
        self._port = port
        self._timeout_s = timeout_s
        self._slots = asyncio.Semaphore(max_connections)
        # (reader, writer, last used); uvicorn closes a connection idle for 5 s, so ours expire after 2 s.
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []

    async def post_json(self, path: str, payload: Any) -> tuple[int, Any]:
        """(status, decoded JSON body or None); connection errors and timeouts raise (OSError, TimeoutError)."""
        body = json.dumps(payload).encode()
        request = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self._port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        async with self._slots:
            reader, writer = await self._connection()
            try:
                async with asyncio.timeout(self._timeout_s):
                    writer.write(request)
                    head = await reader.readuntil(b"\r\n\r\n")
                    status = int(head[9:12])
                    data = await reader.readexactly(_content_length(head))
            except BaseException:
                writer.close()
                raise
            if b"\r\nconnection: close" in head.lower():
                writer.close()
            else:
                self._idle.append((reader, writer, time.monotonic()))
        return status, (json.loads(data) if data else None)

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while self._idle:
            reader, writer, used = self._idle.pop()
            if time.monotonic() - used < IDLE_EXPIRY_S:
                return reader, writer
            writer.close()
        return await asyncio.open_connection("127.0.0.1", self._port)

    async def aclose(self) -> None:
        """Close every idle connection."""
        while self._idle:
            _reader, writer, _used = self._idle.pop()
            writer.close()


def _content_length(head: bytes) -> int:
    lowered = head.lower()
    at = lowered.find(_CONTENT_LENGTH)
    if at < 0:
        raise OSError("response without Content-Length (chunked bodies are not supported by this client)")
    end = lowered.find(b"\r\n", at + len(_CONTENT_LENGTH))
    return int(lowered[at + len(_CONTENT_LENGTH):end].strip())


class RoundRobin:
    """Spreads requests over several app processes (one LoopbackHttp each), as a load balancer in front of
    replicas would: request k goes to process k mod n, so the two copies of a double click reach different
    processes."""

    def __init__(self, clients: list[LoopbackHttp]) -> None:
        self._clients = clients
        self._next = 0

    async def post_json(self, path: str, payload: Any) -> tuple[int, Any]:
        """As LoopbackHttp.post_json, on the next process in turn."""
        client = self._clients[self._next]
        self._next = (self._next + 1) % len(self._clients)
        return await client.post_json(path, payload)

    async def aclose(self) -> None:
        """Close every client's idle connections."""
        for client in self._clients:
            await client.aclose()
