"""Search-augmented answering by composition: a retriever finds sources, any chat provider writes the answer.

The chat model sees the sources numbered [1]..[k] and is asked to cite them as [n]. Its markers are
renumbered while the text streams, in order of first use, so the answer's [1] is always the first
CitationChunk yielded, [2] the second, and so on; sources the answer never cites are not yielded.
Markers outside 1..k (a hallucinated source, or code such as `a[10]`) are left as they are.

Configuration (catalogue options):
    chat       table: {provider = "<chat provider type>", options = {...}}, built via the registry
    retriever  "builtin" (the offline WordNet engine) or "package.module:factory",
               where factory(context) returns a Retriever
    k          number of sources retrieved (default 5)
"""

from __future__ import annotations

import importlib
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from types import MappingProxyType
from typing import ClassVar, Protocol, runtime_checkable

from arena.domain import (
    Capabilities,
    Chunk,
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
from arena.providers.base import Provider, ProviderContext
from arena.providers.http_common import int_option, mapping_option, str_option
from arena.providers.registry import build_provider

RETRIEVER_FACTORIES: Mapping[str, str] = MappingProxyType(
    {"builtin": "arena.providers.search:builtin_retriever"}
)
SNIPPET_CHARS = 800
PROMPT_HEAD = (
    "Answer the user's question using the numbered search results below. Cite the results you use by "
    "their number in square brackets, like [1] or [2, 3], right after the statement they support. Never "
    "cite a number that is not listed. If the results do not answer the question, say so briefly.\n\n"
    "Search results:\n"
)
_MARKER = re.compile(r"\[(\d{1,4}(?:\s*,\s*\d{1,4})*)\]")
_OPEN_MARKER = re.compile(r"\[[\d,\s]{0,24}$")


@runtime_checkable
class Retriever(Protocol):
    """Finds up to k sources for a query (an offline index, a web search API, ...)."""

    async def search(self, query: str, k: int) -> list[Citation]:
        """The best sources for `query`, best first, at most `k`."""
        ...


class CitationRenumberer:
    """Rewrites [n] markers in streamed text to order-of-first-use numbers; one per answer.

    Text that may be the start of a marker split across deltas (e.g. "[1, ") is held back until the
    next delta or `flush`.
    """

    def __init__(self, sources: Sequence[Citation]) -> None:
        self.sources = sources
        self.numbers: dict[int, int] = {}
        self.pending = ""

    def feed(self, text: str) -> tuple[str, list[Citation]]:
        """Text safe to show now, and the sources it cites for the first time."""
        buffer = self.pending + text
        match = _OPEN_MARKER.search(buffer)
        cut = match.start() if match else len(buffer)
        self.pending = buffer[cut:]
        return self._rewrite(buffer[:cut])

    def flush(self) -> tuple[str, list[Citation]]:
        """Whatever was held back, at the end of the answer."""
        buffer, self.pending = self.pending, ""
        return self._rewrite(buffer)

    def _rewrite(self, text: str) -> tuple[str, list[Citation]]:
        first_cited: list[Citation] = []

        def renumber(match: re.Match[str]) -> str:
            cited = [int(number) for number in match.group(1).split(",")]
            if not all(1 <= number <= len(self.sources) for number in cited):
                return match.group(0)
            for number in cited:
                if number not in self.numbers:
                    self.numbers[number] = len(self.numbers) + 1
                    first_cited.append(self.sources[number - 1])
            return "[" + ", ".join(str(self.numbers[number]) for number in cited) + "]"

        return _MARKER.sub(renumber, text), first_cited


def sources_prompt(sources: Sequence[Citation]) -> str:
    """The system message listing the sources as [1]..[k]."""
    if not sources:
        return PROMPT_HEAD + "(no results)\n"
    lines = []
    for number, source in enumerate(sources, start=1):
        snippet = " ".join(source.snippet.split())[:SNIPPET_CHARS]
        lines.append(f"[{number}] {source.title or source.url}\n{source.url}\n{snippet}".rstrip())
    return PROMPT_HEAD + "\n\n".join(lines) + "\n"


def builtin_retriever(context: ProviderContext) -> Retriever:
    """The offline WordNet engine over the shipped corpus (imported here so that it loads only when used)."""
    from arena.providers.builtin.search_engine import CorpusSearchEngine

    return CorpusSearchEngine(context.assets_dir)


def load_retriever(name: str, context: ProviderContext) -> Retriever:
    """Build the retriever named in the catalogue: a known name or a "package.module:factory" path."""
    path = RETRIEVER_FACTORIES.get(name) or (name if ":" in name else None)
    if path is None:
        raise ConfigError(
            f"unknown retriever {name!r}; use one of {sorted(RETRIEVER_FACTORIES)} "
            "or 'package.module:factory'"
        )
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"retriever {name!r}: cannot import {module_name!r} ({exc})") from exc
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise ConfigError(f"retriever {name!r}: {path!r} is not a callable factory(context) -> Retriever")
    retriever = factory(context)
    if not isinstance(retriever, Retriever):
        raise ConfigError(
            f"retriever {name!r}: {path!r} returned an object without an async search(query, k)"
        )
    return retriever


class ComposedSearchProvider(Provider):
    """A retriever plus a chat provider, answering with numbered citations."""

    option_names: ClassVar[frozenset[str]] = frozenset({"chat", "retriever", "k"})
    required_options: ClassVar[frozenset[str]] = frozenset({"chat"})
    default_capabilities: ClassVar[Capabilities] = Capabilities(streaming=True, multi_turn=True)

    def __init__(self, spec: ModelSpec, context: ProviderContext, retriever: Retriever | None = None) -> None:
        super().__init__(spec, context)
        self.k = int_option(spec, "k", 5, low=1, high=50) or 5
        self.chat = build_provider(self._chat_spec(spec), context)
        name = str_option(spec, "retriever", "builtin") or "builtin"
        self.retriever = retriever if retriever is not None else load_retriever(name, context)

    @staticmethod
    def _chat_spec(spec: ModelSpec) -> ModelSpec:
        """The inner chat model's catalogue entry, from the `chat` table."""
        chat = mapping_option(spec, "chat")
        unknown = set(chat) - {"provider", "options"}
        provider = chat.get("provider")
        options = chat.get("options", {})
        if unknown or not isinstance(provider, str) or not isinstance(options, Mapping):
            raise ConfigError(
                f"model {spec.name!r}: option 'chat' must be a table {{provider = \"openai_chat\", "
                f"options = {{...}}}}; got keys {sorted(chat)}"
            )
        if provider == "search_compose":
            raise ConfigError(f"model {spec.name!r}: the inner chat provider cannot itself be search_compose")
        return ModelSpec(name=f"{spec.name}/chat", modality=Modality.TEXT, provider=provider, options=options)

    async def _retrieve(self, query: str) -> list[Citation]:
        sources = list(await self.retriever.search(query, self.k))[: self.k]
        if not all(isinstance(source, Citation) for source in sources):
            raise ProviderError(
                ErrorCode.INTERNAL,
                f"model {self.spec.name!r}: the retriever returned something other than Citations",
            )
        return sources

    async def generate(self, request: GenerationRequest) -> AsyncIterator[Chunk]:
        """Yield a SearchTrace, then the chat model's text with CitationChunks at first use, then Finish."""
        query = request.prompt.strip()
        if not query:
            raise ProviderError(
                ErrorCode.BAD_REQUEST, f"model {self.spec.name!r}: the request has no user prompt"
            )
        sources = await self._retrieve(query)
        yield SearchTrace(query=query, results=len(sources))
        inner = GenerationRequest(
            messages=(Message(role="system", content=sources_prompt(sources)), *request.messages),
            modality=Modality.TEXT,
            seed=request.seed,
        )
        renumberer = CitationRenumberer(sources)
        finish = Finish()
        async for chunk in self.chat.generate(inner):
            if isinstance(chunk, TextDelta):
                for out in self._rewritten(*renumberer.feed(chunk.text)):
                    yield out
            elif isinstance(chunk, Finish):
                finish = chunk
        for out in self._rewritten(*renumberer.flush()):
            yield out
        yield finish

    @staticmethod
    def _rewritten(text: str, cited: list[Citation]) -> list[Chunk]:
        chunks: list[Chunk] = [CitationChunk(citation) for citation in cited]
        if text:
            chunks.append(TextDelta(text))
        return chunks

    async def aclose(self) -> None:
        """Close the inner chat provider (the retriever owns nothing that needs closing here)."""
        await self.chat.aclose()
