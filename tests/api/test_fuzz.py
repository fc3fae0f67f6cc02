"""Fuzz the JSON API from its own OpenAPI schema: no input gives a 5xx; every rejection is a clear JSON 4xx.

Requests are generated with Hypothesis from /openapi.json of the real app (every /api operation it lists):
schema-conforming bodies, bodies with one field of a wrong type, a missing required field or an unknown
field, arbitrary JSON, bytes that are not JSON, odd path and query values (unicode, control characters,
NUL, very long), and the ids of real battles so that votes, turns and regenerations act on live state.
The app runs on SQLite and on PostgreSQL (whose text columns refuse NUL), with two catalogue models
served by a local OpenAI-compatible server. Examples are derandomized (reproducible in CI) and bounded
per operation by ARENA_FUZZ_EXAMPLES (default 40).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arena.config import Settings
from arena.server import create_app
from arena.services.container import build_services
from bench.fake_openai_server import FakeOpenAI, Pace, serve_in_thread
from bench.harness import openai_models

EXAMPLES = int(os.environ.get("ARENA_FUZZ_EXAMPLES", "40"))
VOTER = "fuzz-voter-000001"
ADMIN_TOKEN = "fuzz-admin-token-0001"
# Rate limiting has its own tests; here it would only turn most requests of the one fuzzing voter into 429s.
_LIFTED = {"per_second": 1_000_000, "burst": 1_000_000}
NO_RATE_LIMITS = {action: {"voter": _LIFTED, "address": _LIFTED} for action in ("battles", "votes")}
Json = Any

ODD_TEXT = st.sampled_from(["", " ", "\x00", "a\x00b", "\u202e", "💥" * 50, "x" * 5000, "../../etc/passwd",
                            "%00", "' OR 1=1 --", "null", "-1", "1e309", "\ud7ff", "a/b", "?", "#"])
ANY_TEXT = st.one_of(st.text(max_size=80), ODD_TEXT)
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80)
JSON_VALUES: st.SearchStrategy[Json] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10,
)


@pytest.fixture(scope="module")
def model_url() -> Iterator[str]:
    with serve_in_thread(FakeOpenAI(Pace(ttft_ms=0.0, tokens=3, interval_ms=0.0))) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def client(request: pytest.FixtureRequest, tmp_path: Path, model_url: str) -> Iterator[TestClient]:
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else ""
    base = Settings(data_dir=tmp_path / "data", database_url=url, models=tuple(openai_models(model_url)),
                    rate_limits=NO_RATE_LIMITS, admin_token=ADMIN_TOKEN)
    services = build_services(base, rng=np.random.default_rng(7))
    try:
        with TestClient(create_app(base, services), raise_server_exceptions=False) as test_client:
            yield test_client
    finally:
        asyncio.run(services.aclose())


class Schema:
    """Hypothesis strategies for the values an OpenAPI (JSON Schema) fragment describes."""

    def __init__(self, document: dict[str, Any], known: dict[str, list[str]]) -> None:
        self.components = document.get("components", {}).get("schemas", {})
        self.known = known

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.components[schema["$ref"].rsplit("/", 1)[1]]
        return schema

    def value(self, schema: dict[str, Any], name: str = "") -> st.SearchStrategy[Json]:
        """Values that conform to `schema` (strings also drawn from known ids and odd text)."""
        schema = self.resolve(schema)
        if "anyOf" in schema:
            return st.one_of([self.value(s, name) for s in schema["anyOf"]])
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        kind = schema.get("type")
        if kind == "string":
            limit = min(int(schema.get("maxLength", 300)), 300)
            known = st.sampled_from(self.known.get(name, ["x"]))
            return st.one_of(known, known, st.text(max_size=limit), ODD_TEXT)
        if kind == "number":
            return st.floats(schema.get("minimum"), schema.get("maximum"), allow_nan=False, allow_infinity=False)
        if kind == "integer":
            known_ints = st.sampled_from([int(v) for v in self.known.get(name, ["1"])])
            return st.one_of(known_ints, st.integers(schema.get("minimum"), schema.get("maximum")))
        if kind == "boolean":
            return st.booleans()
        if kind == "null":
            return st.none()
        if kind == "array":
            item = self.value(schema.get("items", {}), name)
            return st.lists(item, min_size=schema.get("minItems", 0), max_size=schema.get("maxItems", 4))
        if kind == "object":
            return self.obj(schema)
        return JSON_VALUES

    def obj(self, schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Json]]:
        props = schema.get("properties", {})
        if not props:  # a free-form object (e.g. a catalogue table): known good ones and arbitrary ones
            free = st.dictionaries(st.text(max_size=12), JSON_VALUES, max_size=6)
            return st.one_of(st.sampled_from(self.known.get(schema.get("title", ""), [{}])), free)
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {k: self.value(v, k) for k, v in props.items() if k in required},
            optional={k: self.value(v, k) for k, v in props.items() if k not in required},
        )

    def body(self, schema: dict[str, Any]) -> st.SearchStrategy[tuple[str, Any]]:
        """(kind, payload): mostly valid objects, then the classic ways of being wrong."""
        valid = self.obj(self.resolve(schema))
        fields = list(self.resolve(schema).get("properties", {})) or ["name"]
        return st.one_of(
            valid.map(lambda d: ("json", d)),
            valid.map(lambda d: ("json", d)),
            valid.map(lambda d: ("json", d)),
            st.tuples(valid, st.sampled_from(fields), JSON_VALUES).map(lambda t: ("json", {**t[0], t[1]: t[2]})),
            st.tuples(valid, st.sampled_from(fields)).map(
                lambda t: ("json", {k: v for k, v in t[0].items() if k != t[1]})),
            st.tuples(valid, st.text(min_size=1, max_size=12), JSON_VALUES).map(
                lambda t: ("json", {**t[0], t[1]: t[2]})),
            JSON_VALUES.map(lambda v: ("json", v)),
            st.binary(max_size=200).map(lambda b: ("bytes", b)),
        )


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, ops in document["paths"].items() if path.startswith("/api/")
            for method, op in ops.items()]


def _request(draw: Callable[..., Any], schema: Schema, path: str, op: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Draw a concrete URL and request keyword arguments for one operation."""
    query: dict[str, Any] = {}
    headers: dict[str, str] = {}
    for param in op.get("parameters", []):
        value = draw(st.one_of(schema.value(param["schema"], param["name"]), ANY_TEXT))
        if param["in"] == "header":
            header = draw(st.one_of(st.sampled_from(schema.known.get(param["name"], [""])), HEADER_TEXT))
            headers[param["name"]] = header
        elif param["in"] == "path":
            # '/' cannot be part of a path segment even when escaped (the server decodes before routing).
            path = path.replace("{" + param["name"] + "}", quote(str(value).replace("/", "_"), safe="") or "_")
        elif param["in"] == "query" and draw(st.booleans()):
            query[param["name"]] = value
    kwargs: dict[str, Any] = {"params": query, "headers": headers}
    content = op.get("requestBody", {}).get("content", {}).get("application/json")
    if content is not None:
        kind, payload = draw(schema.body(content["schema"]))
        if kind == "json":
            kwargs["content"] = json.dumps(payload).encode()
            headers["content-type"] = "application/json"
        else:
            kwargs["content"] = payload
            headers["content-type"] = draw(st.sampled_from(["application/json", "text/plain"]))
    return path, kwargs


def _check(method: str, url: str, kwargs: dict[str, Any], response: Any) -> None:
    where = f"{method} {url} {kwargs!r}"
    assert response.status_code < 500, f"{where} -> {response.status_code}: {response.text[:500]}"
    assert response.headers.get("content-type", "").startswith("application/json"), where
    body = response.json()
    if response.status_code >= 400:
        assert isinstance(body, dict) and isinstance(body.get("error"), dict), f"{where} -> {body}"
        message = body["error"].get("message")
        assert isinstance(message, str) and message.strip(), f"{where} -> {body}"


def _seed_battles(client: TestClient) -> list[str]:
    """A few real battles owned by VOTER (ready, and one already voted) for the fuzzer to act on."""
    ids = []
    for i in range(4):
        response = client.post("/api/battles", json={"prompt": f"Tell me about owls ({i})", "voter": VOTER})
        assert response.status_code == 200, response.text
        ids.append(response.json()["battle_id"])
    assert client.post(f"/api/battles/{ids[0]}/vote", json={"outcome": "tie", "voter": VOTER}).status_code == 200
    return ids


def test_api_fuzz_from_openapi_schema(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operations = _operations(document)
    assert len(operations) >= 6, "the schema lost its /api operations"
    battles = _seed_battles(client)
    models = [m["name"] for m in client.get("/api/models").json()["models"]]
    schema = Schema(document, {"battle_id": battles, "voter": [VOTER], "models": models,
                               "outcome": ["model_a", "model_b", "tie", "tie_bothbad"],
                               "category": ["overall", "coding"], "method": ["bt"],
                               "prompt": ["What is a cat?", "Write a haiku about rain."],
                               "authorization": [f"Bearer {ADMIN_TOKEN}", f"Bearer {ADMIN_TOKEN}", "Bearer nope"],
                               "vote_id": ["1", "2"], "name": models, "status": ["active", "paused", "retired"],
                               "Table": [{"name": "fuzz-extra", "modality": "text", "provider": "openai_chat",
                                          "options": {"base_url": "http://127.0.0.1:9/v1", "model": "x"}}]})

    routed: set[str] = set()

    @settings(max_examples=EXAMPLES * len(operations), deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.data())
    def fuzz(data: st.DataObject) -> None:
        method, path, op = data.draw(st.sampled_from(operations), label="operation")
        url, kwargs = _request(data.draw, schema, path, op)
        response = client.request(method, url, **kwargs)
        _check(method, url, kwargs, response)
        if response.status_code != 404:
            routed.add(f"{method} {path}")

    fuzz()
    # An operation that only ever answered 404 was never reached: the fuzzing proved nothing about it.
    assert {f"{m} {p}" for m, p, _ in operations} - routed == set()


@pytest.mark.parametrize(("method", "url"), [
    ("GET", "/api/battles"),                      # an operation's path with a method it does not have
    ("POST", "/api/battles/a%2Fb/vote"),          # an escaped '/' inside the battle id
    ("GET", "/api/no-such-route"),
])
def test_unrouted_api_requests_answer_in_the_error_shape(client: TestClient, method: str, url: str) -> None:
    response = client.request(method, url, json={"outcome": "tie", "voter": VOTER})
    assert 400 <= response.status_code < 500
    body = response.json()
    assert isinstance(body.get("error"), dict) and body["error"].get("message"), body
