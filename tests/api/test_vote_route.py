"""The vote fast path (arena.vote_route): answers valid JSON votes itself, hands everything else on unchanged."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from arena.server import create_app
from arena.vote_route import MAX_BODY_BYTES, VoteFastPath
from tests.services.helpers import VOTER_1, VOTER_2, ready_battle


class Downstream:
    """Stands in for the FastAPI app: records what reached it (with the whole body) and answers 299."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, bytes]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        self.seen.append((scope["method"], scope["path"], body))
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"downstream"})


@pytest.fixture
def fast(make_services: Any) -> tuple[TestClient, Downstream, Any]:
    services = make_services()
    downstream = Downstream()
    return TestClient(VoteFastPath(downstream, services)), downstream, services


def test_valid_votes_and_their_refusals_are_answered_without_the_app(fast: tuple[TestClient, Downstream, Any]) -> None:
    client, downstream, services = fast
    battle_id = ready_battle(services).battle_id
    url = f"/api/battles/{battle_id}/vote"
    first = client.post(url, json={"outcome": "model_a", "voter": VOTER_1, "client_token": "t"})
    assert first.status_code == 200 and first.json()["outcome"] == "model_a" and first.json()["model_a"]
    assert client.post(url, json={"outcome": "model_a", "voter": VOTER_1}).json() == first.json()
    conflict = client.post(url, json={"outcome": "tie", "voter": VOTER_1})
    assert conflict.status_code == 409
    assert conflict.json()["error"]["type"] == "ConflictError" and conflict.json()["error"]["first_vote"] == "model_a"
    assert client.post(url, json={"outcome": "tie", "voter": VOTER_2}).status_code == 403
    missing = client.post(f"/api/battles/{'f' * 32}/vote", json={"outcome": "tie", "voter": VOTER_1})
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "NotFoundError"
    unknown = client.post(url, json={"outcome": "left", "voter": VOTER_1})
    assert unknown.status_code == 422 and "unknown outcome" in unknown.json()["error"]["message"]
    assert downstream.seen == []


@pytest.mark.parametrize(("method", "path", "headers", "body"), [
    ("POST", "/api/battles/b1/vote", {"content-type": "application/json"}, b'{"outcome": "tie", "voter": "v", "x": 1}'),
    ("POST", "/api/battles/b1/vote", {"content-type": "application/json"}, b'{"outcome": "tie", '),
    ("POST", "/api/battles/b1/vote", {"content-type": "text/plain"}, b'{"outcome": "tie", "voter": "voter-one-0001"}'),
    ("POST", "/api/battles/b1/vote", {"content-type": "application/json"}, b" " * (MAX_BODY_BYTES + 10)),
    ("GET", "/api/battles/b1/vote", {}, b""),
    ("POST", "/api/battles/b1/vote/extra", {"content-type": "application/json"}, b"{}"),
    ("POST", "/api/battles", {"content-type": "application/json"}, b'{"prompt": "hi"}'),
])
def test_everything_else_reaches_the_app_with_its_body(fast: tuple[TestClient, Downstream, Any], method: str,
                                                       path: str, headers: dict[str, str], body: bytes) -> None:
    client, downstream, _services = fast
    response = client.request(method, path, headers=headers, content=body)
    assert response.status_code == 299
    assert downstream.seen == [(method, path, body)]


def test_through_the_whole_app_errors_keep_their_shape(make_services: Any) -> None:
    services = make_services(rate_limits={"votes": {"voter": {"per_minute": 1, "burst": 2}}})
    battle_id = ready_battle(services).battle_id
    with TestClient(create_app(services.settings, services)) as client:
        url = f"/api/battles/{battle_id}/vote"
        bad = client.post(url, json={"outcome": "tie", "voter": VOTER_1, "extra": 1})  # FastAPI's validation
        assert bad.status_code == 422 and bad.json()["error"]["message"].startswith("invalid request: ")
        ok = client.post(url, json={"outcome": "tie", "voter": VOTER_1})
        assert ok.status_code == 200, ok.text
        again = client.post(url, json={"outcome": "tie", "voter": VOTER_1})
        assert again.json() == ok.json()
        limited = client.post(url, json={"outcome": "tie", "voter": VOTER_1})
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        error = json.loads(limited.text)["error"]
        assert error["type"] == "RateLimitedError" and "too many votes" in error["message"]


def test_a_large_body_in_many_chunks_reaches_the_app_whole(make_services: Any) -> None:
    # A body arriving in 1 KiB messages: the fast path stops reading past its limit and hands the app what it
    # read plus the rest of the stream, so nothing is lost or reordered.
    downstream = Downstream()
    middleware = VoteFastPath(downstream, make_services())
    body = b'{"outcome": "tie", "voter": "voter-one-0001", "pad": "' + b"x" * (MAX_BODY_BYTES + 5000) + b'"}'
    chunks = [body[i:i + 1024] for i in range(0, len(body), 1024)]
    messages = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/battles/b1/vote", "client": ("127.0.0.1", 5),
             "headers": [(b"content-type", b"application/json")]}
    asyncio.run(middleware(scope, receive, send))
    assert downstream.seen == [("POST", "/api/battles/b1/vote", body)] and not messages
    assert sent[0]["status"] == 299
