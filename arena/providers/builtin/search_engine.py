"""Offline search engine over the shipped WordNet corpus: BM25 plus a headword bonus, returning Citations.

`CorpusSearchEngine` is what the built-in answerers use, and it also fits the composition provider's Retriever
role (`async search(query, k) -> list[Citation]`). Citation URLs are app-local
(`/corpus/wordnet/<synset-id>`): stable, real-looking, and never sending a voter's browser to the internet.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from arena.domain import Citation
from arena.providers.builtin.corpus import Corpus, Entry, load_corpus
from arena.providers.builtin.textproc import REQUEST_WORDS, STOPWORDS, index_terms, stem, tokens

K1 = 1.2
B = 0.75
CANDIDATES = 60
REQUEST_STEMS = frozenset(stem(w) for w in REQUEST_WORDS)
HEADWORD_BONUS = 0.8
NOUN_BONUS = 0.15


@dataclass(frozen=True)
class Hit:
    """One ranked search result."""

    row: int
    score: float
    entry: Entry

    def citation(self) -> Citation:
        """The result as a Citation."""
        return entry_citation(self.entry)


def entry_citation(entry: Entry) -> Citation:
    """An entry as a Citation: app-local URL, `lemma (pos)` title, definition (and an example) as snippet."""
    snippet = entry.definition
    if entry.examples:
        snippet += f' (e.g. "{entry.examples[0]}")'
    return Citation(url=entry.url, title=entry.title, snippet=snippet)


@dataclass(frozen=True)
class _Index:
    """BM25 weights (rows x terms, column-major for fast term lookups)."""

    corpus: Corpus
    weights: sp.csc_matrix


def topic_phrase(query: str) -> str:
    """The query without stopwords and request words, e.g. 'what is a black hole?' -> 'black hole'."""
    return " ".join(w for w in tokens(query) if w not in STOPWORDS and w not in REQUEST_WORDS)


def _is_content(word: str) -> bool:
    return word not in STOPWORDS and word not in REQUEST_WORDS


def sub_phrases(query: str, longest: int = 5) -> list[tuple[str, int]]:
    """Runs of up to `longest` query words that start and end with a content word, with their content-word
    counts: 'what is the speed of light' -> ('speed of light', 2), ('speed', 1), ('light', 1)."""
    words = tokens(query)
    runs = []
    for n in range(min(longest, len(words)), 0, -1):
        for i in range(len(words) - n + 1):
            run = words[i : i + n]
            if _is_content(run[0]) and _is_content(run[-1]):
                runs.append((" ".join(run), sum(map(_is_content, run))))
    return runs


def query_phrases(query: str) -> frozenset[str]:
    """The lower-case phrases of a query that could name an entry (for Entry.name_for)."""
    return frozenset(phrase for phrase, _ in sub_phrases(query))


def headword_bonus(entry: Entry, phrases: list[tuple[str, int]], n_content: int) -> float:
    """Bonus for an entry named by a query phrase: more for frequent senses, nouns, and phrases that cover
    more of the query (quadratically, so one word of a longer question earns little)."""
    best = 0.0
    for phrase, content in phrases:
        sense = entry.sense_of(phrase) or entry.sense_of(" ".join(stem(w) for w in phrase.split()))
        if sense is not None:
            bonus = HEADWORD_BONUS / sense**0.5 + (NOUN_BONUS if entry.pos == "noun" else 0.0)
            best = max(best, bonus * (content / max(n_content, 1)) ** 2)
    return best


def lemma_names(row: str) -> set[str]:
    """The lower-case lemmas of a corpus row, read without parsing the whole row."""
    return {item.rpartition(":")[0].lower() for item in row.split("\t", 2)[1].split("|")}


def _bm25_weights(corpus: Corpus) -> sp.csc_matrix:
    index = corpus.index
    lengths = np.diff(index.starts)
    rows = np.repeat(np.arange(index.n_docs), lengths)
    tf = index.tf.astype(np.float32)
    doc_len = np.bincount(rows, weights=tf, minlength=index.n_docs).astype(np.float32)
    df = np.bincount(index.terms, minlength=len(index.vocab)).astype(np.float32)
    idf = np.log1p((index.n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
    norm = K1 * (1.0 - B + B * doc_len / float(doc_len.mean()))
    data = idf[index.terms] * tf * (K1 + 1.0) / (tf + norm[rows])
    matrix = sp.csr_matrix((data, index.terms, index.starts), shape=(index.n_docs, len(index.vocab)))
    return matrix.tocsc()


class CorpusSearchEngine:
    """BM25 search over the shipped corpus; the index is built lazily, once, on first use (thread-safe)."""

    def __init__(self, assets_dir: Path) -> None:
        self.assets_dir = assets_dir
        self._lock = threading.Lock()
        self._index: _Index | None = None

    def _loaded(self) -> _Index:
        with self._lock:
            if self._index is None:
                corpus = load_corpus(self.assets_dir)
                self._index = _Index(corpus, _bm25_weights(corpus))
            return self._index

    @property
    def corpus(self) -> Corpus:
        """The loaded corpus (loads it on first access)."""
        return self._loaded().corpus

    def load(self) -> None:
        """Load the corpus and build the index now instead of on the first query."""
        self._loaded()

    def bm25(self, query: str) -> np.ndarray:
        """BM25 score of every row for the query's terms (each distinct term counted once); request words
        ('tell', 'explain', 'define'...) are left out unless the query has nothing else."""
        index = self._loaded()
        vocab = index.corpus.index.vocab
        terms = index_terms(query)
        topical = [t for t in terms if t not in REQUEST_STEMS]
        term_ids = sorted({vocab[t] for t in (topical or terms) if t in vocab})
        scores = np.zeros(index.corpus.index.n_docs, dtype=np.float32)
        for term in term_ids:
            lo, hi = index.weights.indptr[term], index.weights.indptr[term + 1]
            scores[index.weights.indices[lo:hi]] += index.weights.data[lo:hi]
        return scores

    def headword_matches(self, phrase: str) -> tuple[int, ...]:
        """Rows with a lemma equal to `phrase` or its singular (case-insensitive): the rows that contain all
        of the phrase's index terms, checked against their lemma field."""
        index = self._loaded()
        vocab = index.corpus.index.vocab
        terms = index_terms(phrase)
        if not terms or any(t not in vocab for t in terms):
            return ()
        weights = index.weights
        columns = sorted((vocab[t] for t in set(terms)), key=lambda c: weights.indptr[c + 1] - weights.indptr[c])
        rows = weights.indices[weights.indptr[columns[0]] : weights.indptr[columns[0] + 1]]
        for column in columns[1:]:
            rows = np.intersect1d(rows, weights.indices[weights.indptr[column] : weights.indptr[column + 1]])
        wanted = {phrase.lower().strip(), " ".join(stem(w) for w in phrase.lower().split())}
        return tuple(int(r) for r in sorted(rows) if wanted & lemma_names(index.corpus.rows[r]))

    def search_hits(self, query: str, k: int, *, rerank: bool = True) -> list[Hit]:
        """Top-k hits: BM25 candidates plus exact headword matches, re-ranked with a sense-frequency bonus.

        With rerank=False it is plain BM25 (no headword matching), the cheaper and worse ranking.
        """
        index = self._loaded()
        scores = self.bm25(query)
        if not rerank:
            order = np.argsort(-scores, kind="stable")[:k]
            return [Hit(int(r), float(scores[r]), index.corpus.entry(int(r))) for r in order if scores[r] > 0]
        phrases = sub_phrases(query)
        n_content = max((content for _, content in phrases), default=0)
        top = float(scores.max()) if scores.size else 0.0
        n_cand = min(max(CANDIDATES, 2 * k), scores.size)
        candidates = set(np.argpartition(-scores, n_cand - 1)[:n_cand].tolist()) if top > 0 else set()
        for phrase, _ in phrases:
            candidates.update(self.headword_matches(phrase))
        ranked: list[Hit] = []
        for row in candidates:
            entry = index.corpus.entry(row)
            score = float(scores[row]) / top if top > 0 else 0.0
            score += headword_bonus(entry, phrases, n_content)
            if score > 0:
                ranked.append(Hit(row, score, entry))
        ranked.sort(key=lambda h: (-h.score, h.row))
        return ranked[:k]

    def search_sync(self, query: str, k: int) -> list[Citation]:
        """Top-k results as Citations (blocking; a query takes a few milliseconds once the index is built)."""
        return [hit.citation() for hit in self.search_hits(query, k)]

    async def search(self, query: str, k: int) -> list[Citation]:
        """Top-k results as Citations, computed in a worker thread so the event loop stays free."""
        return await asyncio.to_thread(self.search_sync, query, k)

    def lookup(self, synset_id: str) -> Entry | None:
        """The entry behind a citation URL's last segment (for serving `/corpus/wordnet/<synset-id>`)."""
        return self._loaded().corpus.lookup(synset_id)
