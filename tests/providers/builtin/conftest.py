"""Fixtures for the built-in models: one real provider instance per type (assets load once per session),
and helpers that run a generation and split the chunks by kind."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from arena.domain import (
    Chunk,
    CitationChunk,
    Finish,
    GenerationRequest,
    MediaChunk,
    Message,
    Modality,
    ModelSpec,
    SearchTrace,
    TextDelta,
)
from arena.providers.base import Provider, ProviderContext
from arena.providers.builtin.search_engine import CorpusSearchEngine
from arena.providers.registry import build_provider


def build_request(*turns: str, seed: int | None = 7, options: Mapping[str, Any] | None = None) -> GenerationRequest:
    """A request from alternating user/assistant turns (the last one is the user's prompt)."""
    roles = ["user", "assistant"] * len(turns)
    messages = tuple(Message(role, text) for role, text in zip(roles, turns, strict=False))
    return GenerationRequest(messages=messages, seed=seed, options=dict(options or {}))


@dataclass
class Result:
    """The chunks of one generation, split by kind."""

    chunks: list[Chunk]
    deltas: list[str] = field(init=False)
    text: str = field(init=False)

    def __post_init__(self) -> None:
        self.deltas = [c.text for c in self.chunks if isinstance(c, TextDelta)]
        self.text = "".join(self.deltas)

    @property
    def finish(self) -> Finish:
        """The last chunk, which must be a Finish."""
        last = self.chunks[-1]
        assert isinstance(last, Finish)
        return last

    @property
    def citations(self) -> list[CitationChunk]:
        """Citation chunks in order."""
        return [c for c in self.chunks if isinstance(c, CitationChunk)]

    @property
    def traces(self) -> list[SearchTrace]:
        """Search traces in order."""
        return [c for c in self.chunks if isinstance(c, SearchTrace)]

    @property
    def media(self) -> MediaChunk:
        """The single media chunk."""
        media = [c for c in self.chunks if isinstance(c, MediaChunk)]
        assert len(media) == 1
        return media[0]


class Builtins:
    """Builds built-in providers once per (type, options) and runs generations on them."""

    def __init__(self, context: ProviderContext) -> None:
        self.context = context
        self._providers: dict[tuple[str, tuple[tuple[str, Any], ...]], Provider] = {}

    def provider(self, provider_type: str, **options: Any) -> Provider:
        """The shared instance for a provider type and options."""
        key = (provider_type, tuple(sorted(options.items())))
        if key not in self._providers:
            spec = ModelSpec(
                name=f"test-{provider_type}", modality=Modality.TEXT, provider=provider_type, options=options
            )
            self._providers[key] = build_provider(spec, self.context)
        return self._providers[key]

    def run(self, provider_type: str, req: GenerationRequest, **options: Any) -> Result:
        """Run one generation to completion."""
        provider = self.provider(provider_type, **options)

        async def collect() -> list[Chunk]:
            return [chunk async for chunk in provider.generate(req)]

        return Result(asyncio.run(collect()))


@pytest.fixture(scope="session")
def builtins() -> Iterator[Builtins]:
    """Shared built-in providers (a real, unused HTTP client satisfies the context)."""
    client = httpx.AsyncClient(trust_env=False)
    yield Builtins(ProviderContext(http=client, environ={}))
    asyncio.run(client.aclose())


@pytest.fixture(scope="session")
def make_request() -> Any:
    """`make_request(*turns, seed=7, options=None)`: alternating user/assistant turns, ending with the prompt."""
    return build_request


@pytest.fixture(scope="session")
def engine(builtins: Builtins) -> CorpusSearchEngine:
    """The search engine over the shipped corpus, loaded once."""
    search_engine = CorpusSearchEngine(builtins.context.assets_dir)
    search_engine.load()
    return search_engine
