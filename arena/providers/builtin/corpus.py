"""The shipped WordNet gloss corpus: its row format, its term index, and loading both from the assets folder.

Rows are tab-separated `synset_id, lemmas, hypernym_id, gloss` (one synset a line, gzip-compressed); the index
is a bag of stemmed terms per row, stored as delta-coded term ids (see corpus_build.py, which writes both).
"""

from __future__ import annotations

import gzip
import io
import re
import zipfile
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from arena.errors import ConfigError

CORPUS_FILE = "wordnet_corpus.tsv.gz"
INDEX_FILE = "wordnet_index.npz.gz"
URL_PREFIX = "/corpus/wordnet/"

POS_NAMES = MappingProxyType({"n": "noun", "v": "verb", "a": "adjective", "s": "adjective", "r": "adverb"})
POS_ORDER = MappingProxyType({"n": 0, "v": 1, "a": 2, "r": 3})
_EXAMPLE = re.compile(r'"([^"]+)"')


@dataclass(frozen=True)
class Entry:
    """One WordNet synset: its words, its definition and its usage examples."""

    synset_id: str
    lemmas: tuple[str, ...]
    senses: tuple[int, ...]
    hypernym_id: str
    definition: str
    examples: tuple[str, ...]

    @property
    def pos(self) -> str:
        """Part of speech in words (noun, verb, adjective, adverb)."""
        return POS_NAMES[self.synset_id.rsplit("-", 1)[1]]

    @property
    def headword(self) -> str:
        """The synset's first lemma, the word it is filed under."""
        return self.lemmas[0]

    @property
    def title(self) -> str:
        """A citation title such as `photosynthesis (noun)`."""
        return f"{self.headword} ({self.pos})"

    @property
    def url(self) -> str:
        """The app-local URL of this entry: stable, offline-safe, and never pointing to the internet."""
        return URL_PREFIX + self.synset_id

    def name_for(self, phrases: Collection[str]) -> str:
        """The lemma a question asked about ('volcano' for the synset filed as 'vent, volcano'), else the
        headword; `phrases` are lower-case query phrases."""
        for lemma in self.lemmas:
            lowered = lemma.lower()
            if lowered in phrases or lowered + "s" in phrases:
                return lemma
        return self.headword

    def sense_of(self, lemma: str) -> int | None:
        """The WordNet sense number of `lemma` in this synset (1 = most frequent), if the lemma is here."""
        lowered = lemma.lower()
        for word, sense in zip(self.lemmas, self.senses, strict=True):
            if word.lower() == lowered:
                return sense
        return None


def synset_key(synset_id: str) -> int | None:
    """A sortable number for `<8-digit offset>-<pos>`: part of speech (n, v, a, r) first, then offset."""
    offset, _, pos = synset_id.partition("-")
    order = POS_ORDER.get(pos)
    if order is None or len(offset) != 8 or not offset.isdigit():
        return None
    return order * 100_000_000 + int(offset)


def format_row(synset_id: str, lemmas: Sequence[tuple[str, int]], hypernym_id: str, gloss: str) -> str:
    """Serialise one synset as a corpus line (the inverse of `parse_row`)."""
    lemma_field = "|".join(f"{word}:{sense}" for word, sense in lemmas)
    return "\t".join((synset_id, lemma_field, hypernym_id, gloss.replace("\t", " ").replace("\n", " ")))


def parse_row(line: str) -> Entry:
    """Parse one corpus line into an Entry, splitting the gloss into definition and quoted examples."""
    synset_id, lemma_field, hypernym_id, gloss = line.split("\t")
    words: list[str] = []
    senses: list[int] = []
    for item in lemma_field.split("|"):
        word, _, sense = item.rpartition(":")
        words.append(word)
        senses.append(int(sense))
    definition = gloss.split('; "', 1)[0].split(' "', 1)[0].strip().rstrip(";").strip()
    examples = tuple(m.strip() for m in _EXAMPLE.findall(gloss))
    return Entry(synset_id, tuple(words), tuple(senses), hypernym_id, definition, examples)


def indexed_text(line: str) -> str:
    """The text a row is indexed under: its lemmas twice (they name the topic), then the whole gloss."""
    _, lemma_field, _, gloss = line.split("\t")
    lemmas = " ".join(item.rpartition(":")[0] for item in lemma_field.split("|"))
    return f"{lemmas} {lemmas} {gloss}"


@dataclass(frozen=True)
class TermIndex:
    """Bag-of-terms index: for row r, terms[starts[r]:starts[r+1]] with counts tf[...] (sorted term ids)."""

    vocab: MappingProxyType[str, int]
    starts: np.ndarray
    terms: np.ndarray
    tf: np.ndarray

    @property
    def n_docs(self) -> int:
        """Number of indexed rows."""
        return int(self.starts.size - 1)


@dataclass(frozen=True)
class Corpus:
    """The loaded corpus: raw rows (parsed on demand), sorted numeric synset keys, and the term index."""

    rows: tuple[str, ...]
    keys: np.ndarray  # synset_key() of each row, ascending (rows are in pos order, offsets ascending)
    index: TermIndex

    def entry(self, row: int) -> Entry:
        """The parsed entry of one row."""
        return parse_row(self.rows[row])

    def lookup(self, synset_id: str) -> Entry | None:
        """The entry for a synset id such as `13440063-n` (what `/corpus/wordnet/<id>` names), or None."""
        key = synset_key(synset_id)
        if key is None:
            return None
        row = int(np.searchsorted(self.keys, key))
        return self.entry(row) if row < self.keys.size and self.keys[row] == key else None


def encode_index(doc_terms: Sequence[dict[int, int]], vocab: Sequence[str]) -> bytes:
    """Serialise per-row term counts (term ids ordered by document frequency) as gzip-compressed npz bytes."""
    lengths = np.array([len(d) for d in doc_terms], dtype=np.uint32)
    sorted_terms = [sorted(d.items()) for d in doc_terms]
    ids = np.array([t for d in sorted_terms for t, _ in d], dtype=np.int64)
    tf = np.array([min(c, 255) for d in sorted_terms for _, c in d], dtype=np.uint8)
    starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    delta = np.diff(ids, prepend=0)
    nonempty = lengths > 0
    delta[starts[:-1][nonempty]] = ids[starts[:-1][nonempty]]
    arrays: dict[str, np.ndarray] = {
        "lengths": lengths,
        "delta": delta.astype(np.uint32),
        "tf": tf,
        "vocab": np.frombuffer("\n".join(vocab).encode(), dtype=np.uint8),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:  # an .npz with fixed timestamps: rebuilds are byte-identical
        for name, array in arrays.items():
            with archive.open(zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0)), "w") as member:
                np.lib.format.write_array(member, array)
    return gzip.compress(buffer.getvalue(), compresslevel=9, mtime=0)


def decode_index(blob: bytes) -> TermIndex:
    """Inverse of `encode_index`: rebuild absolute term ids from the per-row deltas."""
    arrays: Any = np.load(io.BytesIO(gzip.decompress(blob)))
    lengths = arrays["lengths"].astype(np.int64)
    delta = arrays["delta"].astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)])
    running = np.cumsum(delta)
    row_base = np.repeat(running[starts[:-1][lengths > 0]] - delta[starts[:-1][lengths > 0]], lengths[lengths > 0])
    terms = running - row_base
    words = arrays["vocab"].tobytes().decode().split("\n")
    return TermIndex(
        vocab=MappingProxyType({w: i for i, w in enumerate(words)}),
        starts=starts,
        terms=terms,
        tf=arrays["tf"],
    )


def load_corpus(assets_dir: Path) -> Corpus:
    """Load the shipped corpus and index; raise ConfigError with a fix when the assets are missing or torn."""
    corpus_path, index_path = assets_dir / CORPUS_FILE, assets_dir / INDEX_FILE
    if not corpus_path.is_file() or not index_path.is_file():
        raise ConfigError(
            f"built-in corpus missing under {assets_dir}: expected {CORPUS_FILE} and {INDEX_FILE}; "
            "reinstall the package or rebuild them with `python -m arena.providers.builtin.corpus_build`"
        )
    rows = tuple(gzip.decompress(corpus_path.read_bytes()).decode().split("\n"))
    index = decode_index(index_path.read_bytes())
    if index.n_docs != len(rows):
        raise ConfigError(
            f"built-in corpus and index disagree ({len(rows)} rows vs {index.n_docs} indexed); "
            "rebuild them with `python -m arena.providers.builtin.corpus_build`"
        )
    keys = np.array([synset_key(line[:10]) or -1 for line in rows], dtype=np.int64)
    if np.any(np.diff(keys) <= 0):
        raise ConfigError("built-in corpus rows are not in synset order; rebuild them (see corpus_build.py)")
    return Corpus(rows=rows, keys=keys, index=index)
