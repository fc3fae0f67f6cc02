"""The JSON API over the real app (ASGI): status codes and messages for every rule of issue 2."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from arena.server import create_app
from tests.services.helpers import DEAD_MODEL, VOTER_1, VOTER_2


@pytest.fixture
def client(make_services: Any) -> Iterator[TestClient]:
    """The embedded default catalogue plus a paused real provider that cannot connect (for failure cases)."""
    services = make_services(models=({**DEAD_MODEL, "status": "paused"},), include_builtin_models=True)
    with TestClient(create_app(services.settings, services)) as test_client:
        yield test_client


def _battle(client: TestClient, voter: str = VOTER_1, **extra: Any) -> dict[str, Any]:
    response = client.post("/api/battles", json={"arena": "text", "prompt": "What is a cat?", "voter": voter, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def test_health_and_models(client: TestClient) -> None:
    assert client.get("/api/health").json()["status"] == "ok"
    models = client.get("/api/models").json()["models"]
    assert {"ngram-storyteller", "wordnet-librarian", "tiny-transformer"} <= {m["name"] for m in models}
    assert all(m["local_demo"] for m in models if m["name"] != "dead-model")


def test_battle_hides_identity_then_vote_reveals(client: TestClient) -> None:
    body = _battle(client)
    names = {m["name"] for m in client.get("/api/models").json()["models"]}
    text = str(body)
    assert not [name for name in names if name in text], "model identity leaked before the vote"
    assert body["votable"] and body["responses"]["a"]["text"] and body["responses"]["b"]["text"]
    vote = client.post(f"/api/battles/{body['battle_id']}/vote", json={"outcome": "model_a", "voter": VOTER_1})
    assert vote.status_code == 200 and vote.json()["model_a"] in names
    again = client.post(f"/api/battles/{body['battle_id']}/vote", json={"outcome": "model_b", "voter": VOTER_1})
    assert again.status_code == 409 and again.json()["error"]["first_vote"] == "model_a"
    other = client.post(f"/api/battles/{body['battle_id']}/vote", json={"outcome": "model_b", "voter": VOTER_2})
    assert other.status_code == 403
    same = client.post(f"/api/battles/{body['battle_id']}/vote", json={"outcome": "model_a", "voter": VOTER_1})
    assert same.status_code == 200 and same.json() == vote.json()
    board = client.get("/api/leaderboard/text").json()
    assert board["total_votes"] == 1 and len(board["rows"]) == 2


def test_follow_up_turns(client: TestClient) -> None:
    body = _battle(client)
    turn = client.post(f"/api/battles/{body['battle_id']}/turns", json={"prompt": "Tell me more", "voter": VOTER_1})
    assert turn.status_code == 200 and turn.json()["turn"] == 1
    wrong = client.post(f"/api/battles/{body['battle_id']}/turns", json={"prompt": "x", "voter": VOTER_2})
    assert wrong.status_code == 403


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ({"prompt": "", "voter": VOTER_1}, 422, "empty"),
        ({"prompt": "x" * 10_001, "voter": VOTER_1}, 422, "limit is 10,000"),
        ({"prompt": "a\x00b", "voter": VOTER_1}, 422, "control characters"),
        ({"prompt": "hi", "voter": "short"}, 422, "voter"),
        ({"prompt": "hi", "voter": VOTER_1, "arena": "video"}, 422, "arena"),
        ({"prompt": "hi", "voter": VOTER_1, "models": ["nope", "ngram-storyteller"]}, 404, "unknown model 'nope'"),
        ({"prompt": "hi", "voter": VOTER_1, "models": ["ngram-storyteller", "ngram-storyteller"]}, 422,
         "two different"),
        ({"prompt": "hi", "voter": VOTER_1, "extra": 1}, 422, "extra"),
    ],
)
def test_bad_battle_input(client: TestClient, payload: dict[str, Any], status: int, message: str) -> None:
    before = client.get("/api/leaderboard/text").json()["total_votes"]
    response = client.post("/api/battles", json=payload)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]["message"]
    assert client.get("/api/leaderboard/text").json()["total_votes"] == before


def test_a_body_that_is_not_json_says_so(client: TestClient) -> None:
    before = client.get("/api/leaderboard/text").json()["total_votes"]
    as_json = {"content-type": "application/json"}
    response = client.post("/api/battles", content=b'{"prompt": "hi", voter}', headers=as_json)
    assert response.status_code == 422
    message = response.json()["error"]["message"]
    assert "the body is not valid JSON at character" in message and "JSON decode error" not in message
    assert client.get("/api/leaderboard/text").json()["total_votes"] == before
    body = _battle(client)  # the vote's own fast path answers the same way
    vote = client.post(f"/api/battles/{body['battle_id']}/vote", content=b"{oops", headers=as_json)
    assert vote.status_code == 422 and "not valid JSON" in vote.json()["error"]["message"]


def test_vote_errors(client: TestClient) -> None:
    body = _battle(client)
    bad = client.post(f"/api/battles/{body['battle_id']}/vote", json={"outcome": "left", "voter": VOTER_1})
    assert bad.status_code == 422 and "model_a, model_b, tie, tie_bothbad" in bad.json()["error"]["message"]
    missing = client.post(f"/api/battles/{'f' * 32}/vote", json={"outcome": "tie", "voter": VOTER_1})
    assert missing.status_code == 404
    failed = _battle(client, models=["dead-model", "ngram-storyteller"])
    assert failed["status"] == "failed" and failed["responses"]["a"]["error"]["code"] == "connection"
    assert "dead-model" not in str(failed) and "127.0.0.1:9" not in str(failed)
    refused = client.post(f"/api/battles/{failed['battle_id']}/vote", json={"outcome": "model_b", "voter": VOTER_1})
    assert refused.status_code == 409 and "failed" in refused.json()["error"]["message"]


def test_parallel_duplicate_votes_via_api(client: TestClient) -> None:
    body = _battle(client)
    url = f"/api/battles/{body['battle_id']}/vote"
    with ThreadPoolExecutor(10) as pool:
        codes = list(pool.map(lambda _i: client.post(url, json={"outcome": "tie", "voter": VOTER_1}).status_code,
                              range(10)))
    assert codes == [200] * 10
    assert client.get("/api/leaderboard/text").json()["total_votes"] == 1


def test_rate_limits_answer_429_with_a_clear_message(make_services: Any) -> None:
    limits = {"battles": {"voter": {"per_minute": 1, "burst": 2}}}
    services = make_services(rate_limits=limits)
    with TestClient(create_app(services.settings, services)) as limited:
        for _ in range(2):
            _battle(limited)
        refused = limited.post("/api/battles", json={"arena": "text", "prompt": "again", "voter": VOTER_1})
        assert refused.status_code == 429
        assert "too many battles" in refused.json()["error"]["message"] and int(refused.headers["Retry-After"]) >= 1
        other = limited.post("/api/battles", json={"arena": "text", "prompt": "hi", "voter": VOTER_2,
                                                   "models": ["ngram-storyteller", "wordnet-librarian"]})
        assert other.status_code == 200


def test_forwarded_header_is_not_trusted_from_unknown_peers(make_services: Any) -> None:
    limits = {"battles": {"address": {"per_minute": 1, "burst": 1}}}
    services = make_services(rate_limits=limits)
    with TestClient(create_app(services.settings, services)) as limited:
        first = limited.post("/api/battles", json={"arena": "text", "prompt": "hi", "voter": VOTER_1},
                             headers={"X-Forwarded-For": "203.0.113.7"})
        assert first.status_code == 200
        forged = limited.post("/api/battles", json={"arena": "text", "prompt": "hi", "voter": VOTER_2},
                              headers={"X-Forwarded-For": "198.51.100.9"})
        assert forged.status_code == 429  # same socket peer: the forged header did not buy a new bucket


def test_votes_the_fast_path_hands_on_get_the_same_answers(client: TestClient) -> None:
    # A JSON media type other than application/json goes to the FastAPI route: same reveal, same error bodies.
    body = _battle(client)
    url = f"/api/battles/{body['battle_id']}/vote"
    vendor = {"content-type": "application/vnd.arena+json"}
    missing = f"/api/battles/{'f' * 32}/vote"
    fast_404 = client.post(missing, json={"outcome": "tie", "voter": VOTER_1})
    route_404 = client.post(missing, content=b'{"outcome": "tie", "voter": "%s"}' % VOTER_1.encode(), headers=vendor)
    assert route_404.status_code == fast_404.status_code == 404 and route_404.json() == fast_404.json()
    voted = client.post(url, content=b'{"outcome": "model_b", "voter": "%s"}' % VOTER_1.encode(), headers=vendor)
    assert voted.status_code == 200 and voted.json()["outcome"] == "model_b" and voted.json()["model_a"]
    assert client.post(url, json={"outcome": "model_b", "voter": VOTER_1}).json() == voted.json()  # one vote
