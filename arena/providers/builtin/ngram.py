"""Built-in n-gram babbler: a keyword-conditioned trigram Markov model over WordNet definitions and examples.

For each prompt it retrieves the glosses about the prompt's keywords and builds three trigram models: the
top hits (local), a wider neighbourhood of hits, and a general sample of the corpus (built once per instance);
it backs off from one to the next. It then random-walks sentences about the topic's headwords, favouring
topic words. The text is fluent in patches and often wrong:
an honest n-gram baseline, deterministic given (conversation, seed).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from arena.domain import Capabilities, GenerationRequest
from arena.providers.builtin.corpus import Entry, parse_row
from arena.providers.builtin.search_engine import CorpusSearchEngine
from arena.providers.builtin.seeding import request_rng
from arena.providers.builtin.textproc import conversation_topic, topic_query
from arena.providers.builtin.textstream import StreamingTextProvider

BOS, EXAMPLE, EOS = "<s>", "<e>", "</s>"
GENERAL_STRIDE = 60
NEIGHBOURHOOD_DOCS = 300
LOCAL_SHARE = 0.85
TOPIC_BOOST = 3.0
MAX_SENTENCE = 26
LOCAL_DOCS = 40
SUBJECT_POOL = 8
_PAREN = re.compile(r"\([^()]*\)")
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9'\-]*|,")

Context = tuple[str, ...]


def gloss_sentences(entry: Entry) -> list[list[str]]:
    """The definition and examples of an entry as token lists (parentheses dropped, `;` and `:` split).

    Examples start with their own marker so that they never supply the first word after 'X is'.
    """
    clauses = _PAREN.sub(" ", entry.definition).replace(":", ";").split(";")
    tokenized = [_TOKEN.findall(c) for c in clauses]
    tokenized += [[EXAMPLE, *_TOKEN.findall(_lower_first(e))] for e in entry.examples]
    return [t for t in tokenized if len(t) >= 2]


def _lower_first(sentence: str) -> str:
    """Examples are whole sentences; in a generated clause their first word is mid-sentence."""
    return sentence if sentence.startswith("I ") else sentence[:1].lower() + sentence[1:]


@dataclass(frozen=True)
class Counts:
    """Trigram and bigram continuation counts."""

    tri: dict[Context, Counter[str]]
    bi: dict[Context, Counter[str]]

    @classmethod
    def build(cls, sentences: Iterable[list[str]]) -> Counts:
        """Count continuations with sentence-boundary padding."""
        tri: dict[Context, Counter[str]] = {}
        bi: dict[Context, Counter[str]] = {}
        for sentence in sentences:
            padded = [BOS, BOS, *sentence, EOS]
            for a, b, c in zip(padded, padded[1:], padded[2:], strict=False):
                tri.setdefault((a, b), Counter())[c] += 1
                bi.setdefault((b,), Counter())[c] += 1
        return cls(tri, bi)

    def table(self, key: Context) -> dict[Context, Counter[str]]:
        """The trigram table for a two-word context, the bigram table for a one-word context."""
        return self.tri if len(key) == 2 else self.bi


@dataclass(frozen=True)
class NgramModel:
    """The search engine (to find topic glosses) and the counts of a general sample of the corpus."""

    engine: CorpusSearchEngine
    general: Counts


class TopicWalker:
    """Samples words from a stack of models (most specific first), boosting topic words."""

    def __init__(self, levels: list[Counts], topic: set[str], rng: np.random.Generator) -> None:
        self.levels, self.topic, self.rng = levels, topic, rng

    def next_word(self, a: str, b: str) -> str:
        """Draw the word after (a, b): trigrams before bigrams; at each, a level that knows the context is used
        with probability LOCAL_SHARE before falling through to the next, more general one."""
        for key in ((a, b), (b,)):
            known = [options for level in self.levels if (options := level.table(key).get(key))]
            for options in known[:-1]:
                if self.rng.random() < LOCAL_SHARE:
                    return self._draw(options)
            if known:
                return self._draw(known[-1])
        return EOS

    def _draw(self, options: Counter[str]) -> str:
        words = sorted(w for w in options if w != EXAMPLE)
        weights = np.array([options[w] * (TOPIC_BOOST if w.lower() in self.topic else 1.0) for w in words])
        return words[int(self.rng.choice(len(words), p=weights / weights.sum()))]

    def sentence(self, first: str | None) -> Iterator[str]:
        """Words of one sentence (without its opening template), starting from `first` when given."""
        a, b = BOS, BOS
        for step in range(MAX_SENTENCE):
            word = first if step == 0 and first else self.next_word(a, b)
            if word == EOS:
                return
            yield word
            a, b = b, word


def opening(entry: Entry) -> str:
    """How a sentence about an entry begins: 'Lava is', 'To bank is to', 'Azure means'."""
    head = entry.headword[:1].upper() + entry.headword[1:]
    if entry.pos == "verb":
        return f"To {entry.headword} is to"
    if entry.pos == "noun":
        return f"{head} is"
    return f"{head} means"


class NgramProvider(StreamingTextProvider[NgramModel]):
    """Keyword-conditioned trigram text over WordNet glosses (see docs/builtin-models.md)."""

    option_names: ClassVar[frozenset[str]] = frozenset({"sentences"})
    default_capabilities: ClassVar[Capabilities] = Capabilities(streaming=True, multi_turn=True)

    def _load(self) -> NgramModel:
        engine = CorpusSearchEngine(self.context.assets_dir)
        corpus = engine.corpus
        sample = (parse_row(corpus.rows[r]) for r in range(0, len(corpus.rows), GENERAL_STRIDE))
        return NgramModel(engine, Counts.build(s for entry in sample for s in gloss_sentences(entry)))

    def _pieces(self, model: NgramModel, request: GenerationRequest) -> Iterator[str]:
        rng = request_rng(request, "ngram")
        topic = conversation_topic(request.messages)
        wide = model.engine.search_hits(topic_query(request.messages), NEIGHBOURHOOD_DOCS) if topic else []
        if not wide:
            wide = model.engine.search_hits("word language meaning", LOCAL_DOCS)
            wide = wide[int(rng.integers(len(wide))) :]
        hits = wide[:LOCAL_DOCS]
        levels = [
            Counts.build(s for h in hits for s in gloss_sentences(h.entry)),
            Counts.build(s for h in wide[LOCAL_DOCS:] for s in gloss_sentences(h.entry)),
            model.general,
        ]
        walker = TopicWalker(levels, {w.lower() for w in topic}, rng)
        n_sentences = int(self.options.get("sentences", 3)) + int(rng.integers(0, 2))
        others = hits[1:SUBJECT_POOL]
        picks: list[int] = rng.permutation(len(others))[: n_sentences - 1].tolist() if others else []
        subjects = [hits[0].entry, *(others[int(i)].entry for i in picks)]
        lead = ""
        for entry in subjects:
            own = gloss_sentences(entry)
            start = own[0][0] if own and rng.random() < 0.7 else None
            pending: str | None = None
            for word in (*opening(entry).split(), *walker.sentence(start)):
                if pending is not None:
                    yield lead + pending
                    lead = " "
                pending = word
            if pending is not None:
                yield f"{lead}{pending.rstrip(',')}."
                lead = " "
