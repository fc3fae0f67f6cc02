"""Conversation scrubbing: AC-17/AC-18, typed consistent placeholders, withholding, planted and clean corpora."""

from __future__ import annotations

import pickle
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arena.privacy import scrub as scrub_module
from arena.privacy.detectors import PiiKind, isbn13_ok
from arena.privacy.scrub import Scrubber, ScrubConfig, ScrubFailure, residual_risk

AC17_PROMPT = (
    "Hi, I'm Jordan Blake (jordan.blake@example.org, +1 555 010 4477). My server 203.0.113.42 keeps "
    "failing; my colleague Priya Raman says…"
)
AC17_REPLY_A = "Sure, Jordan — I'll email jordan.blake@example.org"
AC17_FORBIDDEN = ("Jordan", "Blake", "jordan.blake@example.org", "203.0.113.42", "Priya", "Raman")
AC17_PHONE_FORMS = ("555 010 4477", "555-010-4477", "555.010.4477", "5550104477", "(555) 010-4477", "010 4477")


@pytest.fixture(scope="module")
def scrubber() -> Scrubber:
    return Scrubber()


def test_ac17_conversation(scrubber: Scrubber) -> None:
    texts = [AC17_PROMPT, AC17_PROMPT, AC17_REPLY_A, "I can help with the server.", "A was better"]
    result = scrubber.scrub_conversation(texts)
    assert result.ok and result.reason is None
    joined = "\n".join(result.texts)
    for forbidden in (*AC17_FORBIDDEN, *AC17_PHONE_FORMS):
        assert forbidden not in joined
    assert result.texts[0] == (
        "Hi, I'm NAME_1 (EMAIL_1, PHONE_1). My server IP_1 keeps failing; my colleague NAME_2 says…"
    )
    assert result.texts[1] == result.texts[0]
    assert result.texts[2] == "Sure, NAME_1 — I'll email EMAIL_1"
    assert result.texts[3:] == ("I can help with the server.", "A was better")
    assert result.found == {PiiKind.NAME: 5, PiiKind.EMAIL: 3, PiiKind.PHONE: 2, PiiKind.IP: 2}


def test_ac18_ip_strings_in_every_formatting(scrubber: Scrubber) -> None:
    texts = ["vote from 198.51.100.23", "again 198-51-100-23", "and 198_51_100_23", "other 198.51.100.24"]
    result = scrubber.scrub_conversation(texts)
    assert result.texts == ("vote from IP_1", "again IP_1", "and IP_1", "other IP_2")


def test_placeholders_are_per_conversation_and_typed(scrubber: Scrubber) -> None:
    first = scrubber.scrub_conversation(["a@example.org b@example.org", "b@example.org"])
    second = scrubber.scrub_conversation(["b@example.org"])
    assert first.texts == ("EMAIL_1 EMAIL_2", "EMAIL_2")
    assert second.texts == ("EMAIL_1",)
    custom = Scrubber(ScrubConfig(placeholder_format="[{kind}_{n}]")).scrub_text("mail a@example.org")
    assert custom.texts == ("mail [EMAIL_1]",)


def test_same_phone_in_other_formats_gets_the_same_placeholder(scrubber: Scrubber) -> None:
    result = scrubber.scrub_conversation(["call +1 555 010 4477", "or (555) 010-4477", "not +44 20 7946 0958"])
    assert result.texts == ("call PHONE_1", "or PHONE_1", "not PHONE_2")


def test_scrubbing_is_deterministic_and_idempotent(scrubber: Scrubber) -> None:
    once = scrubber.scrub_conversation([AC17_PROMPT, AC17_REPLY_A])
    assert scrubber.scrub_conversation([AC17_PROMPT, AC17_REPLY_A]) == once
    again = scrubber.scrub_conversation(list(once.texts))
    assert again.texts == once.texts and again.found == {}


def test_names_can_be_switched_off() -> None:
    result = Scrubber(ScrubConfig(detect_names=False)).scrub_text(AC17_PROMPT)
    assert "Jordan" in result.texts[0] and "EMAIL_1" in result.texts[0]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe invalid utf-8", ScrubFailure.UNDECODABLE),
        ("lone surrogate \ud800 here", ScrubFailure.UNDECODABLE),
        ("binary\x00 payload", ScrubFailure.BINARY),
        ("noise " + "\x01\x02" * 6, ScrubFailure.BINARY),
        ("x" * 100_001, ScrubFailure.TEXT_TOO_LONG),
        ("account 1234 5678 9012 3456 7890 12", ScrubFailure.RESIDUAL_PII),
        ("write to jöran＠exämple.org", ScrubFailure.RESIDUAL_PII),
    ],
)
def test_unscrubbable_texts_withhold_the_whole_conversation(
    scrubber: Scrubber, raw: str | bytes, reason: ScrubFailure
) -> None:
    result = scrubber.scrub_conversation(["a clean prompt", raw])
    assert not result.ok and result.reason is reason
    assert result.texts == ()


def test_a_few_control_characters_are_tolerated(scrubber: Scrubber) -> None:
    text = "\x1b[31merror\x1b[0m at line 3"  # pasted terminal output with colour codes
    assert scrubber.scrub_text(text).texts == (text,)


def test_total_length_limit() -> None:
    result = Scrubber(ScrubConfig(max_total_chars=10)).scrub_conversation(["123456", "123456"])
    assert result.reason is ScrubFailure.TEXT_TOO_LONG


def test_bytes_are_decoded(scrubber: Scrubber) -> None:
    assert scrubber.scrub_text(b"mail a@example.org").texts == ("mail EMAIL_1",)


def test_residual_checks() -> None:
    assert residual_risk("acct 1234-5678-9012-3456-78")
    assert not residual_risk("ISBN 978-3-16-148410-0 on 2024-08-14 10 30 45 12")
    assert not residual_risk("EMAIL_1 and @decorator and a @ b")


def _survivors(case: Any, texts: tuple[str, ...]) -> list[str]:
    out = "\n".join(texts)
    left = []
    for planted in case.planted:
        for variant in planted.variants:
            if planted.kind == "NAME":
                hit = re.search(rf"(?i)(?<![^\W_]){re.escape(variant)}(?![^\W_])", out) is not None
            else:
                hit = variant in out
            if hit:
                left.append(f"{planted.kind}:{variant}")
    return left


def test_planted_personal_data_never_survives(scrubber: Scrubber, planted_corpus: list[Any]) -> None:
    texts = sum(len(case.texts) for case in planted_corpus)
    kinds = {p.kind for case in planted_corpus for p in case.planted}
    assert texts >= 200 and kinds == {"NAME", "EMAIL", "PHONE", "IP", "CARD", "KEY", "URL", "ID"}
    survivors, values = [], 0
    for case in planted_corpus:
        result = scrubber.scrub_conversation(case.texts)
        assert result.ok, (result.reason, case.texts)
        values += len(case.planted)
        survivors += _survivors(case, result.texts)
    assert values > 900
    assert survivors == []


def test_planted_values_appear_in_prompts_replies_and_feedback(planted_corpus: list[Any]) -> None:
    for position in range(4):
        kinds = {p.kind for case in planted_corpus for p in case.planted if p.written in case.texts[position]}
        kinds |= {
            p.kind for case in planted_corpus for p in case.planted for a in p.alternates if a in case.texts[position]
        }
        assert len(kinds) >= 6, (position, kinds)


def test_clean_texts_survive_unchanged(scrubber: Scrubber, clean_corpus: list[str]) -> None:
    assert len(clean_corpus) >= 200
    changed = [t for t in clean_corpus if scrubber.scrub_text(t).texts != (t,)]
    assert len(changed) / len(clean_corpus) <= 0.05, changed[:10]


def test_remembered_texts_give_the_same_results(planted_corpus: list[Any], clean_corpus: list[str]) -> None:
    # The memo holds per-text answers only: texts recurring in other conversations, in other positions and
    # next to other names must be scrubbed exactly as by a scrubber that remembers nothing.
    texts = [t for case in planted_corpus for t in case.texts] + list(clean_corpus)
    conversations = [[texts[i], texts[(i * 7 + 3) % len(texts)], texts[(i * 13 + 5) % len(texts)]]
                     for i in range(len(texts))]
    conversations += [list(case.texts) for case in planted_corpus] + [[t] for t in clean_corpus]
    remembering = Scrubber(ScrubConfig(memo_texts=64, memo_max_chars=120))  # small: entries are evicted too
    fresh = Scrubber(ScrubConfig(memo_texts=0))
    for _ in range(2):
        assert [remembering.scrub_conversation(c) for c in conversations] == [
            fresh.scrub_conversation(c) for c in conversations]


def test_a_scrubber_pickles_without_its_memo() -> None:
    scrubber = Scrubber()
    before = scrubber.scrub_conversation([AC17_PROMPT, AC17_REPLY_A])
    copy = pickle.loads(pickle.dumps(scrubber))
    assert copy.scrub_conversation([AC17_PROMPT, AC17_REPLY_A]) == before


def _residual_ungated(text: str) -> bool:
    """`residual_risk`'s grouped-number check without its pre-check (and the e-mail check as is)."""
    if "@" in text and scrub_module._RESIDUAL_EMAIL.search(text):
        return True
    for m in scrub_module._RESIDUAL_DIGITS.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if len(digits) >= 12 and not isbn13_ok(digits) and not scrub_module._LEADING_DATE.match(m.group()):
            return True
    return False


@given(st.lists(st.sampled_from(["1", "23", "456", "7890", "123456", " ", ".", "-", "_", "x", "\n", ",", "/", "978",
                                 "2025-01-02", "+", "(", ")", "a1"]), max_size=40).map("".join))
@settings(max_examples=3000, deadline=None, derandomize=True)
def test_grouped_number_precheck_is_conservative(text: str) -> None:
    assert residual_risk(text) == _residual_ungated(text)


def test_grouped_number_precheck_on_corpora(planted_corpus: list[Any], clean_corpus: list[str]) -> None:
    texts = [t for case in planted_corpus for t in case.texts if t.isascii()] + [t for t in clean_corpus if t.isascii()]
    texts += ["acct 1234 5678 9012", "1234-5678-9012-3", "12.345.678.901.2", "12345678901 2 3"]
    assert [residual_risk(t) for t in texts] == [_residual_ungated(t) for t in texts]
    assert any(residual_risk(t) for t in texts)


def _validate_reference(raw: str, config: ScrubConfig) -> ScrubFailure | None:
    """`_validate` on str without its printable-ASCII shortcut."""
    if len(raw) > config.max_text_chars:
        return ScrubFailure.TEXT_TOO_LONG
    controls = len(scrub_module._CONTROL.findall(raw))
    if "\x00" in raw or controls > config.max_control_ratio * max(len(raw), 1000):
        return ScrubFailure.BINARY
    return None


def test_printable_ascii_shortcut_of_validation() -> None:
    config = ScrubConfig()
    texts = [f"plain {chr(c)} text" for c in range(128)] + [chr(c) * 20 for c in range(128)]
    texts += ["\x01" * 11 + "x" * 989, "\x01" * 10 + "x" * 990, "tab\there\nline\r\n", "\x7f" * 40, "ok \ufffd", ""]
    for text in texts:
        assert scrub_module._validate(text, config)[1] == _validate_reference(text, config), repr(text)
