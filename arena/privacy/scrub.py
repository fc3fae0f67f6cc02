"""Scrub personal data from the free-text fields of one conversation, with typed, consistent placeholders.

A conversation (prompt, both replies, feedback, free-text metadata) is scrubbed as one unit so that
one value gets one placeholder everywhere in it (EMAIL_1 in the prompt is EMAIL_1 in both replies) and
a name seen once is replaced wherever it recurs. A text that cannot be scrubbed with confidence makes
the whole conversation fail (`ok=False` with a `ScrubFailure` reason) so the release withholds it;
failed results carry no text at all, so nothing unscrubbed can be published by mistake.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Any, NamedTuple

from arena.privacy.detectors import PiiKind, Span, isbn13_ok
from arena.privacy.names import (
    DEFAULT_ALLOWLIST,
    NameFinder,
    NameLexicon,
    build_propagation,
    name_parts,
    placeholder_for,
)
from arena.privacy.prefilter import detect_quick
from arena.privacy.screen import TextScreen

SCRUBBER_VERSION = "1"

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
_RESIDUAL_EMAIL = re.compile(r"[^\s@<>()\[\]\"'`]+@[^\s@<>()\[\]\"'`]+\.[^\W\d_]{2,}")
_RESIDUAL_DIGITS = re.compile(r"(?=\d)(?<![\w.])\d{1,6}(?:[ .-]\d{1,6}){2,}(?!\w)")
_LEADING_DATE = re.compile(r"(?:19|20)\d\d[-./]\d\d[-./]\d\d|\d\d[-./]\d\d[-./](?:19|20)\d\d")


class ScrubFailure(StrEnum):
    """Why a conversation could not be scrubbed; the release withholds it and counts the reason."""

    UNDECODABLE = "undecodable"
    BINARY = "binary"
    TEXT_TOO_LONG = "text_too_long"
    RESIDUAL_PII = "residual_pii"


@dataclass(frozen=True)
class ScrubConfig:
    """Limits and policy knobs; the defaults are the release policy documented in docs/privacy.md."""

    max_text_chars: int = 100_000
    max_total_chars: int = 400_000
    max_control_ratio: float = 0.01
    detect_names: bool = True
    name_allowlist: frozenset[str] = field(default=DEFAULT_ALLOWLIST)
    placeholder_format: str = "{kind}_{n}"
    # Per-text results remembered by the scrubber (0: none): how many texts, and how long a text may be.
    memo_texts: int = 32768
    memo_max_chars: int = 2000


@dataclass(frozen=True)
class ScrubResult:
    """Scrubbed texts (same order as the input) and how many values of each kind were replaced.

    When `ok` is False, `texts` is empty and `reason` says why.
    """

    texts: tuple[str, ...]
    found: Mapping[PiiKind, int]
    ok: bool
    reason: ScrubFailure | None = None


@dataclass
class _Placeholders:
    """Per-conversation mapping (kind, normalised value) -> placeholder, numbered by first appearance."""

    fmt: str
    assigned: dict[tuple[PiiKind, str], str] = field(default_factory=dict)
    counters: Counter[PiiKind] = field(default_factory=Counter)
    found: Counter[PiiKind] = field(default_factory=Counter)

    def get(self, kind: PiiKind, key: str) -> str:
        """The placeholder for one replaced occurrence (counted in `found`)."""
        self.found[kind] += 1
        return self.assign(kind, key)

    def assign(self, kind: PiiKind, key: str) -> str:
        """The placeholder for a value, allocating the next number on first sight."""
        placeholder = self.assigned.get((kind, key))
        if placeholder is None:
            self.counters[kind] += 1
            placeholder = self.fmt.format(kind=kind.value, n=self.counters[kind])
            self.assigned[(kind, key)] = placeholder
        return placeholder


def _replace_spans(text: str, spans: list[Span], placeholders: _Placeholders) -> str:
    if not spans:
        return text
    out, pos = [], 0
    for span in spans:
        out.append(text[pos : span.start])
        out.append(placeholders.get(span.kind, span.key))
        pos = span.end
    out.append(text[pos:])
    return "".join(out)


def _validate(raw: str | bytes, config: ScrubConfig) -> tuple[str, ScrubFailure | None]:
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            return "", ScrubFailure.UNDECODABLE
    try:
        if not raw.isascii():  # only a lone surrogate fails, and ASCII has none
            raw.encode("utf-8")
    except UnicodeEncodeError:
        return "", ScrubFailure.UNDECODABLE
    if len(raw) > config.max_text_chars:
        return "", ScrubFailure.TEXT_TOO_LONG
    if raw.isascii() and raw.isprintable():
        return raw, None  # every character `_CONTROL` or the NUL test looks for is ASCII and unprintable
    controls = len(_CONTROL.findall(raw)) if _CONTROL.search(raw) else 0
    if "\x00" in raw or controls > config.max_control_ratio * max(len(raw), 1000):
        return "", ScrubFailure.BINARY
    return raw, None


_ZEROS = bytes.maketrans(b"0123456789", b"0" * 10)


def _grouped_digits_possible(text: str) -> bool:
    """False only when no match of `_RESIDUAL_DIGITS` can hold 12 digits.

    Such a match is a run of digits and ``[ .-]`` only, so on an ASCII text (where ``\\d`` is 0-9) it
    becomes a run of 12+ "0"s once digits are mapped to "0" and those separators deleted; other
    texts need 12 Unicode digits in all.
    """
    if text.isascii():
        return b"0" * 12 in text.encode("ascii").translate(_ZEROS, b" .-")
    return sum(map(str.isdigit, text)) >= 12


def residual_risk(text: str) -> bool:
    """Second-line checks on scrubbed text: anything still shaped like an email or a long grouped number.

    These catch values the detectors deliberately do not replace (a 12+ digit grouped number that
    is neither a card, a phone, nor an ISBN could be an account number), and values disguised with
    compatibility characters (fullwidth '＠' or digits): the NFKC form of the text is checked too.
    """
    if "@" in text and _RESIDUAL_EMAIL.search(text):
        return True
    for m in _RESIDUAL_DIGITS.finditer(text) if _grouped_digits_possible(text) else ():
        digits = re.sub(r"\D", "", m.group())
        if len(digits) >= 12 and not isbn13_ok(digits) and not _LEADING_DATE.match(m.group()):
            return True
    if not text.isascii() and _disguised(text):
        folded = unicodedata.normalize("NFKC", text)
        return residual_risk(folded) or bool(detect_quick(folded))
    return False


def _disguised(text: str) -> bool:
    """Whether a character folds (NFKC) to an ASCII letter, digit or address punctuation ('４', '＠', '．')."""
    for ch in set(text):
        if ord(ch) > 127:
            folded = unicodedata.normalize("NFKC", ch)
            if len(folded) == 1 and folded != ch and folded.isascii() and (folded.isalnum() or folded in "@.:-_/+"):
                return True
    return False


class _Facts(NamedTuple):
    """What the scrubber needs to know about one text on its own (a pure function of the text)."""

    failure: ScrubFailure | None
    spans: tuple[Span, ...]  # structured PII (`detect_quick`)
    names: tuple[str, ...]  # names the finder sees, when there are no spans (else found after replacing them)
    residual: bool  # `residual_risk`, when there are no spans (else checked after replacing them)


_NOTHING = _Facts(None, (), (), False)  # a valid text with nothing to replace and no residual risk


class Scrubber:
    """Scrubs conversations; stateless between calls, safe to share across threads and batches.

    What a scrubber remembers are per-text facts (`_Facts`: validation, structured spans, names,
    residual checks), each a pure function of one text, so an answer from memory is the answer the
    analysis would give. Prompts and citations recur across battles ("hi", a popular question, the
    same source) and are analysed once; placeholders are still assigned per conversation.
    `memo_texts` bounds how many distinct texts are remembered (0: none) and `memo_max_chars` how long
    one may be, so the memory stays under about `memo_texts * memo_max_chars` characters.

    `screen(texts)` runs the compiled screen of `arena.privacy.screen` over a batch ahead of scrubbing
    it and remembers the texts it proves clean (those of the last batch screened): their facts are
    known (`_NOTHING`) without the analysis. Two threads screening at once may each drop the other's
    batch, which only sends its texts through the analysis again.
    """

    _screen: TextScreen | None
    _clean: frozenset[str]

    def __init__(self, config: ScrubConfig | None = None, lexicon: NameLexicon | None = None) -> None:
        self.config = config or ScrubConfig()
        self.lexicon = lexicon or NameLexicon.load_default()
        self.finder = NameFinder(self.lexicon, self.config.name_allowlist)
        self._build_memo()

    def screen(self, texts: Iterable[str]) -> int:
        """Screen a batch about to be scrubbed (see the class docstring); returns how many texts it proved clean."""
        distinct = [t for t in dict.fromkeys(texts) if isinstance(t, str)]
        self._clean = frozenset(self._text_screen().clean(distinct, self.config.max_text_chars))
        return len(self._clean)

    def known_clean(self, texts: Sequence[str | bytes]) -> bool:
        """Whether the conversation `texts` is one the last screen proved clean: scrubbing returns it unchanged."""
        return self._clean.issuperset(texts) and sum(map(len, texts)) <= self.config.max_total_chars

    def _text_screen(self) -> TextScreen:
        if self._screen is None:
            self._screen = TextScreen(self.finder)
        return self._screen

    def _build_memo(self) -> None:
        size = self.config.memo_texts
        # Texts up to `_memo_limit` characters go through the memo, longer ones are analysed each time.
        analyse = self._text_facts
        self._memo: Callable[[str], _Facts] = lru_cache(maxsize=size)(analyse) if size > 0 else analyse
        self._memo_limit = self.config.memo_max_chars if size > 0 else -1
        self._screen = None  # built on the first `screen` call
        self._clean = frozenset()

    def __getstate__(self) -> dict[str, Any]:
        # The memo, the screen and its last batch are rebuilt, not pickled.
        return {"config": self.config, "lexicon": self.lexicon, "finder": self.finder}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._build_memo()

    def _text_facts(self, text: str) -> _Facts:
        checked, failure = _validate(text, self.config)
        if failure is not None:
            return _Facts(failure, (), (), False)
        spans = tuple(detect_quick(checked))
        if spans:
            return _Facts(None, spans, (), False)
        names = tuple([name for _, _, name in self.finder.find(checked)]) if self.config.detect_names else ()
        return _Facts(None, (), names, residual_risk(checked))

    def scrub_text(self, text: str | bytes) -> ScrubResult:
        """Scrub one free-standing text (a conversation of one)."""
        return self.scrub_conversation([text])

    def scrub_conversation(self, texts: Sequence[str | bytes]) -> ScrubResult:
        """Scrub every text of one conversation with one placeholder mapping."""
        decoded: list[str] = []
        facts: list[_Facts] = []
        for raw in texts:
            if isinstance(raw, str):
                text = raw
            else:
                text, failure = _validate(raw, self.config)  # decodes, then the text is checked as any other
                if failure is not None:
                    return ScrubResult((), {}, ok=False, reason=failure)
            if text in self._clean:
                fact = _NOTHING
            else:
                fact = self._memo(text) if len(text) <= self._memo_limit else self._text_facts(text)
            if fact.failure is not None:
                return ScrubResult((), {}, ok=False, reason=fact.failure)
            decoded.append(text)
            facts.append(fact)
        if sum(map(len, decoded)) > self.config.max_total_chars:
            return ScrubResult((), {}, ok=False, reason=ScrubFailure.TEXT_TOO_LONG)
        if not any(f.spans or f.names for f in facts):
            # Nothing to replace anywhere (the common case): the texts stand as they are, if they pass the
            # residual checks, exactly as the full path below would find.
            if any(f.residual for f in facts):
                return ScrubResult((), {}, ok=False, reason=ScrubFailure.RESIDUAL_PII)
            return ScrubResult(tuple(decoded), {}, ok=True)
        placeholders = _Placeholders(self.config.placeholder_format)
        scrubbed = [_replace_spans(t, list(f.spans), placeholders) for t, f in zip(decoded, facts, strict=True)]
        if self.config.detect_names:
            scrubbed = self._scrub_names(scrubbed, facts, placeholders)
        found = {kind: n for kind, n in placeholders.found.items() if n}
        # Texts we changed are re-checked with the detectors too: a replacement must not leave (or form) PII.
        # (An unchanged text without spans has had its residual checks already.)
        if any(f.residual if t == d and not f.spans else residual_risk(t) or (t != d and detect_quick(t))
               for t, d, f in zip(scrubbed, decoded, facts, strict=True)):
            return ScrubResult((), found, ok=False, reason=ScrubFailure.RESIDUAL_PII)
        return ScrubResult(tuple(scrubbed), found, ok=True)

    def _scrub_names(self, texts: list[str], facts: list[_Facts], placeholders: _Placeholders) -> list[str]:
        # Distinct names across the conversation in order of first appearance, found
        # in the texts after structured replacements (a text without spans is its own scrubbed form).
        per_text = (f.names if not f.spans else [n for _, _, n in self.finder.find(t)]
                    for t, f in zip(texts, facts, strict=True))
        names = list(dict.fromkeys(name for found in per_text for name in found))
        if not names:
            return texts
        assigned: dict[str, str] = {}
        for name in names:
            parts = {p.casefold() for p in name_parts(name)} | {name.casefold()}
            earlier = next(
                (
                    ph
                    for other, ph in assigned.items()
                    if parts & ({p.casefold() for p in name_parts(other)} | {other.casefold()})
                ),
                None,
            )
            assigned[name] = earlier or placeholders.assign(PiiKind.NAME, name.casefold())
        pattern = build_propagation(assigned.items(), self.lexicon)
        if pattern is None:
            return texts

        def substitute(m: re.Match[str]) -> str:
            placeholders.found[PiiKind.NAME] += 1
            return placeholder_for(m.group(), assigned)

        return [pattern.sub(substitute, t) for t in texts]
