"""Fixtures for integrity tests: a real uvicorn server on 127.0.0.1 in a thread, and a fake clock."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import uvicorn


class ThreadServer:
    """Runs an ASGI app with uvicorn on a free loopback port in a daemon thread."""

    def __init__(self, app: Any, **config: Any) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = int(self._sock.getsockname()[1])
        options: dict[str, Any] = {"log_level": "warning", "access_log": False, "lifespan": "off"}
        options.update(config)
        self._server = uvicorn.Server(uvicorn.Config(app, **options))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ThreadServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the local test server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self._server.force_exit = True
        self._server.should_exit = True
        self._thread.join(timeout=5)


@pytest.fixture(scope="module")
def serve() -> Iterator[Callable[..., ThreadServer]]:
    """`serve(app, **uvicorn_config)` starts a server that stops at the end of the module."""
    servers: list[ThreadServer] = []

    def start(app: Any, **config: Any) -> ThreadServer:
        server = ThreadServer(app, **config).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


class FakeClock:
    """A settable monotonic clock: tests advance time instead of sleeping."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
