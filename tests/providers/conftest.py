"""Fixtures for HTTP provider tests: real uvicorn servers on 127.0.0.1 and a helper that runs a provider.

`serve(app)` starts an ASGI app on a free loopback port in a background thread and records every request
it receives (method, path, headers, body), so tests can count requests server-side. Servers live for
the test module and are force-stopped at its end (handlers that hang on purpose do not delay teardown).
`generate(...)` builds a provider from its registry name and options with a fresh httpx.AsyncClient and
collects its chunks with asyncio.run; every test that uses it runs twice, on httpx's default transport and
on the app's own (arena.providers.asyncio_net), so each failure mode is checked on both.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn

from arena.domain import Capabilities, Chunk, GenerationRequest, Message, Modality, ModelSpec
from arena.providers.asyncio_net import AsyncioTransport
from arena.providers.base import Provider, ProviderContext
from arena.providers.registry import build_provider

ASGIApp = Callable[..., Awaitable[None]]


@dataclass
class RecordedRequest:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytearray = field(default_factory=bytearray)

    def json(self) -> Any:
        return json.loads(bytes(self.body))


class _Recording:
    """ASGI wrapper that appends every HTTP request to `log` before the app handles it."""

    def __init__(self, app: ASGIApp, log: list[RecordedRequest]) -> None:
        self.app = app
        self.log = log

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        record = RecordedRequest(method=scope["method"], path=scope["path"], headers=headers)
        self.log.append(record)

        async def recording_receive() -> dict[str, Any]:
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                record.body.extend(message.get("body", b""))
            return message

        await self.app(scope, recording_receive, send)


def unused_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LocalServer:
    """A uvicorn server running `app` on 127.0.0.1 in a daemon thread."""

    def __init__(self, app: ASGIApp, port: int = 0) -> None:
        self.requests: list[RecordedRequest] = []
        self.port = port
        self._app = _Recording(app, self.requests)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LocalServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(64)
        self.port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            self._app, log_level="warning", access_log=False, lifespan="off", loop="asyncio", http="h11"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the local test server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.force_exit = True
        self._server.should_exit = True
        self._thread.join(timeout=5)

    def hits(self, path: str) -> int:
        """How many requests reached `path`."""
        return sum(1 for record in self.requests if record.path == path)

    def last(self, path: str) -> RecordedRequest:
        return [record for record in self.requests if record.path == path][-1]


@pytest.fixture
def free_port() -> int:
    """A loopback port nothing listens on (for connection-refused and late-start tests)."""
    return unused_port()


@pytest.fixture(scope="module")
def serve() -> Iterator[Callable[..., LocalServer]]:
    """Start servers for the current test module: `serve(app)` or `serve(app, port=p)`."""
    servers: list[LocalServer] = []

    def start(app: ASGIApp, port: int = 0) -> LocalServer:
        server = LocalServer(app, port)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


DEFAULT_REQUEST = GenerationRequest(messages=(Message(role="user", content="Say hello."),))


ProviderFactory = Callable[[ModelSpec, ProviderContext], Provider]


@dataclass
class Runner:
    """Runs one provider generation against a fresh client (what `generate` fixture returns)."""

    transport: str = "httpx"

    def __call__(
        self,
        provider: str,
        options: Mapping[str, Any],
        request: GenerationRequest | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        event_hooks: Mapping[str, list[Any]] | None = None,
        capabilities: Capabilities | None = None,
        factory: ProviderFactory = build_provider,
    ) -> list[Chunk]:
        spec = ModelSpec(
            name="test-model",
            modality=Modality.TEXT,
            provider=provider,
            options=dict(options),
            capabilities=capabilities or Capabilities(),
        )
        return asyncio.run(self._collect(spec, request or DEFAULT_REQUEST, environ, event_hooks, factory))

    async def _collect(
        self,
        spec: ModelSpec,
        request: GenerationRequest,
        environ: Mapping[str, str] | None,
        event_hooks: Mapping[str, list[Any]] | None,
        factory: ProviderFactory,
    ) -> list[Chunk]:
        transport = AsyncioTransport(httpx.Limits(max_connections=16)) if self.transport == "asyncio" else None
        async with httpx.AsyncClient(trust_env=False, event_hooks=dict(event_hooks or {}),
                                     transport=transport) as client:
            provider = factory(spec, ProviderContext(http=client, environ=dict(environ or {})))
            try:
                return [chunk async for chunk in provider.generate(request)]
            finally:
                await provider.aclose()


@pytest.fixture(params=["httpx", "asyncio"])
def generate(request: pytest.FixtureRequest) -> Runner:
    """`generate(provider_name, options, request=None, environ=..., event_hooks=...) -> list[Chunk]`."""
    return Runner(transport=request.param)
