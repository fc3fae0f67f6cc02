"""A conservative pre-check that lets texts which cannot hold structured PII skip the detectors.

`might_hold_pii(text)` is False only when *no* detector of `arena.privacy.detectors` can report a span
in `text`; `detect_quick` then returns `[]` without running them, and otherwise the full `detect`.
Most texts of a release (answers, ordinary prompts) are ASCII prose with a few short numbers, and the
pre-check costs a few microseconds against about fifty for the detectors.

Every condition below is *necessary* for one detector's pattern to match (or for its post-checks to
accept a match); the pre-check answers True unless all of them fail. They are computed on byte
"shapes" of an ASCII text, made with `bytes.translate` in one pass each:

- `zeros`: ASCII digits -> "0" with ``" .-()+"`` deleted. Every phone pattern matches only digits
  and those separators, so a phone leaves a run of as many "0"s as it has digits: 9+ for all but the
  7-digit local form ``\\d{3}-\\d{4}`` (seen as "000-0000" in `classes`); likewise a card (13+ digits,
  "[ -]" separators), an SSN (9 digits), a keyword phone (9 digits in a row) and a NINO (6 digits with
  optional spaces). Deleting characters never splits a run of digits, it can only join runs.
- `classes`: uppercase -> "A", lowercase -> "a", digits -> "0": an IBAN starts with ``[A-Z]{2}\\d{2}``
  ("AA00"), a NINO with two capitals and two digits (optionally one space apart).
  An IPv4 address has two separators one octet apart ("0.00.0" for "10.20.30.40").
- `tokens`: the characters of ``[A-Za-z0-9+/_-]`` -> "x": a generic token is a 32+ run of them, every
  vendor key an 11+ run (and it contains one of `_VENDOR_LITERALS`).

Non-ASCII texts always go to the full detectors (``\\d`` and ``\\w`` are Unicode-aware there).
`tests/privacy/test_prefilter.py` checks `detect_quick == detect` over the test corpora and
generated texts; a new detector pattern needs a necessary condition here.
"""

from __future__ import annotations

import re

from arena.privacy import detectors as d
from arena.privacy.detectors import Span, detect

_DIGITS = b"0123456789"
_ZEROS = bytes.maketrans(_DIGITS, b"0" * 10)
_ZERO_DELETE = b" .-()+"
_UPPER = bytes(range(0x41, 0x5B))
_LOWER = bytes(range(0x61, 0x7B))
_CLASSES = bytes.maketrans(_UPPER + _LOWER + _DIGITS, b"A" * 26 + b"a" * 26 + b"0" * 10)
_TOKEN_CHARS = _UPPER + _LOWER + _DIGITS + b"+/_-"
_TOKENS = bytes.maketrans(_TOKEN_CHARS, b"x" * len(_TOKEN_CHARS))
# Each alternative of the vendor-key pattern contains one of these ("_" covers ghp_, hf_, npm_, sk_live_).
_VENDOR_LITERALS = ("_", "sk-", "xox", "glpat-", "eyJ", "AIza")
_AWS_PREFIXES = ("AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AROA", "ANPA")
# An IPv4 match is four octets of 1-3 digits with one separator: "0.0.0", "0.00.0" or "0.000.0" in `classes`.
_IPV4_SHAPES = tuple(b"0" + sep + b"0" * n + sep + b"0" for sep in (b".", b"-", b"_") for n in (1, 2, 3))
# Two consecutive "hex{0,4}:" groups of the IPv6 pattern contain "::" or this.
_COLON_HEX = re.compile(r":[0-9A-Fa-f]{1,4}:")


def _contains_any(text: str, needles: tuple[str, ...]) -> bool:
    # A plain loop: cheaper than any() over a generator or a map on these short lists.
    for needle in needles:  # noqa: SIM110
        if needle in text:
            return True
    return False


def _structured_hint(text: str, lower: str) -> bool:
    """The gates of the detectors that look for keywords or punctuation (the same tests they make)."""
    if "@" in text or "://" in text or "www." in lower or "PRIVATE KEY" in text:
        return True  # emails, URLs, PEM keys
    if "dot" in lower and "at" in lower:
        return True  # obfuscated emails
    if "bearer" in lower or "basic" in lower:
        return True
    if _contains_any(lower, d._SECRET_HINTS) and d._SECRET_KV.search(text):
        return True
    colons = text.count(":")
    if (colons >= 5 or text.count("-") >= 5) and d._MAC.search(text):
        return True
    return colons >= 2 and ("::" in text or _COLON_HEX.search(text) is not None)


def _numeric_hint(text: str, lower: str, raw: bytes) -> bool:
    """Necessary conditions of the digit-based patterns (cards, phones, ids, IPv4), on byte shapes."""
    digits = len(raw) - len(raw.translate(None, _DIGITS))
    if digits < 4:
        return False  # every digit-based detector needs 4+ digits (find_ids, find_ips gate on it)
    zeros = raw.translate(_ZEROS, _ZERO_DELETE)
    classes = raw.translate(_CLASSES)
    if b"0" * 9 in zeros or b"000-0000" in classes:
        return True  # a card (13+), SSN (9), phone (9+, or 7 as "ddd-dddd") might be there: run the detectors
    if b"AA00" in classes or (b"AA 00" in classes and b"0" * 6 in zeros):
        return True  # IBAN, NINO (two capitals, then six digits with optional spaces)
    if _contains_any(lower, d._ID_HINTS):
        return True  # keyword-introduced id numbers (4+ digits)
    if b"0.0" not in classes and b"0-0" not in classes and b"0_0" not in classes:
        return False  # every shape below starts with one of these
    for shape in _IPV4_SHAPES:
        if shape in classes:
            return d._IPV4.search(text) is not None
    return False


def _token_hint(text: str, raw: bytes) -> bool:
    """Generic high-entropy tokens (32+ token characters) and vendor keys (11+, with a vendor literal)."""
    tokens = raw.translate(_TOKENS)
    if b"x" * 11 not in tokens:
        return False
    return b"x" * 32 in tokens or _contains_any(text, _VENDOR_LITERALS + _AWS_PREFIXES)


def might_hold_pii(text: str) -> bool:
    """False only when no detector can report a span in `text` (see the module docstring)."""
    if not text.isascii():
        return True
    lower = text.lower()
    raw = text.encode("ascii")
    return _structured_hint(text, lower) or _numeric_hint(text, lower, raw) or _token_hint(text, raw)


def detect_quick(text: str) -> list[Span]:
    """The same spans as `detect(text)`, without running the detectors on texts that cannot hold any."""
    return detect(text) if might_hold_pii(text) else []
