"""Built-in retrieval answerer: answers by quoting and assembling the best-matching WordNet entries.

It never invents text: every definition, example and relation comes from the shipped corpus, arranged as a
small dictionary article (main entry, what it is a kind of, other senses, related entries). In a conversation
it reads follow-ups against the previous topic and skips entries it has already quoted.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import ClassVar

from arena.domain import Capabilities, GenerationRequest
from arena.providers.builtin.corpus import Entry
from arena.providers.builtin.search_engine import CorpusSearchEngine, Hit, query_phrases
from arena.providers.builtin.textproc import conversation_topic, topic_query
from arena.providers.builtin.textstream import StreamingTextProvider

CANDIDATES = 12


def paragraph(text: str, prefix: str) -> Iterator[str]:
    """Stream one paragraph word by word, the first word carrying `prefix` (newline, bullet, or nothing)."""
    for i, word in enumerate(text.split()):
        yield (prefix + word) if i == 0 else " " + word


def describe(entry: Entry, name: str) -> str:
    """`Name (pos): definition.` with the first letter capitalised."""
    return f"**{name[:1].upper() + name[1:]}** ({entry.pos}): {entry.definition.rstrip('.')}."


def already_said(entry: Entry, previous_answers: Sequence[str]) -> bool:
    """True when an earlier assistant turn already quoted this entry's definition."""
    return any(entry.definition in answer for answer in previous_answers)


class RetrievalProvider(StreamingTextProvider[CorpusSearchEngine]):
    """Dictionary-style answers quoted from WordNet 3.0 (see docs/builtin-models.md)."""

    option_names: ClassVar[frozenset[str]] = frozenset({"related"})
    default_capabilities: ClassVar[Capabilities] = Capabilities(streaming=True, multi_turn=True)

    def _load(self) -> CorpusSearchEngine:
        engine = CorpusSearchEngine(self.context.assets_dir)
        engine.load()
        return engine

    def _pieces(self, model: CorpusSearchEngine, request: GenerationRequest) -> Iterator[str]:
        topic = conversation_topic(request.messages)
        query = topic_query(request.messages)
        previous = [m.content for m in request.messages if m.role == "assistant"]
        hits = [h for h in model.search_hits(query, CANDIDATES) if not already_said(h.entry, previous)] if topic else []
        if not hits:
            subject = f'"{" ".join(topic)}"' if topic else "that"
            yield from paragraph(
                f"I could not find anything about {subject} in my offline reference (WordNet 3.0). "
                "Try asking about a single word or a common concept.",
                "",
            )
            return
        yield from self._article(model, hits, topic, query_phrases(query))

    def _article(
        self, model: CorpusSearchEngine, hits: list[Hit], topic: list[str], phrases: frozenset[str]
    ) -> Iterator[str]:
        main = hits[0].entry
        name = main.name_for(phrases)
        yield from paragraph(describe(main, name), "")
        if main.hypernym_id:
            parent = model.lookup(main.hypernym_id)
            if parent is not None:
                yield from paragraph(f"It is a kind of {parent.headword}.", " ")
        if main.examples:
            yield from paragraph(f'Example: "{main.examples[0]}".', " ")
        senses = [h.entry for h in hits[1:] if h.entry.sense_of(name) is not None][:3]
        if senses:
            yield from paragraph(f"Other senses of *{name}*:", "\n\n")
            for entry in senses:
                yield from paragraph(f"({entry.pos}) {entry.definition.rstrip('.')}", "\n- ")
        limit = int(self.options.get("related", 3))
        related = [h.entry for h in hits[1:] if h.entry.sense_of(name) is None][:limit]
        if related:
            yield from paragraph("Related entries:", "\n\n")
            for entry in related:
                yield from paragraph(f"*{entry.name_for(phrases)}* — {entry.definition.rstrip('.')}", "\n- ")
        yield from paragraph(f"(Quoted from WordNet 3.0 for: {', '.join(topic)}.)", "\n\n")
