"""The providers' HTTP transport: httpx over httpcore with a plain-asyncio network backend instead of anyio.

Every streamed token is one socket read, and httpcore's default (anyio) backend wraps each read in an anyio
cancel scope (`fail_after`) that looks up the running async library and task: in a py-spy profile of 200
concurrent streaming battles that wrapper alone was about 15% of the app's CPU. This backend reads and
writes through asyncio streams with `asyncio.timeout` and raises the same httpcore exceptions
(ConnectError/ConnectTimeout, ReadError/ReadTimeout, WriteError/WriteTimeout), which httpx turns into its
own as usual, so providers, their error translation and their tests see no difference.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import urllib.request
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx
from httpcore._utils import is_socket_readable

SocketOption = tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One connection as an asyncio (reader, writer) pair."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Up to `max_bytes` (b"" once the peer closed), or ReadTimeout / ReadError."""
        try:
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)
        except TimeoutError as exc:
            raise httpcore.ReadTimeout(f"no data within {timeout} s") from exc
        except OSError as exc:
            raise httpcore.ReadError(str(exc) or type(exc).__name__) from exc

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Send all of `buffer`, or WriteTimeout / WriteError."""
        if not buffer:
            return
        try:
            async with asyncio.timeout(timeout):
                self._writer.write(buffer)
                await self._writer.drain()
        except TimeoutError as exc:
            raise httpcore.WriteTimeout(f"could not send within {timeout} s") from exc
        except OSError as exc:
            raise httpcore.WriteError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        """Close the connection (errors on the way out do not matter any more)."""
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        """Upgrade this connection to TLS in place (https:// base URLs)."""
        try:
            async with asyncio.timeout(timeout):
                await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        except TimeoutError as exc:
            await self.aclose()
            raise httpcore.ConnectTimeout(f"no TLS handshake within {timeout} s") from exc
        except (OSError, ssl.SSLError) as exc:
            await self.aclose()
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        return self

    def get_extra_info(self, info: str) -> Any:
        """What httpcore asks of a connection: the TLS object (ALPN), addresses, the socket, readability."""
        if info == "ssl_object":
            return self._writer.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._writer.get_extra_info("sockname")
        if info == "server_addr":
            return self._writer.get_extra_info("peername")
        if info == "socket":
            return self._writer.get_extra_info("socket")
        if info == "is_readable":  # an idle keep-alive connection that is readable was closed by the server
            return is_socket_readable(self._writer.get_extra_info("socket"))
        return None


HAPPY_EYEBALLS_DELAY_S = 0.25  # anyio's default (RFC 8305 recommends 250 ms)


def _connect_options() -> dict[str, Any]:
    """Happy eyeballs as anyio does it (a stalled IPv6 address does not hold up IPv4 past 250 ms), where the
    running loop offers it: asyncio's own loops do, uvloop's `create_connection` has no such argument."""
    if isinstance(asyncio.get_running_loop(), asyncio.BaseEventLoop):
        return {"happy_eyeballs_delay": HAPPY_EYEBALLS_DELAY_S}
    return {}


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Opens connections with asyncio.open_connection (TCP_NODELAY on, as anyio sets it)."""

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[SocketOption] | None = None) -> httpcore.AsyncNetworkStream:
        local = (local_address, 0) if local_address else None
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(host, port, local_addr=local, **_connect_options())
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"no connection to {host}:{port} within {timeout} s") from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                for option in socket_options or ():
                    sock.setsockopt(*option)
            except OSError as exc:
                writer.close()
                raise httpcore.ConnectError(f"socket option refused: {exc}") from exc
        return AsyncioStream(reader, writer)

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[SocketOption] | None = None
                                  ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_unix_connection(path)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"no connection to {path} within {timeout} s") from exc
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        return AsyncioStream(reader, writer)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class AsyncioTransport(httpx.AsyncHTTPTransport):
    """httpx's own HTTP/1.1 transport (request/response mapping, exception translation) over AsyncioBackend."""

    def __init__(self, limits: httpx.Limits) -> None:
        super().__init__(limits=limits)
        # httpx builds its pool without a backend argument; rebuild it with ours (the same options otherwise).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=AsyncioBackend(),
        )


def provider_client(limits: httpx.Limits, timeout: httpx.Timeout) -> httpx.AsyncClient:
    """The shared client providers receive: on AsyncioTransport, unless proxy variables are set in the
    environment (then httpx's default transport, which routes through them as before)."""
    if urllib.request.getproxies():
        return httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False)
    return httpx.AsyncClient(timeout=timeout, transport=AsyncioTransport(limits), follow_redirects=False)
