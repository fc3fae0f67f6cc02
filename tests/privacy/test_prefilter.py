"""The detector pre-check is conservative: a text it lets skip the detectors is one they leave unchanged."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arena.privacy import Scrubber, ScrubConfig
from arena.privacy import scrub as scrub_module
from arena.privacy.detectors import detect
from arena.privacy.prefilter import detect_quick, might_hold_pii

# Pieces of every detector's patterns and of the ordinary text around them, glued at random below.
FRAGMENTS = (
    " ",
    "  ",
    "\n",
    "\t",
    ".",
    ",",
    "-",
    "_",
    "(",
    ")",
    "+",
    "/",
    ":",
    "::",
    ";",
    "=",
    "#",
    "@",
    "'",
    '"',
    "$",
    "0",
    "1",
    "00",
    "09",
    "12",
    "123",
    "555",
    "0100",
    "1234",
    "4111",
    "9999",
    "192",
    "168",
    "255",
    "978",
    "+1 ",
    "+44 ",
    "(020) ",
    "07700 ",
    "555-0134",
    "1-800-",
    "123-45-",
    "6789",
    "4111 1111 1111 1111",
    "10.0.0.",
    "10_0_",
    "fe80",
    "2001:db8",
    "a1:b2:",
    "AB-CD-",
    "de:ad:be:ef",
    "0x1F",
    "v1.2.3",
    "sk-",
    "sk_live_",
    "ghp_",
    "hf_",
    "npm_",
    "xoxb-",
    "glpat-",
    "eyJ",
    "AIza",
    "AKIA",
    "ASIA",
    "PRIVATE KEY",
    "GB82",
    "WEST",
    "DE89",
    "QQ",
    "AB 12 34 56 C",
    "ABCDEFGH",
    "aB3dE5gH7jK9",
    "Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0",
    "key",
    "api_key",
    "token",
    "secret",
    "password",
    "pwd",
    "auth",
    " is ",
    " was ",
    " := ",
    ": ",
    "= '",
    "bearer ",
    "Basic ",
    "phone",
    "tel ",
    "mobile: ",
    "call me ",
    "ssn",
    "passport no ",
    "national id ",
    "licence number ",
    "tax id ",
    "aadhaar",
    "nric",
    "personal number ",
    "version ",
    "V",
    "at",
    "dot",
    " at ",
    " dot ",
    "[at]",
    "(dot)",
    "www.",
    "http://",
    "https://",
    "linkedin.com/in/",
    "?token=",
    "example",
    "org",
    "com",
    "The",
    "step",
    "items",
    "Python",
    "Jordan",
    "Blake",
    "Hello",
    "Mr",
    "Dr. ",
)
TEXTS = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.integers(0, 10**16).map(str), st.text("0123456789 .-+()", max_size=12)),
    max_size=40,
).map("".join)


@given(TEXTS)
@settings(max_examples=3000, deadline=None, derandomize=True)
def test_skipped_texts_have_no_detections(text: str) -> None:
    assert detect_quick(text) == detect(text)
    if not might_hold_pii(text):
        assert detect(text) == []


def _corpus_texts(planted_corpus: list[Any], clean_corpus: list[str]) -> list[str]:
    texts = [t for case in planted_corpus for t in case.texts] + list(clean_corpus)
    return texts + [t.upper() for t in texts] + [t.replace(" ", "") for t in texts]


def test_corpora_quick_equals_full(planted_corpus: list[Any], clean_corpus: list[str]) -> None:
    texts = _corpus_texts(planted_corpus, clean_corpus)
    assert [detect_quick(t) for t in texts] == [detect(t) for t in texts]
    assert any(detect(t) for t in texts)  # the corpora do exercise the detectors


def test_scrub_results_unchanged_by_the_precheck(
    planted_corpus: list[Any],
    clean_corpus: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scrubber = Scrubber()
    conversations = [list(case.texts) for case in planted_corpus] + [[t] for t in clean_corpus]
    quick = [scrubber.scrub_conversation(c) for c in conversations]
    monkeypatch.setattr(scrub_module, "detect_quick", detect)
    full = Scrubber(ScrubConfig(memo_texts=0))  # nothing remembered: every text through the full detectors
    assert [full.scrub_conversation(c) for c in conversations] == quick


def test_ordinary_prose_skips_the_detectors() -> None:
    rng = np.random.default_rng(7)
    prose = [
        f"Step {k}: consider the case where the input has {int(rng.integers(2, 500))} items. In short, "
        f"start small, version {int(rng.integers(1, 9))}.{int(rng.integers(0, 20))} works."
        for k in range(200)
    ]
    assert sum(not might_hold_pii(t) for t in prose) >= 190
    assert might_hold_pii("call +1 555 010 2345") and might_hold_pii("Jörg") and might_hold_pii("a@b.org")


def test_malformed_url_host_is_replaced_not_raised() -> None:
    # Found by the property test above: urlsplit raised ValueError on a bracketed non-IP host.
    assert [s.kind.value for s in detect("see http://[at]example.org/x now")] == ["URL"]


def test_every_ipv4_shape_reaches_the_detectors() -> None:
    octets = ("0", "7", "42", "203", "255", "256")
    texts = [f"{pre}{a}{sep}{b}{sep}{c}{sep}{d}{post}" for sep in ".-_" for a in octets[:3] for b in octets
             for c in octets[1:4] for d in octets[2:] for pre, post in (("at ", "."), ("v", ""), ("x=", " ok"))]
    texts += ["see 1.2.3 and 4.5", "3.12 and $50.99", "2025-03-01", "10.0.0.1", "a 192_168_1_20 b"]
    assert [detect_quick(t) for t in texts] == [detect(t) for t in texts]
    assert sum(bool(detect(t)) for t in texts) > len(texts) // 4
