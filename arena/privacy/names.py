"""Offline person-name policy: cue phrases, a census first-name list, and conversation-wide propagation.

No NER model is available offline, so names are found three ways (see docs/privacy.md, "Names"):

1. cues: "my name is X", "I'm X Y", "my colleague X Y", "Dear X", "Mr. X", "Hi X,", sign-offs
   ("Thanks,\\nX"), signature dashes and mail headers ("From: X Y");
2. the lexicon: a capitalised token that is a US-Census first name (public domain, shipped as
   `first_names.txt`) and not an ordinary English word, place or month, plus the capitalised tokens
   that follow it ("Jordan Blake"); a first name that is also a word ("Will", "Grace") counts only
   when a census surname follows ("Will Smith");
3. propagation: once a name is found anywhere in a conversation, every later or earlier occurrence
   of each of its parts in any text of that conversation is replaced too ("Sure, Jordan").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources

from arena.privacy.name_gate import UNGATED, ascii_words, cue_kinds, lexicon_possible


def _letters(predicate: str) -> str:
    chars = (chr(c) for c in range(0x41, 0x250))
    return "".join(re.escape(ch) for ch in chars if getattr(ch, predicate)())


_UP, _LO = _letters("isupper"), _letters("islower")
TOKEN = rf"(?:[{_UP}]['’])?[{_UP}][{_LO}]+(?:[{_UP}][{_LO}]+)?(?:-[{_UP}][{_LO}]+)?"
_TOKEN_RE = re.compile(rf"(?=[{_UP}])(?<![\w'’@#/\\.-]){TOKEN}(?![\w@])")
_RELATIONS = (
    "colleague|co-?worker|friend|best friend|boss|manager|supervisor|wife|husband|partner|son|daughter|"
    "mother|father|mom|mum|dad|brother|sister|uncle|aunt|cousin|nephew|niece|grandma|grandmother|grandpa|"
    "grandfather|neighbou?r|teacher|professor|tutor|student|client|customer|patient|doctor|therapist|"
    "lawyer|landlord|landlady|tenant|roommate|flatmate|girlfriend|boyfriend|fianc[ée]e?|ex|classmate|"
    "teammate|employee|assistant|intern|mentor|coach|child|kid|baby|buddy|pal|contact|recruiter"
)
_SIGNOFF_COMMA = (
    "best|best regards|kind regards|warm regards|warmest regards|regards|cheers|sincerely|yours truly|"
    "yours sincerely|yours|love|respectfully|all the best|take care|best wishes|warmly|thx"
)
# Mail and commit headers; the header cue matches one at the start of a line.
_HEADER_WORDS = ("From", "To", "Cc", "Bcc", "Reply-To", "Author", "Signed-off-by", "Co-authored-by")
_RUN = rf"(?P<name>{TOKEN}(?:[ ]{TOKEN}){{0,2}})(?![\w@])"
_CUES: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    # (kind, lowercase substrings one of which must occur, cue before the name, lookahead after the name)
    (
        "strong",
        ("name", "call me", "signed", "dear"),
        r"(?=[mchtsdMCHTSD])(?i:\bmy name is|\bmy name's|\bcall me|\b(?:his|her|their) name is|\bsigned|\bdear)[ \t]+",
        "",
    ),
    (
        "rel",
        ("my ", "our ", "his ", "her ", "their "),
        r"(?=[mohtMOHT])(?i:\b(?:my|our|his|her|their)[ \t]+(?:" + _RELATIONS + r"))[ \t]*,?[ \t]+",
        "",
    ),
    (
        "title",
        ("Mr", "Ms", "Mx", "Miss", "Dr", "Prof", "Sir", "Dame", "Mme", "Mlle", "Herr", "Frau", "Sr"),
        r"(?=[MDPSHF])\b(?:Mr|Mrs|Ms|Mx|Miss|Dr|Prof|Sir|Dame|Mme|Mlle|Herr|Frau|Sr|Sra)\.?[ \t]+",
        "",
    ),
    (
        "greet",
        ("hi", "hello", "hey", "greetings", "good "),
        r"^[ \t]*(?i:hi|hello|hey|hiya|greetings|good (?:morning|afternoon|evening))[ \t]*,?[ \t]+",
        r"(?=[ \t]*(?:[,!:.]|$))",
    ),
    (
        "thanks",
        ("thank",),
        r"(?=[tmTM])(?i:\bthanks|\bthank you|\bmany thanks)[ \t]*[,!.]?[ \t]*\n?[ \t]*",
        r"(?=[ \t]*(?:[,!.:]|$))",
    ),
    (
        "signoff",
        tuple(w.split(" ")[-1] for w in _SIGNOFF_COMMA.split("|")),
        r"(?=[bkwrcsylatBKWRCSYLAT])(?i:\b(?:" + _SIGNOFF_COMMA + r"))[ \t]*(?:[,!.][ \t]*\n?|\n)[ \t]*(?:-[ \t]*)?",
        r"(?=[ \t]*(?:[,.!]|$))",
    ),
    (
        "vocative",
        (
            "sure,",
            "course,",
            "ok,",
            "okay,",
            "absolutely,",
            "certainly,",
            "question,",
            "problem,",
            "welcome,",
            "thanks,",
            "you,",
            "congrats,",
            "congratulations,",
            "sorry,",
            "hi,",
            "hello,",
            "hey,",
            "done,",
            "luck,",
            "bye,",
        ),
        r"(?=[soacgnywthbSOACGNYWTHB])(?i:\b(?:sure|of course|okay|ok|absolutely|certainly|"
        r"(?:great|good) question|no problem|you're welcome|welcome|thanks|thank you|congrats|"
        r"congratulations|sorry|hi|hello|hey|well done|good luck|bye|goodbye|see you)),[ \t]*",
        r"(?=[ \t]*[,!.?;:])",
    ),
    ("dash", ("--", "—", "–"), r"^[ \t]*(?:--|—|–)[ \t]*", r"(?=\s*\Z)"),
    ("selfref", (" here",), r"^[ \t]*", r"(?=[ \t]+here[:,!.])"),
    ("isname", ("is my ",), "", r"(?=[ \t]+is my (?:name|first name|last name|surname)\b)"),
    ("header", (":",), r"^(?:" + "|".join(_HEADER_WORDS) + r")[ \t]*:[ \t]*", ""),
    (
        "intro",
        ("i'm", "i’m", "i am", "im ", "this is", "it's", "it is"),
        r"(?=[iItT])(?i:\b(?P<me>I'm|I’m|I am|Im)|\bthis is|\bit's|\bit is)[ \t]+",
        "",
    ),
)
_CUE_PATTERNS: tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...] = tuple(
    (kind, hints, re.compile(cue + _RUN + after, re.MULTILINE)) for kind, hints, cue, after in _CUES
)


# The hints of the cue kinds the word gate never rules out, but the header cue (tested on its own).
_UNGATED_HINTS = tuple(h for kind, hints, _, _ in _CUES if kind in UNGATED and kind != "header" for h in hints)


def _ungated_hint(text: str, lower: str) -> bool:
    """Whether the hint test `_by_cue` makes for a kind of `UNGATED` passes, for any of them."""
    for hint in _UNGATED_HINTS:  # a plain loop: the cheapest on a short tuple
        if hint in lower:
            return True
    return ":" in lower and ("\n" in text or text.startswith(_HEADER_WORDS))


@lru_cache(maxsize=256)
def _cues_among(kinds: frozenset[str]) -> tuple[tuple[str, tuple[str, ...], re.Pattern[str]], ...]:
    """The entries of `_CUE_PATTERNS` whose kind is in `kinds`, in order (few distinct sets occur)."""
    return tuple(entry for entry in _CUE_PATTERNS if entry[0] in kinds)


# Same answer as testing each title hint with `in`, in one scan (the title hints are case-sensitive).
_TITLE_HINTS = re.compile("|".join(re.escape(h) for kind, hints, _, _ in _CUES if kind == "title" for h in hints))

_CLAUSE_END = re.compile(r"[ \t]*(?:[,.!;]|$)", re.MULTILINE)

# Word lists read best as text, hence the `noqa: SIM905` below.
# Capitalised words that follow cues or names without being names ("Hi All", "Dear Hiring Manager").
STOPWORDS: frozenset[str] = frozenset(
    """
A An The This That These Those There Here Not Just So Also Sure Sorry Happy Glad Still Back New Very Really
Team All Everyone Everybody Folks Guys Sir Madam Friend Friends World Again Anyway Well Yes No Ok Okay Hey
Hi Hello Please Thanks Thank You Your My Our His Her Their Its It Is Are Was Were Be Been Being Am And Or But
If Then When Where What Who Why How Which With Without From For To Of In On At By About Into Over Under After
Before During Since Until Upon Using Working Trying Looking Going Getting Feeling Doing Making Writing
Reading Building Running Learning Planning Wondering Asking Hoping Excited Interested Curious Confused
Stuck Done Ready Able Unable Currently Finally Actually Basically Honestly Customer Hiring Manager Valued
Editor Reviewer Reviewers Committee Colleagues Members Support Admin Administrator Assistant User Bot AI
Model Chat Mom Dad Mum Mother Father Sister Brother Baby Honey Love Dear Best Regards Cheers Sincerely
Monday Tuesday Wednesday Thursday Friday Saturday Sunday Today Tomorrow Yesterday Morning Afternoon Evening
Night Everything Nothing Something Anything Other Another Some Any Each Every Both Either Neither One Two
Three First Second Third Last Next Good Great Nice Fine Bad Big Small Little Old Young Dr Mr Mrs Ms Prof
Professor Doctor Chapter Section Part Step Note Example Figure Table Version Release Update Python Java
""".split()  # noqa: SIM905
)
TITLE_WORDS: frozenset[str] = frozenset(
    ("Dr", "Mr", "Mrs", "Ms", "Mx", "Miss", "Prof", "Professor", "Doctor", "Sir", "Dame", "Madam")
)

# Census first names that are usually something else in running text: treated like dictionary words.
AMBIGUOUS_PROPER: frozenset[str] = frozenset(
    """
January February March April May June July August September October November December Jan Feb Mar Apr
Jun Jul Aug Sep Sept Oct Nov Dec Monday Tuesday Wednesday Thursday Friday Saturday Sunday America Argentina
Asia India China Kenya Israel Chad France Georgia Virginia Carolina Dakota Florida Nevada Maryland Austin
Dallas Houston Denver Phoenix Orlando Cleveland Columbus Lincoln Madison Jackson Charlotte Chelsea Florence
Sydney Victoria Paris Geneva Venice Verona Milan Valencia Adelaide Alexandria Augusta Savannah Raleigh
Regina Shasta Tijuana Trinidad Santiago Angeles Dominica Hong German Irish Latina Christian Easter Santa
Aurora Luna Eden Nova Kelvin
""".split()  # noqa: SIM905
)
# Tech, product and model names that collide with first names: never a name by lexicon alone.
DEFAULT_ALLOWLIST: frozenset[str] = frozenset(
    """
Ada Julia Ruby Pascal Alexa Siri Claude Jasper Cortana Bard Gemini Max Min Dell Mercedes Porsche Tiffany
Harley Chanel Pandora Venus Isis Marx Tesla Django Rust Swift Kotlin Perl Scala Jupyter Alpaca Vicuna Llama
Mistral Falcon Phi Grok Dolly Sage Kali Mac Hugo Cassandra Maya Jasmine Ernie Gemma Orca Aya
""".split()  # noqa: SIM905
)

_MIN_LEXICON_LEN = 3  # two-letter names ("Al", "Li", "Fe") are also chemical symbols and abbreviations


def _load_flagged(filename: str) -> dict[str, bool]:
    """name -> True when the lowercase form is an ordinary English word (see NAMES_SOURCE.md)."""
    text = resources.files("arena.privacy").joinpath(filename).read_text(encoding="ascii")
    rows = (line.split("\t") for line in text.splitlines() if line and not line.startswith("#"))
    return {name: flag.strip() == "w" for name, flag in rows}


@dataclass(frozen=True)
class NameLexicon:
    """Census first names and surnames, each flagged when it is also an ordinary lowercase word."""

    first: Mapping[str, bool]
    surnames: Mapping[str, bool]

    @classmethod
    def load_default(cls) -> NameLexicon:
        """The shipped lists (US Census 1990; provenance in arena/privacy/NAMES_SOURCE.md)."""
        return cls(first=_load_flagged("first_names.txt"), surnames=_load_flagged("surnames.txt"))

    def first_name_kind(self, token: str) -> str | None:
        """'name', 'ambiguous' (also a word, place or month) or None when not a known first name."""
        flag = self.first.get(token.capitalize())
        if flag is None:
            return None
        return "ambiguous" if flag or token in AMBIGUOUS_PROPER else "name"

    @cached_property
    def lower_first_words(self) -> frozenset[bytes]:
        """The first names of three letters or more, lowercase ASCII (for `name_gate.lexicon_possible`)."""
        return frozenset(name.lower().encode("ascii") for name in self.first if len(name) >= _MIN_LEXICON_LEN)

    def is_surname(self, token: str) -> bool:
        return token.capitalize() in self.surnames

    def is_word_like(self, part: str) -> bool:
        """True when the lowercase form of a name part is an ordinary word (match it case-sensitively)."""
        key = part.capitalize()
        return self.first.get(key, False) or self.surnames.get(key, False) or part in AMBIGUOUS_PROPER


@dataclass(frozen=True)
class NameFinder:
    """Finds person names in one text by cues and by the lexicon; `allowlist` words are never lexicon hits."""

    lexicon: NameLexicon
    allowlist: frozenset[str] = field(default=DEFAULT_ALLOWLIST)

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """Non-overlapping (start, end, name) spans, sorted by start."""
        words = ascii_words(text)  # None (no pre-checks) unless the text is ASCII: arena/privacy/name_gate.py
        lexicon = words is None or lexicon_possible(*words, self.lexicon.lower_first_words)
        spans = self._by_cue(text, None if words is None else cue_kinds(words[1]))
        spans += self._by_lexicon(text) if lexicon else []
        if len(spans) <= 1:
            return spans  # nothing overlaps
        chosen: list[tuple[int, int, str]] = []
        for span in sorted(spans, key=lambda s: (s[0] - s[1], s[0])):
            if all(span[1] <= c[0] or span[0] >= c[1] for c in chosen):
                chosen.append(span)
        return sorted(chosen)

    def _trim(self, tokens: list[str]) -> list[str]:
        while tokens and tokens[0] in TITLE_WORDS:
            tokens = tokens[1:]
        kept: list[str] = []
        for tok in tokens:
            if tok in STOPWORDS or (kept and tok in self.allowlist):
                break
            kept.append(tok)
        return kept

    def _by_cue(self, text: str, possible: AbstractSet[str] | None) -> list[tuple[int, int, str]]:
        spans: list[tuple[int, int, str]] = []
        lower = text.lower()
        if possible is UNGATED and not _ungated_hint(text, lower):
            return spans  # the same tests as the loop below makes for these kinds, at once
        # Only the cues whose keyword is a word of the text, in their usual order (ties keep it).
        cues = _CUE_PATTERNS if possible is None else _cues_among(frozenset(possible))
        for kind, hints, pattern in cues:
            if kind == "title":
                if _TITLE_HINTS.search(text) is None:
                    continue
            elif kind == "header" and possible is not None:
                # The pattern starts with "^" (multiline) and a header word: at the text's start or after a newline.
                if ":" not in text or ("\n" not in text and not text.startswith(_HEADER_WORDS)):
                    continue
            elif (kind == "vocative" and "," not in lower) or not any(map(lower.__contains__, hints)):
                continue  # every vocative hint ends with ","
            for m in pattern.finditer(text):
                tokens = self._trim(m.group("name").split(" "))
                if not tokens or not self._cue_ok(kind, tokens, m):
                    continue
                name = " ".join(tokens)
                start = m.start("name") + m.group("name").index(tokens[0])
                spans.append((start, start + len(name), name))
        return spans

    def _cue_ok(self, kind: str, tokens: list[str], m: re.Match[str]) -> bool:
        """Weak cues need more evidence than strong ones ("my name is X" takes any capitalised X).

        "I'm X": X is a first name, two capitalised words follow ("I'm Priya Raman"), or X ends the
        clause ("I'm Oluwaseun.");
        "this is X" / "X here:": X is a census first name; "Sure, X!": X is not a known product word.
        """
        head = tokens[0]
        if kind not in ("intro", "selfref", "vocative", "isname"):
            return True
        if head in self.allowlist or head in AMBIGUOUS_PROPER:
            return False
        name_kind = self.lexicon.first_name_kind(head)
        if kind == "intro" and m.group("me"):
            whole_run = len(tokens) == m.group("name").count(" ") + 1
            clause_ends = whole_run and _CLAUSE_END.match(m.string, m.end()) is not None
            return name_kind is not None or len(tokens) >= 2 or clause_ends
        return kind in ("vocative", "isname") or name_kind == "name"

    def _by_lexicon(self, text: str) -> list[tuple[int, int, str]]:
        first, allow = self.lexicon.first, self.allowlist
        if not any(
            len(t) >= _MIN_LEXICON_LEN and t not in allow and t.capitalize() in first for t in _TOKEN_RE.findall(text)
        ):
            return []  # no token the loop below would look at is a first name
        tokens = [(m.start(), m.end(), m.group()) for m in _TOKEN_RE.finditer(text)]
        spans, i = [], 0
        while i < len(tokens):
            start, _, tok = tokens[i]
            if len(tok) < _MIN_LEXICON_LEN or tok in self.allowlist:
                i += 1
                continue
            kind = self.lexicon.first_name_kind(tok)
            run = self._following(text, tokens, i) if kind else []
            if kind == "ambiguous":
                run = run[:1] if run and self.lexicon.is_surname(run[0]) else []
                kind = "name" if run else None
            if kind == "name":
                end = tokens[i + len(run)][1]
                spans.append((start, end, text[start:end]))
                i += len(run)
            i += 1
        return spans

    def _following(self, text: str, tokens: list[tuple[int, int, str]], i: int) -> list[str]:
        """Up to two capitalised tokens directly after token i (one space apart) that may be surnames."""
        run: list[str] = []
        for j in range(i + 1, min(i + 3, len(tokens))):
            tok = tokens[j][2]
            if text[tokens[j - 1][1] : tokens[j][0]] != " " or tok in STOPWORDS or tok in self.allowlist:
                break
            if tok in AMBIGUOUS_PROPER:
                break
            run.append(tok)
        return run


def name_parts(name: str) -> list[str]:
    """The parts of a full name that identify its bearer on their own (titles and initials dropped)."""
    parts = re.split(r"[ \-]", name)
    return [p for p in parts if len(p) >= 2 and p not in TITLE_WORDS and p not in STOPWORDS]


def build_propagation(names: Iterable[tuple[str, str]], lexicon: NameLexicon) -> re.Pattern[str] | None:
    """One pattern matching every detected full name and every part of one, in any text of a conversation.

    `names` pairs a detected name with its placeholder. Parts that are ordinary words ("Will",
    "Park") or of three letters or fewer ("Li", "Ann") match only as written or upper-case; other
    parts match in any case, also inside
    handles and URLs when delimited by punctuation ("jordan.blake", "linkedin.com/in/jordan-blake").
    """
    alternatives: dict[str, str] = {}
    for name, _ in names:
        for candidate in [name, *name_parts(name)]:
            if " " not in candidate and (len(candidate) <= 3 or lexicon.is_word_like(candidate)):
                alternatives[candidate] = f"(?:{re.escape(candidate)}|{re.escape(candidate.upper())})"
            else:
                body = r"\s+".join(re.escape(p) for p in candidate.split(" "))
                alternatives[candidate] = f"(?i:{body})"
    if not alternatives:
        return None
    ordered = sorted(alternatives, key=len, reverse=True)
    return re.compile(r"(?<![^\W_])(?:" + "|".join(alternatives[a] for a in ordered) + r")(?![^\W_])")


def placeholder_for(match: str, assigned: Mapping[str, str]) -> str:
    """The placeholder of the detected name that `match` (a full name or one part, any case) belongs to."""
    key = " ".join(match.split()).casefold()
    for name, placeholder in assigned.items():
        if key == name.casefold() or key in (p.casefold() for p in name_parts(name)):
            return placeholder
    raise KeyError(match)
