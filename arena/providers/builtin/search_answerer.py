"""Built-in search answerers: query the offline corpus, then answer with numbered citations [n].

Two qualities from one class (option `quality`):
  careful  several queries (the topic, each keyword, the previous topic on follow-ups), hits pooled and
           re-ranked by agreement and keyword coverage, up to four cited sources;
  hasty    one raw query with plain BM25 (no re-ranking, no conversation), the top hit, one terse sentence.
Chunks: a SearchTrace per query as it completes, the answer word by word, CitationChunks in number
order, then Finish.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import ClassVar

from arena.domain import (
    Capabilities,
    Chunk,
    CitationChunk,
    Finish,
    GenerationRequest,
    ModelSpec,
    SearchTrace,
    TextDelta,
)
from arena.errors import ConfigError
from arena.providers.base import Provider, ProviderContext
from arena.providers.builtin.corpus import Entry
from arena.providers.builtin.search_engine import CorpusSearchEngine, Hit, entry_citation, query_phrases
from arena.providers.builtin.textproc import conversation_topic, count_words, index_terms, topic_query
from arena.providers.builtin.textstream import LazyModel

QUALITIES = ("careful", "hasty")
PER_QUERY = 8
MAX_SOURCES = 4
MAX_PER_HEADWORD = 2
COVERAGE_WEIGHT = 1.0
RELATIVE_FLOOR = 0.45
NO_MATCH = "No entry in the offline reference (WordNet 3.0) matches this question."


@dataclass(frozen=True)
class Plan:
    """The searches an answerer will run, each with the weight its hits get when pooled."""

    queries: tuple[tuple[str, float], ...]


def careful_plan(request: GenerationRequest) -> Plan:
    """The whole topic first, then each of its first three keywords on its own when there are several."""
    topic = conversation_topic(request.messages)
    if not topic:
        return Plan(((request.prompt, 1.0),) if request.prompt.strip() else ())
    queries = [(topic_query(request.messages), 1.0)]
    if len(topic) > 1:
        queries += [(word, 0.3) for word in topic[:3]]
    return Plan(tuple(queries))


def coverage(entry: Entry, topic_terms: set[str]) -> float:
    """Share of the topic's terms that the entry's words and definition mention."""
    if not topic_terms:
        return 0.0
    terms = set(index_terms(" ".join(entry.lemmas) + " " + entry.definition))
    return len(terms & topic_terms) / len(topic_terms)


def _pooled_score(hit_and_total: tuple[Hit, float], topic_terms: set[str]) -> float:
    hit, total = hit_and_total
    return total + COVERAGE_WEIGHT * coverage(hit.entry, topic_terms)


def rerank(pooled: dict[int, tuple[Hit, float]], topic_terms: set[str]) -> list[Entry]:
    """Order pooled hits by (summed weighted score + coverage bonus), at most two entries per headword."""
    scored = sorted(
        pooled.values(),
        key=lambda hs: (-(hs[1] + COVERAGE_WEIGHT * coverage(hs[0].entry, topic_terms)), hs[0].row),
    )
    chosen: list[Entry] = []
    per_head: dict[str, int] = {}
    best = _pooled_score(scored[0], topic_terms) if scored else 0.0
    for hit, total in scored:
        if _pooled_score((hit, total), topic_terms) < RELATIVE_FLOOR * best:
            break
        head = hit.entry.headword.lower()
        if per_head.get(head, 0) < MAX_PER_HEADWORD:
            chosen.append(hit.entry)
            per_head[head] = per_head.get(head, 0) + 1
        if len(chosen) == MAX_SOURCES:
            break
    return chosen


def words_of(text: str, lead: str) -> Iterator[str]:
    """Stream a paragraph word by word; the first word carries `lead`."""
    for i, word in enumerate(text.split()):
        yield (lead + word) if i == 0 else " " + word


def careful_answer(entries: list[Entry], phrases: frozenset[str]) -> Iterator[str]:
    """A lead definition and the supporting entries, each sentence ending with its citation marker."""
    main = entries[0]
    name = main.name_for(phrases)
    head = name[:1].upper() + name[1:]
    yield from words_of(f"**{head}** ({main.pos}): {main.definition.rstrip('.')} [1].", "")
    if main.examples:
        yield from words_of(f'As in: "{main.examples[0]}" [1].', " ")
    if len(entries) > 1:
        yield from words_of("Related sources:", "\n\n")
        for n, entry in enumerate(entries[1:], start=2):
            name = entry.name_for(phrases)
            yield from words_of(f"*{name}* ({entry.pos}) — {entry.definition.rstrip('.')} [{n}].", "\n- ")


def hasty_answer(entry: Entry) -> Iterator[str]:
    """One terse sentence from the top hit."""
    yield from words_of(f"{entry.headword}: {entry.definition.rstrip('.')} [1].", "")


class BuiltinSearchProvider(Provider):
    """Offline search-augmented answers over WordNet 3.0 with numbered citations (docs/builtin-models.md)."""

    option_names: ClassVar[frozenset[str]] = frozenset({"quality"})
    default_capabilities: ClassVar[Capabilities] = Capabilities(streaming=True, multi_turn=True)

    def __init__(self, spec: ModelSpec, context: ProviderContext) -> None:
        super().__init__(spec, context)
        self.quality = str(self.options.get("quality", "careful"))
        if self.quality not in QUALITIES:
            raise ConfigError(f"model {spec.name!r}: option quality must be one of {QUALITIES}, not {self.quality!r}")
        self._engine: LazyModel[CorpusSearchEngine] = LazyModel()

    def engine(self) -> CorpusSearchEngine:
        """The search engine (its index is built on first use)."""
        return self._engine.get(self._build_engine)

    def _build_engine(self) -> CorpusSearchEngine:
        engine = CorpusSearchEngine(self.context.assets_dir)
        engine.load()
        return engine

    async def generate(self, request: GenerationRequest) -> AsyncIterator[Chunk]:
        """Search (tracing each query), stream the cited answer, then the citations and Finish."""
        engine = await asyncio.to_thread(self.engine)
        if self.quality == "hasty":
            hits = await asyncio.to_thread(engine.search_hits, request.prompt, 1, rerank=False)
            yield SearchTrace(request.prompt, len(hits))
            entries = [h.entry for h in hits]
            pieces = hasty_answer(entries[0]) if entries else words_of(NO_MATCH, "")
        else:
            pooled: dict[int, tuple[Hit, float]] = {}
            for query, weight in careful_plan(request).queries:
                hits = await asyncio.to_thread(engine.search_hits, query, PER_QUERY)
                yield SearchTrace(query, len(hits))
                for hit in hits:
                    earlier = pooled.get(hit.row)
                    pooled[hit.row] = (hit, (earlier[1] if earlier else 0.0) + weight * hit.score)
            topic_terms = set(index_terms(" ".join(conversation_topic(request.messages))))
            entries = rerank(pooled, topic_terms)
            phrases = query_phrases(topic_query(request.messages))
            pieces = careful_answer(entries, phrases) if entries else words_of(NO_MATCH, "")
        produced = 0
        for produced, piece in enumerate(pieces, start=1):  # noqa: B007 - the last count is the total
            yield TextDelta(piece)
        for entry in entries:
            yield CitationChunk(entry_citation(entry))
        yield Finish("stop", prompt_tokens=count_words(request.messages), completion_tokens=produced)
