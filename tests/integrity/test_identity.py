"""Identity-leak detection: AC-16, strict and contextual terms, modality lists, battle names, config."""

from __future__ import annotations

import re

import pytest

from arena.domain import Modality
from arena.errors import ConfigError
from arena.integrity.identity import IdentityLeakConfig, IdentityLeakDetector, LeakReason, term_pattern


@pytest.fixture(scope="module")
def detector() -> IdentityLeakDetector:
    return IdentityLeakDetector()


def test_ac16_self_naming_in_model_b(detector: IdentityLeakDetector) -> None:
    verdict = detector.check(
        "hey, who are you?", ["Sure, I can help.", "Hello! I'm Claude, an assistant made by Anthropic."]
    )
    assert verdict.leaked
    assert verdict.reason is LeakReason.OUTPUT_NAMES_MODEL
    assert {(m.where, m.term) for m in verdict.matches} == {("output:1", "Claude"), ("output:1", "Anthropic")}
    assert "output:1" in verdict.message


def test_ac16_same_in_model_a_and_case_insensitive(detector: IdentityLeakDetector) -> None:
    verdict = detector.check("hey, who are you?", ["HELLO! i'M CLAUDE, AN ASSISTANT MADE BY ANTHROPIC.", "Hi."])
    assert verdict.leaked
    assert {m.where for m in verdict.matches} == {"output:0"}


@pytest.mark.parametrize("prompt", ["are you GPT-4?", "ARE YOU gpt4?", "Are you Claude?", "is this llama 3?"])
def test_ac16_prompt_names_a_model(detector: IdentityLeakDetector, prompt: str) -> None:
    verdict = detector.check(prompt, ["I am an assistant.", "I can't say."])
    assert verdict.leaked
    assert verdict.reason is LeakReason.PROMPT_NAMES_MODEL
    assert verdict.matches[0].where == "prompt"


def test_ac16_no_identity_words_is_not_leaked(detector: IdentityLeakDetector) -> None:
    verdict = detector.check(
        "Write a haiku about autumn.",
        [
            "Leaves drift on cold wind / the old pond keeps the last light / a heron waits",
            "Red maple whispers.",
        ],
    )
    assert verdict == verdict.__class__(False, None, [], "no identity words found")


@pytest.mark.parametrize(
    "text",
    [
        "Llamas are South American camelids; llama wool is soft.",
        "Claude Monet painted water lilies. Claude was born in Paris.",
        "The mistral is a cold wind in Provence.",
        "Gemini season starts on May 21, and a Gemini is said to be curious.",
        "Android is developed by Google and the iPhone is made by Apple.",
        "Convert the disk from MBR to GPT partition style first.",
        "Falcon 9 landed; a falcon is a bird of prey.",
        "We searched the web and found three sources.",
        "Meta-analysis combines studies; the word meta means beyond.",
        "That is a fair question about the anthropic principle.",
        "Le chat est sur la table; la imagen muestra un olmo.",
    ],
)
def test_ordinary_uses_of_ambiguous_words_are_not_leaks(detector: IdentityLeakDetector, text: str) -> None:
    verdict = detector.check("tell me something", [text])
    assert not verdict.leaked, verdict.matches


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("I am Gemini, a model trained by Google.", "Gemini"),
        ("As Claude, I can't help with that.", "Claude"),
        ("My name is Llama and I was made by Meta.", "Llama"),
        ("I'm based on Llama 3.1 70B.", "Llama-3"),
        ("Gemini 1.5 Pro here.", "Gemini"),
        ("This answer comes from Mistral Large.", "Mistral"),
        ("I was developed by Google.", "Google"),
        ("I am an AI assistant created by a team at Microsoft.", "Microsoft"),
        ("My creators at Alibaba built me.", "Alibaba"),
        ("I am ChatGPT.", "ChatGPT"),
        ("Running on gpt-4o-mini right now.", "GPT-4o"),
        ("Running on GPT-4 Turbo.", "GPT-4"),
        ("Knowledge cutoff: 2023-10. Personality: v2.", "knowledge cutoff:"),
    ],
)
def test_revealing_contexts_are_leaks(detector: IdentityLeakDetector, text: str, term: str) -> None:
    verdict = detector.check("hi", [text])
    assert verdict.leaked
    assert term in {m.term for m in verdict.matches}


def test_reported_text_is_the_original_span(detector: IdentityLeakDetector) -> None:
    output = "Well... I'm  LLaMA-2, you know."
    match = detector.check("hi", [output]).matches[0]
    assert output[match.start : match.start + len(match.text)] == match.text
    assert match.text.lower().startswith("llama")


def test_modality_phrases_apply_only_to_their_modality(detector: IdentityLeakDetector) -> None:
    search = "According to Perplexity, Paris is the capital [1]."
    assert detector.check("capital of France?", [search], Modality.SEARCH).reason is LeakReason.MODALITY_PHRASE
    assert not detector.check("capital of France?", ["Per a Bing search, it is Paris."], Modality.TEXT).leaked
    lyrics = "Oh the night is long / a song by Suno all along"
    assert detector.check("a sad song", [lyrics], "music").reason is LeakReason.MODALITY_PHRASE
    assert not detector.check("a sad song", [lyrics], Modality.TEXT).leaked
    assert not detector.check("a Hindi song", ["Suno, suno meri baat (listen to me)"], Modality.MUSIC).leaked
    assert detector.check("a cat", ["Image made with Midjourney v6"], Modality.IMAGE).leaked


def test_battle_model_names_and_organisations(detector: IdentityLeakDetector) -> None:
    names, orgs = ["builtin-markov", "Tiny Transformer"], ["Arena Labs"]
    hit = detector.check("hi", ["I am builtin markov, hello."], model_names=names, organisations=orgs)
    assert hit.reason is LeakReason.OUTPUT_NAMES_BATTLE_MODEL
    assert detector.check("hi", ["I'm tiny_transformer."], model_names=names).leaked
    assert detector.check("hi", ["I was built by Arena Labs."], organisations=orgs).leaked
    # an organisation is matched only in an attribution context: a catalogue org may be an ordinary word
    assert not detector.check("hi", ["The arena labs are open late."], model_names=names, organisations=orgs).leaked
    assert not detector.check("hi", ["Markov chains are neat."], model_names=names, organisations=orgs).leaked
    assert not detector.check("hi", ["a -- b"], model_names=["----", "ab"], organisations=["", "X"]).leaked


def test_term_pattern_boundaries() -> None:
    gpt4 = re.compile(term_pattern("GPT-4"), re.IGNORECASE)
    assert all(gpt4.search(t) for t in ["gpt4", "GPT 4", "gpt-4o", "GPT_4-turbo", "(GPT-4)"])
    assert not any(gpt4.search(t) for t in ["GPT-40", "chatgpt-4x5", "xgpt-4"])
    qwen = re.compile(term_pattern("Qwen"), re.IGNORECASE)
    assert qwen.search("Qwen2.5 is here") and qwen.search("qwen-72b")
    assert not qwen.search("Qwenlike") and not qwen.search("xqwen")


def test_config_replace_extend_and_validate() -> None:
    config = IdentityLeakConfig.from_mapping(
        {
            "strict_terms": ["Zorblax"],
            "extra_allow_phrases": ["I am Claude Bernard"],
            "check_prompt": False,
            "extra_modality_phrases": {"music": ["BeatBot 9000"]},
        }
    )
    detector = IdentityLeakDetector(config)
    assert detector.check("hi", ["zorblax says hi"]).leaked
    assert not detector.check("hi", ["I'm ChatGPT"]).leaked  # replaced list: ChatGPT no longer strict
    assert not detector.check("hi", ["I am Claude Bernard, physiologist."]).leaked
    assert not detector.check("are you Zorblax?", ["no"]).leaked  # prompt checking switched off
    assert detector.check("hi", ["made with beatbot-9000"], Modality.MUSIC).leaked
    assert "Udio" in config.modality_phrases["music"]
    with pytest.raises(ConfigError, match="unknown key"):
        IdentityLeakConfig.from_mapping({"strict_term": ["x"]})
    with pytest.raises(ConfigError, match="list of strings"):
        IdentityLeakConfig.from_mapping({"strict_terms": "Zorblax"})
    with pytest.raises(ConfigError, match="unknown modality"):
        IdentityLeakConfig.from_mapping({"modality_phrases": {"video": ["x"]}})
