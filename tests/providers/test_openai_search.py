"""openai_search against a real local server speaking Perplexity-style and OpenAI-style citations."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from arena.domain import Citation, CitationChunk, ErrorCode, Finish, TextDelta
from arena.errors import ProviderError

WIKI = "https://en.wikipedia.org/wiki/Bradley%E2%80%93Terry_model"
ARXIV = "https://arxiv.org/abs/2403.04132"
BLOG = "https://lmsys.org/blog/2023-05-03-arena/"


def chunk(content: str | None = None, finish: str | None = None, **top: Any) -> dict[str, Any]:
    delta: dict[str, Any] = {} if content is None else {"content": content}
    annotations = top.pop("annotations", None)
    if annotations is not None:
        delta["annotations"] = annotations
    return {
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **top,
    }


PERPLEXITY_TOP: dict[str, Any] = {
    "citations": [WIKI, ARXIV, "javascript:alert(1)"],
    "search_results": [
        {
            "title": "Bradley–Terry model",
            "url": WIKI,
            "snippet": "A probability model for paired comparisons.",
        },
        {"title": "Chatbot Arena", "url": ARXIV},
    ],
}


def url_citation(url: str, title: str, start: int, end: int) -> dict[str, Any]:
    return {
        "type": "url_citation",
        "url_citation": {"url": url, "title": title, "start_index": start, "end_index": end},
    }


STREAMS: dict[str, list[dict[str, Any] | str]] = {
    "perplexity": [
        chunk("Arena ratings use a Bradley–Terry fit [1]", **PERPLEXITY_TOP),
        chunk(" over crowd votes [2].", **PERPLEXITY_TOP),
        chunk(finish="stop", **PERPLEXITY_TOP, usage={"prompt_tokens": 9, "completion_tokens": 12}),
        "[DONE]",
    ],
    "openai": [
        chunk("Votes are pooled ([lmsys.org](https://lmsys.org/blog/2023-05-03-arena/))."),
        chunk(
            finish="stop",
            annotations=[
                url_citation(BLOG, "Chatbot Arena", 17, 68),
                url_citation(BLOG, "Chatbot Arena", 17, 68),
                {"type": "url_citation", "url": ARXIV, "title": "Flat form"},
                {"type": "file_citation", "file_id": "f1"},
                url_citation("ftp://example.org/x", "not web", 0, 1),
            ],
        ),
        "[DONE]",
    ],
    "growing_list": [
        chunk("First [1]", citations=[WIKI]),
        chunk(" then [2]", citations=[WIKI, BLOG]),
        chunk(finish="stop", citations=[WIKI, BLOG]),
        "[DONE]",
    ],
    "no_citations": [chunk("Plain answer.", finish="stop"), "[DONE]"],
    "bad_citations": [
        chunk("Odd sources [1] [2].", citations="not a list"),
        chunk(finish="stop", citations=[123, {"no": "url"}, None, WIKI], search_results="nope"),
        "[DONE]",
    ],
    "truncated": [chunk("The answer starts and then the server")],
    "garbage": [chunk("Fine so far"), "{not json at all"],
}


async def paced(events: list[dict[str, Any] | str]) -> AsyncIterator[bytes]:
    for event in events:
        yield f"data: {event if isinstance(event, str) else json.dumps(event)}\n\n".encode()
        await asyncio.sleep(0.01)


async def completions(request: Request) -> Response:
    scenario = request.path_params["scenario"]
    if scenario == "whole":
        message = {
            "role": "assistant",
            "content": "Answer with a source.",
            "annotations": [url_citation(WIKI, "Bradley–Terry model", 0, 6)],
        }
        return JSONResponse(
            {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}], "citations": [BLOG]}
        )
    if scenario == "hang":
        await asyncio.sleep(5)
    if scenario == "quota":
        return JSONResponse({"error": {"message": "You exceeded your current quota"}}, status_code=429)
    return StreamingResponse(paced(STREAMS[scenario]), media_type="text/event-stream")


@pytest.fixture(scope="module")
def server(serve):
    return serve(Starlette(routes=[Route("/{scenario}/v1/chat/completions", completions, methods=["POST"])]))


def run(generate, server, scenario: str, **options: Any) -> list[Any]:
    return generate(
        "openai_search", {"base_url": f"{server.url}/{scenario}/v1", "model": "sonar", "retries": 0, **options}
    )


def citations(chunks: list[Any]) -> list[Citation]:
    return [chunk.citation for chunk in chunks if isinstance(chunk, CitationChunk)]


def test_perplexity_citations_list_with_search_results(generate, server):
    chunks = run(generate, server, "perplexity")
    assert citations(chunks) == [
        Citation(WIKI, "Bradley–Terry model", "A probability model for paired comparisons."),
        Citation(ARXIV, "Chatbot Arena", ""),
    ]
    assert isinstance(chunks[0], CitationChunk), "sources come before the text that cites them"
    text = "".join(chunk.text for chunk in chunks if isinstance(chunk, TextDelta))
    assert text == "Arena ratings use a Bradley–Terry fit [1] over crowd votes [2]."
    assert chunks[-1] == Finish("stop", prompt_tokens=9, completion_tokens=12)


def test_citations_list_that_grows_keeps_positions(generate, server):
    assert citations(run(generate, server, "growing_list")) == [Citation(WIKI), Citation(BLOG)]


def test_openai_url_citation_annotations(generate, server):
    chunks = run(generate, server, "openai")
    assert citations(chunks) == [Citation(BLOG, "Chatbot Arena"), Citation(ARXIV, "Flat form")]
    assert isinstance(chunks[-1], Finish)


def test_annotations_in_a_whole_json_body(generate, server):
    chunks = run(generate, server, "whole")
    assert citations(chunks) == [Citation(BLOG), Citation(WIKI, "Bradley–Terry model")]
    assert [chunk.text for chunk in chunks if isinstance(chunk, TextDelta)] == ["Answer with a source."]


def test_answer_without_citations_still_streams(generate, server):
    chunks = run(generate, server, "no_citations")
    assert chunks == [TextDelta("Plain answer."), Finish("stop")]


def test_errors_are_translated_like_chat(generate, server):
    with pytest.raises(ProviderError) as info:
        run(generate, server, "quota")
    assert info.value.code is ErrorCode.RATE_LIMITED and "exceeded your current quota" in info.value.message


def test_malformed_citations_are_skipped_not_fatal(generate, server):
    chunks = run(generate, server, "bad_citations")
    assert [c.url for c in citations(chunks)] == [WIKI]  # only the well-formed web URL survives
    assert chunks[-1] == Finish("stop")


@pytest.mark.parametrize(("scenario", "expected"), [("truncated", ErrorCode.MALFORMED),
                                                    ("garbage", ErrorCode.MALFORMED)])
def test_broken_streams_fail_with_typed_codes(generate, server, scenario, expected):
    with pytest.raises(ProviderError) as info:
        run(generate, server, scenario)
    assert info.value.code is expected
    assert "event stream" in info.value.message or "invalid JSON" in info.value.message


def test_a_hanging_server_times_out(generate, server):
    with pytest.raises(ProviderError) as info:
        run(generate, server, "hang", read_timeout=0.3)
    assert info.value.code is ErrorCode.TIMEOUT
