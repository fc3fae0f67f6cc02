"""Conservative pre-checks for the name finder of `arena.privacy.names`: what can match in an ASCII text.

`ascii_words(text)` gives an ASCII text's bytes and lowercase words (None for any other text: then
the finder runs in full, as before). `cue_kinds(words)` returns the cue kinds whose pattern *might*
match; the finder skips the others, which cannot, so its answer is unchanged (its own hint tests and
the patterns still run for the kinds returned). `lexicon_possible` is False only when the lexicon
pass cannot find a name.

Each gated pattern (see `_CUES` in names.py) needs a keyword that stands as a whole word: it follows
a word boundary, a space or an apostrophe, and is followed by a space, a tab, a comma or other
punctuation, so it is a maximal run of ``[A-Za-z0-9_]`` (what ``\\w`` and ``\\b`` mean on ASCII text).
The case-insensitive patterns match ASCII letters only in their ASCII case variants, so the keyword's
lowercase form is one of the text's lowercase words:

- strong: "my name is|my name's|his name is" -> name, "call me" -> call, signed, dear;
- rel: the possessive (my, our, his, her, their) and the last word of the relation ("co-worker" ->
  worker), each followed by spaces (or a comma after the relation);
- title: mr, mrs, ... (case-sensitive in the pattern, so the lowercase word is a weaker condition);
- greet: hi, hello, hey, hiya, greetings, or the last word of "good morning|afternoon|evening";
- signoff: the last word of each sign-off ("kind regards" -> regards), before ``[ \\t]*[,!.\\n]``;
- vocative: the last word of each phrase ("no problem" -> problem), directly before a comma;
- selfref: "here" between a space and punctuation;
- intro: "Im", or "I" with "m" ("I'm") or "am", or "this|it" with "is" or "s" ("it's"), before spaces;
- isname: "is", "my" and "name" or "surname" ("X is my first name").

The kinds thanks, dash and header are not gated here (their hint tests are one substring each); the
finder skips the header cue on a text with no newline that does not start with a header word (its
pattern starts with a multiline ``^``).

The lexicon pass looks only at tokens whose capitalised form is a census first name of three letters or
more. Census names are letters only, so on ASCII text such a token is ``[A-Z][a-z]+`` (no apostrophe or
hyphen part) unless it is a camel-case pair ("JordanBlake", which shows as ``[a-z][A-Z]``); the token
pattern's look-arounds make it a whole word. So its lowercase form is a word of the text, and its
capitalised form occurs in the text.
`tests/privacy/test_name_gate.py` checks that the finder gives the same names with and without it.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from functools import lru_cache

_WORD_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"
_NON_WORD = bytes(range(256)).translate(None, _WORD_BYTES)
_UPPER = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# One pass: ASCII letters to lowercase, every byte that is not a word character to a space.
_LOWER_WORDS = bytes.maketrans(_UPPER + _NON_WORD, _UPPER.lower() + b" " * len(_NON_WORD))


def _any_of(words: str) -> frozenset[bytes]:
    return frozenset(word.encode("ascii") for word in words.split())


# kind -> alternatives; an alternative holds when each of its word sets meets the text's words.
_RELATIONS = _any_of(
    "colleague coworker worker friend boss manager supervisor wife husband partner son daughter mother father mom "
    "mum dad brother sister uncle aunt cousin nephew niece grandma grandmother grandpa grandfather neighbor "
    "neighbour teacher professor tutor student client customer patient doctor therapist lawyer landlord landlady "
    "tenant roommate flatmate girlfriend boyfriend fiance fiancee ex classmate teammate employee assistant intern "
    "mentor coach child kid baby buddy pal contact recruiter"
)
_KEYWORDS: Mapping[str, tuple[tuple[frozenset[bytes], ...], ...]] = {
    "strong": ((_any_of("name call signed dear"),),),
    "rel": ((_any_of("my our his her their"), _RELATIONS),),
    "title": ((_any_of("mr mrs ms mx miss dr prof sir dame mme mlle herr frau sr sra"),),),
    "greet": ((_any_of("hi hello hey hiya greetings morning afternoon evening"),),),
    "signoff": ((_any_of("best regards cheers sincerely truly yours love respectfully care wishes warmly thx"),),),
    "vocative": ((_any_of("sure course okay ok absolutely certainly question problem welcome thanks you congrats "
                          "congratulations sorry hi hello hey done luck bye goodbye"),),),
    "selfref": ((_any_of("here"),),),
    "intro": ((_any_of("im"),), (_any_of("i"), _any_of("m am")), (_any_of("this it"), _any_of("is s"))),
    "isname": ((_any_of("is"), _any_of("my"), _any_of("name surname")),),
}
# (kind, every word of its alternatives, alternatives): a kind none of whose words occur is out at once.
_TABLE = tuple((kind, frozenset().union(*(g for alt in alts for g in alt)), alts) for kind, alts in _KEYWORDS.items())
_ALL_KEYWORDS = frozenset().union(*(words for _, words, _ in _TABLE))
# ASCII letters to "a" (lowercase) and "A" (uppercase), every other byte as it is: a camel-case pair
# (``[a-z][A-Z]``) is then the substring "aA", found without a regex scan.
_CASE_SHAPE = bytes.maketrans(_UPPER + _UPPER.lower(), b"A" * 26 + b"a" * 26)
UNGATED: frozenset[str] = frozenset({"thanks", "dash", "header"})


def ascii_words(text: str) -> tuple[bytes, list[bytes]] | None:
    """An ASCII text's bytes and its lowercase words (maximal runs of ``[a-z0-9_]``); None for other texts."""
    if not text.isascii():
        return None
    raw = text.encode("ascii")
    return raw, raw.translate(_LOWER_WORDS).split()


def cue_kinds(text_words: list[bytes]) -> Set[str]:
    """The cue kinds that can match a text with these lowercase words."""
    words = _ALL_KEYWORDS.intersection(text_words)
    return _kinds_of(words) if words else UNGATED


@lru_cache(maxsize=4096)
def _kinds_of(words: frozenset[bytes]) -> frozenset[str]:
    """The cue kinds the keywords `words` (a subset of `_ALL_KEYWORDS`) allow; texts share few such subsets."""
    kinds = set(UNGATED)
    for kind, touched, alternatives in _TABLE:
        if words.isdisjoint(touched):
            continue
        for alternative in alternatives:
            if all(not words.isdisjoint(group) for group in alternative):
                kinds.add(kind)
                break
    return UNGATED if kinds == UNGATED else frozenset(kinds)


def lexicon_possible(raw: bytes, text_words: list[bytes], first_names: frozenset[bytes]) -> bool:
    """False only when no token of the text is a first name; `first_names` are lowercase, 3+ letters."""
    if b"aA" in raw.translate(_CASE_SHAPE):
        return True  # a camel-case pair
    return any(word.capitalize() in raw for word in first_names.intersection(text_words))
