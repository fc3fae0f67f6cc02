"""The three built-in text models: streamed, deterministic, prompt-dependent, relevant, conversation-aware.

Each test runs against the real model with its shipped assets (corpus, index, transformer weights).
"""

from __future__ import annotations

from typing import Any

import pytest

from arena.domain import TextDelta

TEXT_MODELS = ("builtin_ngram", "builtin_retrieval", "builtin_transformer")


@pytest.mark.parametrize("model", TEXT_MODELS)
def test_streams_words_and_finishes_with_counts(builtins: Any, make_request: Any, model: str) -> None:
    result = builtins.run(model, make_request("what is photosynthesis"))
    assert len(result.deltas) >= 5
    assert all(isinstance(c, TextDelta) for c in result.chunks[:-1])
    assert result.finish.finish_reason == "stop"
    assert result.finish.completion_tokens == len(result.deltas)
    assert result.finish.prompt_tokens == 3
    assert result.text.strip() == result.text


@pytest.mark.parametrize("model", TEXT_MODELS)
def test_answer_mentions_the_topic(builtins: Any, make_request: Any, model: str) -> None:
    for prompt, word in (("what is photosynthesis", "photosynthesis"), ("tell me about volcanoes", "volcano")):
        assert word in builtins.run(model, make_request(prompt)).text.lower()


@pytest.mark.parametrize("model", TEXT_MODELS)
def test_deterministic_for_same_prompt_and_seed(builtins: Any, make_request: Any, model: str) -> None:
    first = builtins.run(model, make_request("explain the moon", seed=11))
    second = builtins.run(model, make_request("explain the moon", seed=11))
    assert first.deltas == second.deltas


@pytest.mark.parametrize("model", TEXT_MODELS)
def test_different_prompts_give_different_answers(builtins: Any, make_request: Any, model: str) -> None:
    answers = {builtins.run(model, make_request(p)).text for p in ("what is a cat", "what is music", "define gravity")}
    assert len(answers) == 3


@pytest.mark.parametrize("model", ("builtin_ngram", "builtin_transformer"))
def test_sampling_models_vary_with_the_seed(builtins: Any, make_request: Any, model: str) -> None:
    answers = {builtins.run(model, make_request("tell me about dogs", seed=s)).text for s in range(4)}
    assert len(answers) > 1


@pytest.mark.parametrize("model", TEXT_MODELS)
def test_follow_up_uses_the_previous_topic(builtins: Any, make_request: Any, model: str) -> None:
    first = builtins.run(model, make_request("what is a volcano")).text
    follow = builtins.run(model, make_request("what is a volcano", first, "and what about its lava?"))
    alone = builtins.run(model, make_request("and what about its lava?"))
    assert "lava" in follow.text.lower()
    assert follow.text != alone.text


def test_retrieval_quotes_wordnet_and_skips_what_it_already_said(builtins: Any, make_request: Any) -> None:
    first = builtins.run("builtin_retrieval", make_request("what is a bank"))
    assert "sloping land" in first.text
    again = builtins.run("builtin_retrieval", make_request("what is a bank", first.text, "what is a bank"))
    assert again.text.split("\n")[0] != first.text.split("\n")[0]


def test_retrieval_says_when_it_knows_nothing(builtins: Any, make_request: Any) -> None:
    result = builtins.run("builtin_retrieval", make_request("qwzxv plorbish"))
    assert "could not find" in result.text


def test_ngram_writes_sentences_about_the_topic(builtins: Any, make_request: Any) -> None:
    text = builtins.run("builtin_ngram", make_request("what is a violin")).text
    assert text.startswith("Violin is")
    assert text.endswith(".")
    assert text.count(".") >= 3


def test_transformer_is_small_and_prompt_conditioned(builtins: Any, make_request: Any) -> None:
    provider = builtins.provider("builtin_transformer")
    network = provider.model().network
    assert 250_000 <= network.parameter_count() <= 1_000_000
    answer = builtins.run("builtin_transformer", make_request("what is a horse")).text
    assert answer.lower().startswith("horse is")
