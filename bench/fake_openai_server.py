"""A local OpenAI-compatible chat server that streams at a fixed pace and records its own timings.

Used by the battle benchmark (as a subprocess: `python -m bench.fake_openai_server --port-file F`) and by
tests that need a real model server (in a thread: `with serve_in_thread(FakeOpenAI(Pace(...))) as url`).
It is a server, not a provider: its fixed pace stands in for a model's decoding speed.

Endpoints: POST /v1/chat/completions (SSE when `stream` is true, one JSON body otherwise), GET /v1/models,
GET /stats (per-request timings: wall-clock receive and first-content times, server-side TTFT), POST /reset.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import uvicorn

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
WORDS = ("Arena", "answers", "stream", "at", "a", "steady", "pace", "so", "that", "latency", "added", "by",
         "the", "app", "itself", "can", "be", "measured", "apart", "from", "the", "model.")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pace:
    """How the fake model answers: first content after `ttft_ms`, then one token every `interval_ms`."""

    ttft_ms: float = 50.0
    tokens: int = 20
    interval_ms: float = 20.0


@dataclass
class Timing:
    """One request as the server saw it; wall-clock seconds (comparable across processes on one machine)."""

    model: str
    prompt: str
    received: float
    first_content: float | None = None
    finished: float | None = None
    server_ttft_ms: float | None = None


def _last_user_message(body: dict[str, Any]) -> str:
    messages = body.get("messages")
    if not isinstance(messages, list):
        return ""
    users = [m.get("content", "") for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    return str(users[-1]) if users else ""


def _event(payload: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


class FakeOpenAI:
    """The ASGI app; `timings` holds one entry per chat request (appended on the server's event loop)."""

    def __init__(self, pace: Pace) -> None:
        self.pace = pace
        self.timings: list[Timing] = []

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if method == "POST" and path.endswith("/chat/completions"):
            await self._chat(receive, send)
        elif method == "GET" and path.endswith("/models"):
            await _json(send, 200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})
        elif method == "GET" and path == "/stats":
            await _json(send, 200, {"pace": asdict(self.pace), "requests": [asdict(t) for t in self.timings]})
        elif method == "POST" and path == "/reset":
            self.timings.clear()
            await _json(send, 200, {"ok": True})
        else:
            await _json(send, 404, {"error": {"message": f"no route {method} {path}"}})

    async def _chat(self, receive: Receive, send: Send) -> None:
        start = time.perf_counter()
        received = time.time()
        raw = bytearray()
        more = True
        while more:
            message = await receive()
            raw.extend(message.get("body", b""))
            more = bool(message.get("more_body"))
        try:
            body = json.loads(bytes(raw))
        except json.JSONDecodeError:
            await _json(send, 400, {"error": {"message": "request body is not JSON"}})
            return
        timing = Timing(model=str(body.get("model", "")), prompt=_last_user_message(body), received=received)
        self.timings.append(timing)
        words = [WORDS[i % len(WORDS)] for i in range(self.pace.tokens)]
        await asyncio.sleep(self.pace.ttft_ms / 1000.0)
        if not body.get("stream"):
            timing.first_content = time.time()
            timing.server_ttft_ms = (time.perf_counter() - start) * 1000.0
            await _json(send, 200, _completion(timing.model, " ".join(words)))
            timing.finished = time.time()
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]})
        for i, word in enumerate(words):
            if i:
                await asyncio.sleep(self.pace.interval_ms / 1000.0)
            delta = {"role": "assistant", "content": word} if i == 0 else {"content": " " + word}
            await send({"type": "http.response.body", "more_body": True,
                        "body": _event(_chunk(timing.model, delta, None))})
            if i == 0:
                timing.first_content = time.time()
                timing.server_ttft_ms = (time.perf_counter() - start) * 1000.0
        tail = _event(_chunk(timing.model, {}, "stop")) + _event(_usage(timing.model, len(words)))
        await send({"type": "http.response.body", "body": tail + b"data: [DONE]\n\n", "more_body": False})
        timing.finished = time.time()


def _chunk(model: str, delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def _usage(model: str, tokens: int) -> dict[str, Any]:
    return {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": model, "choices": [],
            "usage": {"prompt_tokens": 8, "completion_tokens": tokens, "total_tokens": 8 + tokens}}


def _completion(model: str, content: str) -> dict[str, Any]:
    return {"id": "chatcmpl-fake", "object": "chat.completion", "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 8, "completion_tokens": len(content.split()), "total_tokens": 8}}


async def _json(send: Send, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def _bound_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1024)
    return sock


def _server(app: FakeOpenAI) -> uvicorn.Server:
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", loop="asyncio",
                            http="h11", backlog=1024, timeout_keep_alive=30)
    return uvicorn.Server(config)


@contextmanager
def serve_in_thread(app: FakeOpenAI, port: int = 0) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 in a daemon thread; yields the base URL (`http://127.0.0.1:PORT/v1`)."""
    sock = _bound_socket(port)
    server = _server(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the fake OpenAI server did not start")
        time.sleep(0.005)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    finally:
        server.should_exit = True
        server.force_exit = True
        thread.join(timeout=5)
        sock.close()


def main(argv: list[str] | None = None) -> int:
    """Serve until killed; the chosen port is written to --port-file once the socket is bound."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", type=Path, required=True)
    parser.add_argument("--ttft-ms", type=float, default=Pace.ttft_ms)
    parser.add_argument("--tokens", type=int, default=Pace.tokens)
    parser.add_argument("--interval-ms", type=float, default=Pace.interval_ms)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    sock = _bound_socket(args.port)
    args.port_file.write_text(str(sock.getsockname()[1]), encoding="utf-8")
    _server(FakeOpenAI(Pace(args.ttft_ms, args.tokens, args.interval_ms))).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
