"""Prompt analysis: stems, keywords, follow-ups, and the search query for a turn."""

from __future__ import annotations

from arena.domain import Message
from arena.providers.builtin.textproc import conversation_topic, index_terms, is_follow_up, keywords, stem, topic_query


def test_stem_folds_plurals_only() -> None:
    assert [stem(w) for w in ("cats", "berries", "boxes", "glass", "photosynthesis", "running")] == [
        "cat",
        "berry",
        "box",
        "glass",
        "photosynthesis",
        "running",
    ]


def test_keywords_drop_question_and_request_words() -> None:
    assert keywords("Can you please tell me what a black hole is?") == ["black", "hole"]
    assert index_terms("The cats and the dogs") == ["cat", "dog"]


def test_follow_up_adds_the_previous_topic() -> None:
    turns = [Message("user", "what is a volcano"), Message("assistant", "..."), Message("user", "and its lava?")]
    assert is_follow_up("and its lava?")
    assert conversation_topic(turns) == ["lava", "volcano"]
    assert topic_query(turns) == "and its lava? volcano"


def test_new_topic_is_not_mixed_with_the_old_one() -> None:
    turns = [
        Message("user", "what is a volcano"),
        Message("assistant", "..."),
        Message("user", "define photosynthesis in plants"),
    ]
    assert conversation_topic(turns) == ["photosynthesis", "plants"]
