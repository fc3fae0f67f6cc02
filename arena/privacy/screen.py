"""A compiled one-pass screen over a batch of texts: which ones provably hold nothing to scrub.

The scrubber's per-text analysis (`scrub._Facts`: validation, the detector pre-check of
`arena.privacy.prefilter`, the name finder with the pre-checks of `arena.privacy.name_gate`, the
residual checks) costs some 10-20 microseconds of Python per text, most of it spent proving that an
ordinary answer holds nothing. `TextScreen.clean(texts, max_chars)` answers that question for a whole
batch in one compiled loop (numba) over the texts' bytes and returns the texts for which *every* part
of the analysis is sure to find nothing (and which fit the scrubber's length limit); the scrubber then
skips the analysis for exactly those. Each test below is a *necessary* condition of one way a text
can fail that proof, so a text the screen lets through is one the full analysis leaves unchanged
(`tests/privacy/test_screen.py` checks this over the test corpora and generated texts). Anything it is
unsure of goes the usual way: texts that are not ASCII, texts with control characters, and any text
when numba is not installed.

Per text, the loop computes (on ASCII bytes, "lower" meaning ASCII letters folded to lowercase):

- validation: every byte is printable ASCII, a tab, a newline or a carriage return (then `_validate`
  passes it as it is, and `residual_risk`'s checks need an "@" or 12 grouped digits, covered below);
- the detector pre-check (`prefilter.might_hold_pii`), each of its conditions or a weaker one:
  the literals it tests ("@", "://", "www.", "PRIVATE KEY", "bearer", "basic", "dot" with "at",
  the secret and id hints, the vendor-key literals), the MAC shape (six hex pairs, one separator), a
  colon, up to four hex digits and a colon (the IPv6 gate), and, with 4 digits or more, a run of 9
  digits joined only by ``" .-()+"``, ``ddd-dddd``, two capitals before two digits (optionally one
  space apart) and four runs of 1-3 digits joined by one separator (what an IPv4 match needs); the
  longest run of token characters (11, with a vendor literal, or 32);
- the name finder's cues: a keyword alternative of `name_gate._KEYWORDS` among the text's lowercase
  words (the gated kinds), "thank" and "--" (the thanks and dash cues), a mail header word at the
  start of a line followed by a colon (the header cue);
- the name finder's lexicon: a maximal run of ASCII letters shaped ``[A-Z][a-z]+`` (or a camel-case
  pair) of three letters or more whose lowercase form is a census first name outside the allowlist;
  a first name that is also a word (or a place, a month) counts only when a space and a capital follow
  (it needs a surname after it). Census names are letters only, so a token the finder's lexicon pass
  could take is such a run.

Words and letter runs are looked up by a 64-bit FNV-1a hash of their lowercase bytes. A collision can
only make a word look like a keyword or a name, which sends the text the usual way; two keywords with
the same hash would hide one of them, so building the tables refuses that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from arena.privacy import detectors as d
from arena.privacy import name_gate
from arena.privacy import prefilter as pf
from arena.privacy.names import _HEADER_WORDS, _MIN_LEXICON_LEN, AMBIGUOUS_PROPER, NameFinder

FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
_MASK = (1 << 64) - 1

# Bits of the literal hits; the kernel combines them as `might_hold_pii` does.
_STRUCT, _DOT, _AT, _ID_HINT, _VENDOR, _CUE = (1 << k for k in range(6))
# Per-text result bits.
UNSCREENED = 1  # not ASCII, a control character, or no compiled kernel: the usual analysis decides
STRUCTURED = 2  # the detectors might find something
NAMES = 4  # the name finder might find something


def fnv1a(word: bytes) -> int:
    """The 64-bit FNV-1a hash of `word` (the kernel hashes lowercase ASCII bytes the same way)."""
    h = FNV_OFFSET
    for byte in word:
        h = ((h ^ byte) * FNV_PRIME) & _MASK
    return h


def _literals() -> list[tuple[bytes, bool, int]]:
    """(needle, compare lowercased, bit): the substring tests of the pre-checks."""
    exact = [(b"@", _STRUCT), (b"://", _STRUCT), (b"PRIVATE KEY", _STRUCT), (b"--", _CUE)]
    exact += [(lit.encode(), _VENDOR) for lit in (*pf._VENDOR_LITERALS, *pf._AWS_PREFIXES)]
    lower = [(b"www.", _STRUCT), (b"bearer", _STRUCT), (b"basic", _STRUCT), (b"dot", _DOT), (b"at", _AT),
             (b"thank", _CUE)]
    lower += [(hint.encode(), _STRUCT) for hint in d._SECRET_HINTS]
    lower += [(hint.encode(), _ID_HINT) for hint in d._ID_HINTS]
    return [(n, False, bit) for n, bit in exact] + [(n, True, bit) for n, bit in lower]


@dataclass(frozen=True)
class _Tables:
    """The kernel's read-only inputs, built once per name finder."""

    arrays: tuple[np.ndarray, ...]
    keywords: int  # how many cue keywords there are

    @classmethod
    def build(cls, finder: NameFinder) -> _Tables:
        needles = _literals()
        nd_bytes = np.frombuffer(b"".join(n for n, _, _ in needles), np.uint8)
        nd_off = np.cumsum([0] + [len(n) for n, _, _ in needles]).astype(np.int64)
        nd_lower = np.array([low for _, low, _ in needles], np.uint8)
        nd_bit = np.array([bit for _, _, bit in needles], np.int64)
        # One-byte needles set their bit straight from a table; longer ones are compared only where their
        # first two bytes stand (a table of byte pairs), and only those starting with that byte.
        single = np.zeros(256, np.int64)
        pairs = np.zeros(1 << 16, np.uint8)
        starts: list[list[int]] = [[] for _ in range(256)]
        for i, (needle, low, bit) in enumerate(needles):
            firsts, seconds = _variants(needle[0], low), _variants(needle[1], low) if len(needle) > 1 else []
            for first in firsts:
                if len(needle) == 1:
                    single[first] |= bit
                    continue
                starts[first].append(i)
                for second in seconds:
                    pairs[(first << 8) | second] = 1
        disp_off = np.cumsum([0] + [len(s) for s in starts]).astype(np.int64)
        disp_ids = np.array([i for s in starts for i in s], np.int64)
        headers = [w.encode() for w in _HEADER_WORDS]
        hdr_bytes = np.frombuffer(b"".join(headers), np.uint8)
        hdr_off = np.cumsum([0] + [len(h) for h in headers]).astype(np.int64)
        # Keywords of the gated cue kinds, and each kind's alternatives as groups of keyword ids.
        keywords = sorted(name_gate._ALL_KEYWORDS)
        ids = {word: i for i, word in enumerate(keywords)}
        hashes = [fnv1a(word) for word in keywords]
        if len(set(hashes)) != len(hashes):
            raise ValueError("two cue keywords share a hash; the screen cannot tell them apart")
        kw_hash, kw_id = _hash_table(dict(zip(hashes, range(len(keywords)), strict=True)))
        groups: list[list[int]] = []
        alternatives: list[list[int]] = []
        for _, _, alts in name_gate._TABLE:
            for alternative in alts:
                alternatives.append([])
                for group in alternative:
                    alternatives[-1].append(len(groups))
                    groups.append(sorted(ids[word] for word in group))
        grp_off = np.cumsum([0] + [len(g) for g in groups]).astype(np.int64)
        grp_ids = np.array([i for g in groups for i in g], np.int64)
        alt_off = np.cumsum([0] + [len(a) for a in alternatives]).astype(np.int64)
        alt_grps = np.array([g for a in alternatives for g in a], np.int64)
        # First names: plain ones, ones that need a surname after them, and every one (camel-case pairs).
        plain: set[int] = set()
        ambiguous: set[int] = set()
        every: set[int] = set()
        for name, word_like in finder.lexicon.first.items():
            if len(name) < _MIN_LEXICON_LEN:
                continue
            if not name.isascii() or not name.isalpha():
                raise ValueError(f"census first name {name!r} is not ASCII letters: the screen's tokens miss it")
            h = fnv1a(name.lower().encode())
            every.add(h)
            if name in finder.allowlist:
                continue
            (ambiguous if word_like or name in AMBIGUOUS_PROPER else plain).add(h)

        # One table for the three sets: the value's bits say which (1 plain, 2 ambiguous, 4 any first name).
        kinds = {h: (1 if h in plain else 0) | (2 if h in ambiguous else 0) | 4 for h in every}
        name_hash, name_kind = _hash_table(kinds)
        bits = np.array([_STRUCT, _DOT, _AT, _ID_HINT, _VENDOR, _CUE], np.int64)
        return cls((bits, single, pairs, nd_bytes, nd_off, nd_lower, nd_bit, disp_off, disp_ids, hdr_bytes,
                    hdr_off, kw_hash, kw_id, grp_off, grp_ids, alt_off, alt_grps, name_hash, name_kind), len(keywords))


def _variants(byte: int, fold: bool) -> list[int]:
    """The raw bytes a needle byte matches: itself, and its uppercase form when the needle is compared lowercased."""
    return [byte, byte - 32] if fold and 0x61 <= byte <= 0x7A else [byte]


def _hash_table(values: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """An open-addressing table (linear probing, a power-of-two size at most half full) of hash -> value.

    Slot keys are the hashes themselves, 0 marking an empty slot; a hash of 0 is refused (it could not be found).
    """
    if 0 in values:
        raise ValueError("a word hashes to 0, which marks empty slots")
    size = 1 << max(4, (2 * len(values)).bit_length())
    keys, vals = np.zeros(size, np.uint64), np.zeros(size, np.int64)
    for h, value in values.items():
        slot = h & (size - 1)
        while keys[slot]:
            slot = (slot + 1) & (size - 1)
        keys[slot], vals[slot] = h, value
    return keys, vals


class TextScreen:
    """Screens batches of texts for a name finder's lexicon and allowlist (see the module docstring)."""

    def __init__(self, finder: NameFinder) -> None:
        self._tables = _Tables.build(finder)

    @property
    def compiled(self) -> bool:
        """Whether the compiled kernel is available (without it every text is UNSCREENED)."""
        return _kernel() is not None

    def flags(self, texts: Sequence[str]) -> np.ndarray:
        """Per text, the bits UNSCREENED, STRUCTURED, NAMES that hold for it (0: nothing to scrub)."""
        out = np.full(len(texts), UNSCREENED, np.uint8)
        kernel = _kernel()
        if kernel is None or not texts:
            return out
        index = [i for i, text in enumerate(texts) if text.isascii()]
        if not index:
            return out
        chosen = [texts[i] for i in index]
        buf = np.frombuffer("".join(chosen).encode("ascii"), np.uint8)
        ends = np.cumsum(np.fromiter(map(len, chosen), np.int64, len(chosen)))
        starts = ends - np.fromiter(map(len, chosen), np.int64, len(chosen))
        found = np.zeros((len(chosen), 3), np.uint8)  # (unscreenable, structured, names) per text
        if len(buf):
            present = np.zeros(self._tables.keywords, np.uint8)  # scratch: the cue keywords of one text
            kernel(buf, starts, ends, *self._tables.arrays, present, found)
        out[np.array(index, np.int64)] = found @ np.array([UNSCREENED, STRUCTURED, NAMES], np.uint8)
        return out

    def clean(self, texts: Sequence[str], max_chars: int) -> list[str]:
        """The texts of `texts` that provably hold nothing to scrub (and, as the scrubber's length limit
        `max_chars` requires, are no longer than that: longer ones are refused, not clean)."""
        fits = [text for text in texts if len(text) <= max_chars]
        flags = self.flags(fits)
        return [text for text, flag in zip(fits, flags.tolist(), strict=True) if not flag]


@cache
def _kernel() -> Any:
    """The compiled screen (`arena.privacy.screen_kernel`), or None when numba is not installed."""
    try:
        from arena.privacy.screen_kernel import screen
    except ImportError:
        return None
    return screen
