"""Battle -> leaderboard categories (overall, prompt language, long prompts, multi-turn, coding, music board)."""

from __future__ import annotations

import re
from collections.abc import Sequence

OVERALL = "overall"
LONG_PROMPT_TOKENS = 500

_CODE = re.compile(
    r"```|\b(def|class|import|function|const|let|var|return|SELECT|FROM|#include|public static|fn|println|"
    r"python|javascript|typescript|java|rust|golang|c\+\+|sql|regex|bash|compile|debug|stack trace|"
    r"exception|algorithm|code|script)\b",
    re.I,
)
_STOPWORDS = {
    "en": {"the", "and", "is", "what", "how", "of", "to", "you", "a", "in", "it", "for", "why", "are", "me"},
    "de": {"der", "die", "das", "und", "ist", "nicht", "ich", "wie", "was", "ein", "eine", "mit", "du"},
    "fr": {"le", "la", "les", "et", "est", "une", "des", "pour", "pas", "je", "vous", "que", "qui", "du"},
    "es": {"el", "la", "los", "las", "y", "es", "una", "por", "para", "que", "como", "qué", "cómo", "del"},
    "it": {"il", "che", "di", "non", "una", "sono", "per", "come", "gli", "della", "perché", "cosa"},
    "pt": {"o", "os", "que", "não", "uma", "para", "com", "como", "você", "é", "do", "da", "em"},
    "nl": {"de", "het", "een", "en", "is", "niet", "ik", "wat", "hoe", "van", "je", "dat"},
}
_SCRIPTS = (
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
    ("ja", re.compile(r"[\u3040-\u30ff]")),
    ("ko", re.compile(r"[\uac00-\ud7af]")),
    ("ru", re.compile(r"[\u0400-\u04ff]")),
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("hi", re.compile(r"[\u0900-\u097f]")),
    ("el", re.compile(r"[\u0370-\u03ff]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
    ("th", re.compile(r"[\u0e00-\u0e7f]")),
)


def estimate_tokens(text: str) -> int:
    """A tokenizer-free token estimate (about four characters a token), good enough for categories."""
    return max(1, round(len(text) / 4)) if text else 0


def detect_language(text: str) -> str:
    """A small offline language guess: script for non-Latin text, stopwords for Latin; 'other' when unsure."""
    japanese = _SCRIPTS[1][1]
    if japanese.search(text):
        return "ja"
    for code, pattern in _SCRIPTS:
        if len(pattern.findall(text)) >= max(2, len(text) // 10):
            return code
    words = re.findall(r"[^\W\d_]+", text.lower())
    if not words:
        return "other"
    scores = {code: sum(w in stop for w in words) for code, stop in _STOPWORDS.items()}
    best = max(scores, key=lambda code: scores[code])
    return best if scores[best] >= 1 else "other"


def categorize(prompts: Sequence[str], board: str | None = None) -> list[str]:
    """The categories a battle counts in; every battle counts in 'overall'."""
    cats = [OVERALL]
    if board:
        cats.append(board)
    if prompts:
        cats.append(f"lang:{detect_language(prompts[0])}")
    if any(estimate_tokens(p) >= LONG_PROMPT_TOKENS for p in prompts):
        cats.append("long_prompt")
    if len(prompts) > 1:
        cats.append("multi_turn")
    if any(_CODE.search(p) for p in prompts):
        cats.append("coding")
    return cats
