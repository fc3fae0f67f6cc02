"""The vote route as a lean ASGI handler in front of the FastAPI app (the busiest write path, CPU-bound).

FastAPI's route stack for one request (exception and body-limit middlewares, router matching across every
included router, dependency solving, request objects) costs more CPU than storing the vote on SQLite. This
handler answers `POST /api/battles/{id}/vote` with a JSON body directly: the same `VoteIn` validation, the same
rate limits and service call (`arena.api.cast_vote`) and the same error bodies (`arena_error_response`). The
blocking service call runs on a thread pool of its own (`loop.run_in_executor`: about a third of the CPU of
anyio's thread hop on this machine). Anything else - another path, another content type, a body that does not
validate - is handed on untouched (its body replayed), so FastAPI answers it exactly as before.
"""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from pydantic import ValidationError as PydanticValidationError
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from arena.api import VoteIn, arena_error_response, cast_vote
from arena.errors import ArenaError
from arena.services.container import Services

_VOTE_PATH = re.compile(r"/api/battles/([^/]+)/vote")
VOTE_THREADS = 32  # as many as the database pool keeps open (arena.db.engine: pool_size=32)
MAX_BODY_BYTES = 64 * 1024  # a vote is about 100 bytes; anything larger goes to FastAPI's own handling


class VoteFastPath:
    """ASGI middleware: answers valid JSON votes itself, passes every other request to `app`."""

    def __init__(self, app: ASGIApp, services: Services, threads: int = VOTE_THREADS) -> None:
        self.app = app
        self.services = services
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="arena-vote")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _VOTE_PATH.fullmatch(scope["path"]) if scope["type"] == "http" else None
        if match is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if headers.get("content-type", "").split(";", 1)[0].strip().lower() != "application/json":
            await self.app(scope, receive, send)
            return
        read = await _read_body(receive, MAX_BODY_BYTES)
        if read is None:
            return  # the client went away before sending its vote: nobody to answer
        body, complete = read
        vote = _parse(body) if complete else None
        if vote is None:
            await self.app(scope, _replay(body, complete, receive), send)
            return
        peer = scope["client"][0] if scope.get("client") else None
        try:
            call = partial(cast_vote, self.services, match.group(1), vote, peer, headers)
            answer = await asyncio.get_running_loop().run_in_executor(self._pool, call)
            response = JSONResponse(answer)
        except ArenaError as exc:
            response = arena_error_response(exc)
        await response(scope, receive, send)


def _parse(body: bytes) -> VoteIn | None:
    try:
        return VoteIn.model_validate_json(body)
    except PydanticValidationError:
        return None


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, bool] | None:
    """The request body up to about `limit` bytes: (bytes read, whether that was all of it); None when the
    client disconnected first."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True
        if size > limit:
            return b"".join(chunks), False


def _replay(body: bytes, complete: bool, receive: Receive) -> Receive:
    """A receive that yields what was already read, then continues with the original stream."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            message: dict[str, Any] = {"type": "http.request", "body": body, "more_body": not complete}
            return message
        return await receive()

    return replay
