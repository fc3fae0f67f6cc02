"""The shipped corpus: row format, index encoding, and agreement between the text and its index."""

from __future__ import annotations

import numpy as np

from arena.providers.builtin.corpus import decode_index, encode_index, format_row, indexed_text, parse_row
from arena.providers.builtin.search_engine import CorpusSearchEngine
from arena.providers.builtin.textproc import index_terms


def test_row_round_trip_splits_definition_and_examples() -> None:
    line = format_row("00001-n", [("cat", 1), ("true cat", 2)], "00002-n", 'a small feline; "the cat sat"; "a cat"')
    entry = parse_row(line)
    assert entry.lemmas == ("cat", "true cat")
    assert entry.senses == (1, 2)
    assert entry.definition == "a small feline"
    assert entry.examples == ("the cat sat", "a cat")
    assert entry.pos == "noun"
    assert entry.url == "/corpus/wordnet/00001-n"
    assert entry.sense_of("True Cat") == 2


def test_index_encoding_round_trips_including_empty_rows() -> None:
    docs = [{0: 2, 5: 1}, {}, {3: 1, 1: 4, 7: 300}]
    index = decode_index(encode_index(docs, ["a", "b", "c", "d", "e", "f", "g", "h"]))
    assert index.n_docs == 3
    rows = [
        dict(
            zip(
                index.terms[index.starts[r] : index.starts[r + 1]].tolist(),
                index.tf[index.starts[r] : index.starts[r + 1]].tolist(),
                strict=True,
            )
        )
        for r in range(3)
    ]
    assert rows == [{0: 2, 5: 1}, {}, {1: 4, 3: 1, 7: 255}]
    assert index.vocab["h"] == 7


def test_shipped_index_matches_shipped_text(engine: CorpusSearchEngine) -> None:
    corpus = engine.corpus
    assert len(corpus.rows) > 100_000
    words = {i: w for w, i in corpus.index.vocab.items()}
    for row in np.random.default_rng(0).choice(len(corpus.rows), 50, replace=False):
        lo, hi = corpus.index.starts[row], corpus.index.starts[row + 1]
        stored = {words[int(t)]: int(n) for t, n in zip(corpus.index.terms[lo:hi], corpus.index.tf[lo:hi], strict=True)}
        expected: dict[str, int] = {}
        for term in index_terms(indexed_text(corpus.rows[row])):
            expected[term] = expected.get(term, 0) + 1
        assert stored == {t: min(n, 255) for t, n in expected.items()}


def test_lookup_by_synset_id(engine: CorpusSearchEngine) -> None:
    entry = engine.lookup("13537429-n")
    assert entry is not None and entry.headword == "photosynthesis"
    assert engine.lookup("99999999-n") is None
