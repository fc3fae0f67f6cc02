"""The name finder's pre-checks are conservative: it gives the same names with and without them."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arena.privacy import Scrubber, ScrubConfig
from arena.privacy import names as names_module
from arena.privacy.name_gate import UNGATED, ascii_words, cue_kinds, lexicon_possible
from arena.privacy.names import NameFinder, NameLexicon


def _expand(alternative: str) -> list[str]:
    """The strings one alternative of a word list matches ("co-?worker", "neighbou?r", "fianc[ée]e?")."""
    m = re.search(r"\[([^\]]+)\]|(.)\?", alternative)
    if m is None:
        return [alternative]
    head, tail = alternative[: m.start()], alternative[m.end() :]
    options = list(m.group(1)) if m.group(1) else [m.group(2), ""]
    return [head + option + rest for option in options for rest in _expand(tail)]


RELATIONS = [w for alt in names_module._RELATIONS.split("|") for w in _expand(alt)]
SIGNOFFS = names_module._SIGNOFF_COMMA.split("|")
HINTS = sorted({h for _, hints, _, _ in names_module._CUES for h in hints})
PHRASES = (
    "my name is ", "my name's ", "his name is ", "call me ", "signed ", "Dear ", "I'm ", "I am ", "Im ", "this is ",
    "it's ", "it is ", "I’m ", "Hi ", "Hello, ", "good morning ", "Good evening, ", "Thanks,\n", "thank you ",
    "many thanks ", "you're welcome, ", "see you, ", "no problem, ", "Of course, ", "goodbye, ", " here: ",
    " here, ", " is my name", " is my surname", "From: ", "To:", "Reply-To: ", "Signed-off-by: ", "Co-authored-by: ",
    "-- ", "— ", "Mr. ", "Mrs ", "Dr ", "Prof. ", "Herr ", "Sra. ", "my co-worker ", "our neighbour, ",
)
NAMES = ("Priya", "Raman", "Jordan", "Blake", "Oluwaseun", "Okafor", "O'Brien", "Mary-Jane", "McDonald",
         "JordanBlake", "Will", "Smith", "Sure", "The", "Python", "Step", "Émile", "Zoë")
GLUE = (" ", "  ", "\n", "\t", ",", ".", "!", "?", ":", ";", "'", "’", "-", "_", "(", ")", "@", "é", "ſ", "ı",
        "K", "a", "s", "m", "1")
FRAGMENTS = (*HINTS, *PHRASES, *NAMES, *GLUE, *RELATIONS, *(s + "," for s in SIGNOFFS), *SIGNOFFS)
CASES: tuple[Callable[[str], str], ...] = (str, str.lower, str.upper, str.title, str.capitalize)
TEXTS = st.lists(
    st.tuples(st.sampled_from(FRAGMENTS), st.sampled_from(CASES)).map(lambda pair: pair[1](pair[0])), max_size=30
).map("".join)


@pytest.fixture(scope="module")
def finder() -> NameFinder:
    return NameFinder(NameLexicon.load_default())


def _full(finder: NameFinder, texts: list[str]) -> list[list[tuple[int, int, str]]]:
    with mock.patch.object(names_module, "ascii_words", lambda text: None):
        return [finder.find(t) for t in texts]


@given(TEXTS)
@settings(max_examples=4000, deadline=None, derandomize=True)
def test_generated_texts_give_the_same_names(finder: NameFinder, text: str) -> None:
    assert finder.find(text) == _full(finder, [text])[0]


def test_every_cue_phrase_and_relation_gives_the_same_names(finder: NameFinder) -> None:
    signoffs = [f"{s}{end}" for s in SIGNOFFS for end in (",\n", "\n")]
    phrases = (*PHRASES, *(f"my {r} " for r in RELATIONS), *signoffs)
    cases: tuple[Callable[[str], str], ...] = (str, str.lower)
    shapes = itertools.product(("", "ok. "), ("Priya Raman", "Siobhan"), ("", ".", "!", " here."), cases)
    texts = [f"{pre}{case(phrase)}{name}{post}" for pre, name, post, case in shapes for phrase in phrases]
    found = [finder.find(t) for t in texts]
    assert found == _full(finder, texts)
    assert sum(bool(f) for f in found) > len(texts) // 3  # the phrases do exercise the cues


def _corpus_texts(planted_corpus: list[Any], clean_corpus: list[str]) -> list[str]:
    texts = [t for case in planted_corpus for t in case.texts] + list(clean_corpus)
    return texts + [t.upper() for t in texts] + [t.lower() for t in texts] + [t.replace(" ", "\n") for t in texts]


def test_corpora_give_the_same_names(finder: NameFinder, planted_corpus: list[Any], clean_corpus: list[str]) -> None:
    texts = _corpus_texts(planted_corpus, clean_corpus)
    found = [finder.find(t) for t in texts]
    assert found == _full(finder, texts)
    assert sum(bool(f) for f in found) > 100  # the corpora do hold names


def test_scrub_results_unchanged_by_the_gate(planted_corpus: list[Any], clean_corpus: list[str]) -> None:
    scrubber = Scrubber()
    conversations = [list(case.texts) for case in planted_corpus] + [[t] for t in clean_corpus]
    gated = [scrubber.scrub_conversation(c) for c in conversations]
    full = Scrubber(ScrubConfig(memo_texts=0))  # nothing remembered: every text through the ungated finder
    with mock.patch.object(names_module, "ascii_words", lambda text: None):
        assert [full.scrub_conversation(c) for c in conversations] == gated


def _kinds(text: str) -> AbstractSet[str]:
    words = ascii_words(text)
    assert words is not None
    return cue_kinds(words[1])


def _lexicon(text: str) -> bool:
    words = ascii_words(text)
    assert words is not None
    return lexicon_possible(words[0], words[1], NameLexicon.load_default().lower_first_words)


def test_ordinary_prose_skips_the_gated_cues_and_the_lexicon() -> None:
    prose = ("Step 2: consider the case where the input has 40 items. In short, start small and check each step.",
             "Explain the Krebs cycle to a curious teenager in about 120 words.")
    assert all(_kinds(t) == UNGATED for t in prose)
    assert not any(_lexicon(t) for t in prose)
    assert "intro" in _kinds("Hi, I'm Kenji") and "rel" in _kinds("ask my co-worker")
    assert _lexicon("ask Jordan") and _lexicon("see JordanBlake") and not _lexicon("ask jordan")
    assert ascii_words("Grüße, Jörg") is None  # non-ASCII text: the finder runs in full


def test_header_cue_gate_gives_the_same_names(finder: NameFinder) -> None:
    headers = ("From", "To", "Cc", "Bcc", "Reply-To", "Author", "Signed-off-by", "Co-authored-by")
    shapes = itertools.product(headers, ("", "ok ", "ok\n", "\n", "Re: x\n"), (":", " :", "\t:"),
                               (" Priya Raman", "Siobhan", " jordan"), ("", "\nStep 1: more", "."))
    texts = [f"{pre}{header}{colon}{name}{post}" for header, pre, colon, name, post in shapes]
    found = [finder.find(t) for t in texts]
    assert found == _full(finder, texts)
    assert sum(bool(f) for f in found) > len(texts) // 4
    assert finder.find("To: Siobhan") and finder.find("ok\nFrom: Priya Raman")  # at the start, after a newline


def test_ungated_fast_path_covers_the_ungated_kinds(finder: NameFinder) -> None:
    assert {"thanks", "dash", "header"} == UNGATED  # names._ungated_hint tests the header cue on its own
    texts = ["Thanks,\nPriya", "-- Priya Raman", "— Siobhan", "To: Siobhan", "x\nFrom: Priya Raman", "thank you Priya",
             "Step 1: ask Siobhan", "plain prose with nothing"]
    assert [finder.find(t) for t in texts] == _full(finder, texts)
