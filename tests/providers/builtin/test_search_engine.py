"""The offline search engine: relevant citations, app-local URLs, phrase matching, sync and async."""

from __future__ import annotations

import asyncio

from arena.providers.builtin.search_engine import CorpusSearchEngine, sub_phrases, topic_phrase


def test_photosynthesis_question_finds_photosynthesis(engine: CorpusSearchEngine) -> None:
    results = engine.search_sync("what is photosynthesis", 5)
    assert results[0].title == "photosynthesis (noun)"
    assert results[0].url.startswith("/corpus/wordnet/")
    assert "radiant energy" in results[0].snippet
    assert all("photosynthe" in (c.title + c.snippet).lower() for c in results)


def test_multiword_headwords_beat_their_parts(engine: CorpusSearchEngine) -> None:
    assert engine.search_sync("what is the speed of light?", 1)[0].title == "speed of light (noun)"
    assert engine.search_sync("how do black holes form", 1)[0].title == "black hole (noun)"
    assert engine.search_sync("the capital of France", 1)[0].title == "Paris (noun)"


def test_async_search_matches_sync(engine: CorpusSearchEngine) -> None:
    assert asyncio.run(engine.search("volcano eruption", 4)) == engine.search_sync("volcano eruption", 4)


def test_plain_bm25_ranks_differently_from_reranked(engine: CorpusSearchEngine) -> None:
    reranked = [h.entry.title for h in engine.search_hits("what is a bank", 3)]
    plain = [h.entry.title for h in engine.search_hits("what is a bank", 3, rerank=False)]
    assert reranked[0] == "bank (noun)"
    assert plain != reranked


def test_unknown_words_return_nothing(engine: CorpusSearchEngine) -> None:
    assert engine.search_sync("qwzxv plorb", 3) == []


def test_query_helpers() -> None:
    assert topic_phrase("What is a black hole?") == "black hole"
    assert ("speed of light", 2) in sub_phrases("what is the speed of light")
    assert ("of light", 1) not in sub_phrases("what is the speed of light")
