"""openai_chat against a real local OpenAI-compatible server: streaming, errors, timeouts, retries, keys."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from arena.domain import ErrorCode, Finish, GenerationRequest, Message, TextDelta
from arena.errors import ConfigError, ProviderError

KEY = "sk-test-9f8e7d6c5b4a39281706"
PACE_S = 0.01


def chunk(content: str | None = None, finish: str | None = None, **delta: Any) -> dict[str, Any]:
    if content is not None:
        delta["content"] = content
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "model": "tiny",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def sse(payload: Any) -> str:
    return f"data: {payload if isinstance(payload, str) else json.dumps(payload)}\n\n"


USAGE = {"id": "chatcmpl-1", "choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": 4}}
HELLO = [
    sse(chunk(role="assistant")),
    sse(chunk("Hello")),
    sse(chunk(", ")),
    sse(chunk("world")),
    sse(chunk("!", finish="stop")),
    sse(USAGE),
    sse("[DONE]"),
]
SCRIPTS: dict[str, list[str]] = {
    "ok": HELLO,
    "crlf": [": keep-alive\r\n\r\n", sse(chunk("Hi")).replace("\n", "\r\n"), "data: [DONE]\r\n\r\n"],
    "no_blank_end": [sse(chunk("Hi", finish="stop")), "data: [DONE]"],
    "no_done": [sse(chunk("Hi")), sse(chunk(" there", finish="length"))],
    "truncated": [sse(chunk("Hi")), sse(chunk(" there"))],
    "malformed": [sse(chunk("Hi")), 'data: {"choices": [{"delta": \n\n'],
    "garbage": ["<html>this is not an event stream</html>\n\n"],
    "not_object": [sse([1, 2, 3])],
    "empty": [sse(chunk(role="assistant")), sse(chunk(finish="stop")), sse("[DONE]")],
    "blank": [sse(chunk("  \n ")), sse(chunk(finish="stop")), sse("[DONE]")],
    "filtered": [sse(chunk(finish="content_filter")), sse("[DONE]")],
    "midstream_error": [
        sse(chunk("Hi")),
        sse({"error": {"message": "The engine is overloaded", "type": "server"}}),
    ],
    "echo_key_in_stream": [sse(chunk("Hi")), 'data: {"choices": [ KEYHERE\n\n'],
}


async def paced(events: list[str], *, then: str = "end") -> AsyncIterator[bytes]:
    for event in events:
        yield event.encode()
        await asyncio.sleep(PACE_S)
    if then == "stall":
        await asyncio.sleep(30)
    if then == "drop":
        raise RuntimeError("simulated crash mid-stream")


async def scripted(request: Request) -> Response:
    scenario = request.path_params["scenario"]
    body = await request.json()
    if scenario == "json":
        return JSONResponse(
            {
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "Whole answer."},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 5, "completion_tokens": 2},
            }
        )
    if scenario == "hang":
        await asyncio.sleep(30)
    if scenario in {"stall", "drop"}:
        return StreamingResponse(paced(HELLO[:3], then=scenario), media_type="text/event-stream")
    if scenario == "need_key" and request.headers.get("authorization") != f"Bearer {KEY}":
        return JSONResponse({"error": {"message": "missing bearer token"}}, status_code=401)
    if scenario == "echo_key":
        return JSONResponse(
            {
                "error": {
                    "message": f"Incorrect API key provided: {request.headers.get('authorization', '')[7:]}"
                }
            },
            status_code=401,
        )
    events = SCRIPTS.get(scenario, HELLO)
    if scenario == "echo_key_in_stream":
        events = [event.replace("KEYHERE", request.headers.get("authorization", "")) for event in events]
    if body.get("stream") is not True:
        return JSONResponse({"error": {"message": "this test server only streams"}}, status_code=400)
    return StreamingResponse(paced(events), media_type="text/event-stream")


VENDOR_ERRORS: dict[int, Any] = {
    400: {"error": {"message": "max_tokens is too large: 999999", "type": "invalid_request_error"}},
    401: {"error": {"message": "Invalid authentication", "code": "invalid_api_key"}},
    403: {"error": {"message": "Project does not have access to model"}},
    404: {"error": 'model "tiny" not found, try pulling it first'},
    422: {"detail": [{"loc": ["body", "messages"], "msg": "field required"}]},
    429: {"error": {"message": "Rate limit reached for requests", "code": "rate_limit_exceeded"}},
    500: {"error": {"message": "CUDA out of memory", "type": "server_error"}},
    503: {"error": {"message": "The server is currently loading the model"}},
}


async def status(request: Request) -> Response:
    code = request.path_params["code"]
    if code == 502:
        return PlainTextResponse("Bad gateway", status_code=502)
    headers = {"Retry-After": "7"} if code == 429 else {}
    return JSONResponse(VENDOR_ERRORS[code], status_code=code, headers=headers)


def chat_app() -> Starlette:
    return Starlette(
        routes=[
            Route("/s/{scenario}/v1/chat/completions", scripted, methods=["POST"]),
            Route("/status/{code:int}/v1/chat/completions", status, methods=["POST"]),
        ]
    )


@pytest.fixture(scope="module")
def server(serve):
    return serve(chat_app())


def options(server, scenario: str, **extra: Any) -> dict[str, Any]:
    return {"base_url": f"{server.url}/s/{scenario}/v1", "model": "tiny", "retries": 0, **extra}


def text_of(chunks) -> str:
    return "".join(chunk.text for chunk in chunks if isinstance(chunk, TextDelta))


def failure(run, *args: Any, **kwargs: Any) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        run(*args, **kwargs)
    return info.value


def test_streams_deltas_then_finish_with_usage(server, generate):
    chunks = generate("openai_chat", options(server, "ok"))
    assert chunks[:-1] == [TextDelta("Hello"), TextDelta(", "), TextDelta("world"), TextDelta("!")]
    assert chunks[-1] == Finish(finish_reason="stop", prompt_tokens=11, completion_tokens=4)


def test_request_body_and_headers(server, generate):
    request = GenerationRequest(
        messages=(Message("user", "Hi"), Message("assistant", "Hello!"), Message("user", "Tell me more")),
        seed=7,
    )
    opts = options(
        server,
        "ok",
        temperature=0.3,
        max_tokens=64,
        system_prompt="Be brief.",
        headers={"X-Team": "arena"},
        extra_body={"top_k": 20, "model": "ignored"},
    )
    generate("openai_chat", opts, request)
    seen = server.last("/s/ok/v1/chat/completions")
    body = seen.json()
    assert body["model"] == "tiny" and body["top_k"] == 20
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Tell me more"},
    ]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert (body["temperature"], body["max_tokens"], body["seed"]) == (0.3, 64, 7)
    assert seen.headers["x-team"] == "arena" and "authorization" not in seen.headers


def test_stream_usage_can_be_turned_off(server, generate):
    generate("openai_chat", options(server, "ok", stream_usage=False))
    assert "stream_options" not in server.last("/s/ok/v1/chat/completions").json()


@pytest.mark.parametrize(
    ("scenario", "text", "reason"),
    [("crlf", "Hi", "stop"), ("no_blank_end", "Hi", "stop"), ("no_done", "Hi there", "length")],
)
def test_tolerated_stream_variants(server, generate, scenario, text, reason):
    chunks = generate("openai_chat", options(server, scenario))
    assert text_of(chunks) == text
    assert chunks[-1].finish_reason == reason


def test_server_that_ignores_stream_true(server, generate):
    chunks = generate("openai_chat", options(server, "json"))
    assert chunks == [TextDelta("Whole answer."), Finish("stop", prompt_tokens=5, completion_tokens=2)]


@pytest.mark.parametrize(
    ("code", "expected", "vendor_text"),
    [
        (400, ErrorCode.BAD_REQUEST, "max_tokens is too large"),
        (401, ErrorCode.AUTH, "Invalid authentication"),
        (403, ErrorCode.AUTH, "does not have access"),
        (404, ErrorCode.NOT_FOUND, "try pulling it first"),
        (422, ErrorCode.BAD_REQUEST, "field required"),
        (429, ErrorCode.RATE_LIMITED, "Rate limit reached"),
        (500, ErrorCode.SERVER_ERROR, "CUDA out of memory"),
        (502, ErrorCode.SERVER_ERROR, "Bad gateway"),
        (503, ErrorCode.SERVER_ERROR, "loading the model"),
    ],
)
def test_http_errors_are_translated_with_vendor_message(server, generate, code, expected, vendor_text):
    opts = {"base_url": f"{server.url}/status/{code}/v1", "model": "tiny", "retries": 3}
    before = server.hits(f"/status/{code}/v1/chat/completions")
    error = failure(generate, "openai_chat", opts)
    assert error.code is expected
    assert vendor_text in error.message and f"HTTP {code}" in error.message
    assert server.hits(f"/status/{code}/v1/chat/completions") == before + 1, "HTTP errors are never retried"


def test_error_messages_say_what_to_do_next(server, generate):
    not_found = failure(generate, "openai_chat", {"base_url": f"{server.url}/status/404/v1", "model": "tiny"})
    assert "ollama pull" in not_found.message and "/v1" in not_found.message
    limited = failure(generate, "openai_chat", {"base_url": f"{server.url}/status/429/v1", "model": "tiny"})
    assert "retry after 7s" in limited.message


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("malformed", ErrorCode.MALFORMED),
        ("garbage", ErrorCode.MALFORMED),
        ("not_object", ErrorCode.MALFORMED),
        ("truncated", ErrorCode.MALFORMED),
        ("empty", ErrorCode.EMPTY),
        ("blank", ErrorCode.EMPTY),
        ("filtered", ErrorCode.CONTENT_FILTER),
        ("midstream_error", ErrorCode.SERVER_ERROR),
    ],
)
def test_bad_streams_fail_with_typed_codes(server, generate, scenario, expected):
    assert failure(generate, "openai_chat", options(server, scenario)).code is expected


def test_midstream_server_error_quotes_the_server(server, generate):
    assert (
        "engine is overloaded" in failure(generate, "openai_chat", options(server, "midstream_error")).message
    )


def test_read_timeout_before_headers_is_timeout_and_not_retried(server, generate):
    before = server.hits("/s/hang/v1/chat/completions")
    error = failure(generate, "openai_chat", options(server, "hang", read_timeout=0.3, retries=3))
    assert error.code is ErrorCode.TIMEOUT and "read_timeout=0.3" in error.message
    assert server.hits("/s/hang/v1/chat/completions") == before + 1


def test_read_timeout_mid_stream_is_timeout_and_not_retried(server, generate):
    before = server.hits("/s/stall/v1/chat/completions")
    error = failure(generate, "openai_chat", options(server, "stall", read_timeout=0.3, retries=3))
    assert error.code is ErrorCode.TIMEOUT
    assert server.hits("/s/stall/v1/chat/completions") == before + 1


def test_connection_dropped_mid_stream_is_connection_and_not_retried(server, generate):
    before = server.hits("/s/drop/v1/chat/completions")
    error = failure(generate, "openai_chat", options(server, "drop", retries=3))
    assert error.code is ErrorCode.CONNECTION and "middle of the answer" in error.message
    assert server.hits("/s/drop/v1/chat/completions") == before + 1


def attempt_counter() -> tuple[list[str], dict[str, list[Any]]]:
    attempts: list[str] = []

    async def on_request(request: httpx.Request) -> None:
        attempts.append(str(request.url))

    return attempts, {"request": [on_request]}


def test_connection_refused_is_retried_then_reported(generate, free_port):
    attempts, hooks = attempt_counter()
    opts = {"base_url": f"http://127.0.0.1:{free_port}/v1", "model": "tiny", "retries": 2}
    error = failure(generate, "openai_chat", opts, event_hooks=hooks)
    assert error.code is ErrorCode.CONNECTION and "is the server running" in error.message
    assert len(attempts) == 3


def test_retry_after_connect_failure_reaches_a_server_that_came_up(serve, generate, free_port):
    port = free_port
    late: list[Any] = []
    attempts, hooks = attempt_counter()

    async def start_on_second_attempt(request: httpx.Request) -> None:
        if len(attempts) == 2:
            late.append(serve(chat_app(), port=port))

    hooks["request"].append(start_on_second_attempt)
    opts = {"base_url": f"http://127.0.0.1:{port}/s/ok/v1", "model": "tiny", "retries": 2}
    chunks = generate("openai_chat", opts, event_hooks=hooks)
    assert text_of(chunks) == "Hello, world!"
    assert len(attempts) == 2 and late[0].hits("/s/ok/v1/chat/completions") == 1


def test_api_key_goes_in_the_header_only(server, generate, caplog):
    caplog.set_level(logging.DEBUG)
    chunks = generate(
        "openai_chat", options(server, "need_key", api_key_env="TEST_KEY"), environ={"TEST_KEY": KEY}
    )
    assert text_of(chunks) == "Hello, world!"
    assert server.last("/s/need_key/v1/chat/completions").headers["authorization"] == f"Bearer {KEY}"
    assert all(KEY not in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize("scenario", ["echo_key", "echo_key_in_stream"])
def test_api_key_echoed_by_the_server_is_redacted(server, generate, caplog, scenario):
    caplog.set_level(logging.DEBUG)
    error = failure(
        generate, "openai_chat", options(server, scenario, api_key_env="TEST_KEY"), environ={"TEST_KEY": KEY}
    )
    assert KEY not in str(error) and KEY not in repr(error.detail) and "[redacted]" in error.message
    assert error.__cause__ is None or KEY not in str(error.__cause__)
    assert all(KEY not in record.getMessage() for record in caplog.records)


def test_missing_key_names_the_variable_and_sends_nothing(server, generate):
    before = server.hits("/s/need_key/v1/chat/completions")
    error = failure(generate, "openai_chat", options(server, "need_key", api_key_env="ARENA_TEST_UNSET_KEY"))
    assert error.code is ErrorCode.AUTH and "ARENA_TEST_UNSET_KEY" in error.message
    assert server.hits("/s/need_key/v1/chat/completions") == before


@pytest.mark.parametrize(
    "bad",
    [
        {"temperature": 3.5},
        {"temperature": "hot"},
        {"max_tokens": 0},
        {"read_timeout": -1},
        {"retries": True},
        {"base_url": "localhost:8000/v1"},
        {"headers": {"Authorization": "Bearer sk-in-config"}},
        {"stream_usage": "yes"},
        {"colour": "blue"},
    ],
)
def test_invalid_options_fail_at_construction(generate, bad):
    with pytest.raises(ConfigError):
        generate("openai_chat", {"base_url": "http://127.0.0.1:9/v1", "model": "tiny", **bad})


def test_model_is_required(generate):
    with pytest.raises(ConfigError, match="model"):
        generate("openai_chat", {"base_url": "http://127.0.0.1:9/v1"})
