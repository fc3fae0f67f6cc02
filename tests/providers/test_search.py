"""search_compose: a retriever plus openai_chat against a real local server; citation renumbering."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from arena.domain import (
    Citation,
    CitationChunk,
    ErrorCode,
    Finish,
    GenerationRequest,
    Message,
    Modality,
    ModelSpec,
    SearchTrace,
    TextDelta,
)
from arena.errors import ConfigError, ProviderError
from arena.providers.base import ProviderContext
from arena.providers.search import (
    CitationRenumberer,
    ComposedSearchProvider,
    Retriever,
    load_retriever,
    sources_prompt,
)

DOCS = (
    Citation("https://docs.example/elo", "Elo rating system", "Elo updates ratings after every game."),
    Citation(
        "https://docs.example/bt", "Bradley-Terry model", "Bradley-Terry fits all paired comparisons at once."
    ),
    Citation("https://docs.example/arena", "Chatbot Arena", "Voters compare two anonymous chat models."),
    Citation("https://docs.example/cooking", "Pasta", "Boil pasta in salted water."),
)
# The server's answer cites source 2 first, then 1 and 2, then a source that does not exist; the
# pieces split markers across deltas on purpose.
ANSWER = ["Arena uses Bradley-Terry [", "2]. Elo is online [1", "][2]. See [9", "]."]


class KeywordRetriever:
    """A tiny real retriever: ranks DOCS by words shared with the query."""

    def __init__(self) -> None:
        self.queries: list[tuple[str, int]] = []

    async def search(self, query: str, k: int) -> list[Citation]:
        self.queries.append((query, k))
        words = set(re.findall(r"[a-z-]+", query.lower()))
        scored = [
            (len(words & set(re.findall(r"[a-z-]+", f"{doc.title} {doc.snippet}".lower()))), doc)
            for doc in DOCS
        ]
        return [doc for score, doc in sorted(scored, key=lambda pair: -pair[0]) if score > 0][:k]


def make_retriever(context: ProviderContext) -> Retriever:
    """Factory used through the 'package.module:factory' retriever option."""
    return KeywordRetriever()


async def paced(pieces: list[str]) -> AsyncIterator[bytes]:
    for piece in pieces:
        payload = {"choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
        yield f"data: {json.dumps(payload)}\n\n".encode()
        await asyncio.sleep(0.01)
    done = {
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 120, "completion_tokens": 14},
    }
    yield f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode()


async def completions(request: Request) -> Response:
    if request.path_params["scenario"] == "broken":
        return JSONResponse({"error": {"message": "model crashed"}}, status_code=500)
    await request.body()
    return StreamingResponse(paced(ANSWER), media_type="text/event-stream")


@pytest.fixture(scope="module")
def server(serve):
    return serve(Starlette(routes=[Route("/{scenario}/v1/chat/completions", completions, methods=["POST"])]))


def spec(server, scenario: str = "ok", **options: Any) -> ModelSpec:
    chat = {
        "provider": "openai_chat",
        "options": {"base_url": f"{server.url}/{scenario}/v1", "model": "tiny"},
    }
    return ModelSpec(
        name="rag", modality=Modality.SEARCH, provider="search_compose", options={"chat": chat, **options}
    )


def run(model: ModelSpec, retriever: Retriever | None, prompt: str) -> list[Any]:
    async def collect() -> list[Any]:
        async with httpx.AsyncClient(trust_env=False) as client:
            provider = ComposedSearchProvider(
                model, ProviderContext(http=client, environ={}), retriever=retriever
            )
            try:
                request = GenerationRequest(messages=(Message("user", prompt),), modality=Modality.SEARCH)
                return [chunk async for chunk in provider.generate(request)]
            finally:
                await provider.aclose()

    return asyncio.run(collect())


QUESTION = "How does Chatbot Arena rank models: Elo or Bradley-Terry?"


def test_answer_with_renumbered_citations(server):
    retriever = KeywordRetriever()
    chunks = run(spec(server, k=3), retriever, QUESTION)
    assert retriever.queries == [(QUESTION, 3)]
    sources = asyncio.run(KeywordRetriever().search(QUESTION, 3))
    assert chunks[0] == SearchTrace(query=QUESTION, results=3)
    text = "".join(chunk.text for chunk in chunks if isinstance(chunk, TextDelta))
    assert text == "Arena uses Bradley-Terry [1]. Elo is online [2][1]. See [9]."
    cited = [chunk.citation for chunk in chunks if isinstance(chunk, CitationChunk)]
    assert cited == [sources[1], sources[0]], "cited sources only, in order of first use"
    first_marker = next(
        i for i, chunk in enumerate(chunks) if isinstance(chunk, TextDelta) and "[1]" in chunk.text
    )
    assert chunks.index(CitationChunk(sources[1])) < first_marker
    assert chunks[-1] == Finish("stop", prompt_tokens=120, completion_tokens=14)


def test_prompt_lists_the_sources_and_keeps_the_question(server):
    run(spec(server, k=2), KeywordRetriever(), QUESTION)
    messages = server.last("/ok/v1/chat/completions").json()["messages"]
    assert messages[0]["role"] == "system" and messages[-1] == {"role": "user", "content": QUESTION}
    system = messages[0]["content"]
    assert "[1] " in system and "[2] " in system and "[3]" not in system
    assert all(doc.url in system for doc in asyncio.run(KeywordRetriever().search(QUESTION, 2)))
    assert "square brackets" in system


def test_no_results_still_answers_and_says_so(server):
    chunks = run(spec(server), KeywordRetriever(), "zzz qqq")
    assert chunks[0] == SearchTrace(query="zzz qqq", results=0)
    assert not any(isinstance(chunk, CitationChunk) for chunk in chunks)
    assert "(no results)" in server.last("/ok/v1/chat/completions").json()["messages"][0]["content"]


def test_inner_chat_errors_propagate(server):
    with pytest.raises(ProviderError) as info:
        run(spec(server, "broken"), KeywordRetriever(), QUESTION)
    assert info.value.code is ErrorCode.SERVER_ERROR and "model crashed" in info.value.message


def test_retriever_from_a_factory_path(server):
    context = ProviderContext(http=httpx.AsyncClient(trust_env=False), environ={})
    assert isinstance(load_retriever(f"{__name__}:make_retriever", context), KeywordRetriever)
    assert sys.modules[__name__].make_retriever is make_retriever


def test_builtin_retriever_is_the_wordnet_engine():
    context = ProviderContext(http=httpx.AsyncClient(trust_env=False), environ={})
    retriever = load_retriever("builtin", context)
    assert type(retriever).__name__ == "CorpusSearchEngine" and isinstance(retriever, Retriever)


@pytest.mark.parametrize(
    "options",
    [
        {"chat": {"options": {}}},
        {"chat": {"provider": "openai_chat", "options": {"base_url": "http://127.0.0.1:9/v1"}}},
        {"chat": {"provider": "openai_chat", "options": {}, "model": "x"}},
        {"chat": {"provider": "search_compose", "options": {}}},
        {"chat": {"provider": "no_such_provider"}},
        {
            "chat": {
                "provider": "openai_chat",
                "options": {"base_url": "http://127.0.0.1:9/v1", "model": "m"},
            },
            "retriever": "google",
        },
        {
            "chat": {
                "provider": "openai_chat",
                "options": {"base_url": "http://127.0.0.1:9/v1", "model": "m"},
            },
            "retriever": "json:no_such_factory",
        },
        {
            "chat": {
                "provider": "openai_chat",
                "options": {"base_url": "http://127.0.0.1:9/v1", "model": "m"},
            },
            "k": 0,
        },
    ],
)
def test_bad_configuration_fails_at_construction(options):
    context = ProviderContext(http=httpx.AsyncClient(trust_env=False), environ={})
    with pytest.raises(ConfigError):
        ComposedSearchProvider(ModelSpec("rag", Modality.SEARCH, "search_compose", options=options), context)


def renumbered(pieces: list[str], sources: tuple[Citation, ...] = DOCS[:3]) -> tuple[str, list[Citation]]:
    renumberer = CitationRenumberer(sources)
    text, cited = "", list[Citation]()
    for piece in pieces:
        out, new = renumberer.feed(piece)
        text, cited = text + out, cited + new
    out, new = renumberer.flush()
    return text + out, cited + new


def test_renumbering_is_independent_of_how_the_text_is_split():
    # An unclosed "[1" at the very end is not a marker and is passed through unchanged by flush().
    answer = "Fits [3] and [1, 3]; arrays like a[10] stay; [2][2] and an open [ bracket; tail [1"
    expected = (
        "Fits [1] and [2, 1]; arrays like a[10] stay; [3][3] and an open [ bracket; tail [1",
        [DOCS[2], DOCS[0], DOCS[1]],
    )
    assert renumbered([answer]) == expected
    for cut in range(len(answer) + 1):
        assert renumbered([answer[:cut], answer[cut:]]) == expected, cut
    assert renumbered(list(answer)) == expected


def test_sources_prompt_numbers_every_source():
    prompt = sources_prompt(DOCS[:2])
    assert "[1] Elo rating system\nhttps://docs.example/elo\nElo updates" in prompt
    assert "[2] Bradley-Terry model" in prompt
