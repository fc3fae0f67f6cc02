"""Word-level text processing shared by the built-in text models: tokens, light stemming, keywords, topics.

The same functions run when the corpus index is built and when a query is answered, so index and query terms
always agree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from arena.domain import Message

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

_STOPWORDS_TEXT = """
a about above after again against all am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he her
here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not
now of off on once only or other our ours ourselves out over own same she should so some such than that the
their theirs them themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself yourselves also may might
must shall s t don't isn't aren't wasn't weren't can't won't it's i'm i've you're that's what's there's
let's
"""

# Words that shape a request but are not its topic ("tell me about X", "what does X mean").
_REQUEST_TEXT = """
tell explain describe define definition meaning mean means please give show know want like write say
something anything thing things kind sort type example examples word words question answer help could would
make many much really well use used using called call name named get got one two lot
"""

# Pronouns that mark a follow-up question about the previous topic.
_FOLLOW_UP_TEXT = "it its they them their this that these those he she his her"

STOPWORDS: frozenset[str] = frozenset(_STOPWORDS_TEXT.split())
REQUEST_WORDS: frozenset[str] = frozenset(_REQUEST_TEXT.split())
FOLLOW_UP_MARKERS: frozenset[str] = frozenset(_FOLLOW_UP_TEXT.split())


def tokens(text: str) -> list[str]:
    """Lower-case word tokens (letters and digits, with an inner apostrophe kept)."""
    return _WORD.findall(text.lower())


def stem(word: str) -> str:
    """A deliberately light stemmer: folds regular plurals only, so stems stay readable real words."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "'s")):
        return word[:-1]
    if word.endswith("'s"):
        return word[:-2]
    return word


def index_terms(text: str) -> list[str]:
    """Terms a document or a query is indexed under: stems of the non-stopword tokens, in order."""
    return [stem(w) for w in tokens(text) if w not in STOPWORDS]


def keywords(text: str) -> list[str]:
    """Topic words of a prompt, in order of appearance, without stopwords, request words or repeats."""
    seen: dict[str, None] = {}
    for word in tokens(text):
        if word in STOPWORDS or word in REQUEST_WORDS or len(word) < 2 or word.isdigit():
            continue
        seen.setdefault(word, None)
    return list(seen)


def is_follow_up(text: str) -> bool:
    """True when a prompt leans on the previous turn (a pronoun, or almost no topic words of its own)."""
    words = tokens(text)
    return any(w in FOLLOW_UP_MARKERS for w in words) or (len(keywords(text)) <= 1 and len(words) <= 6)


def conversation_topic(messages: Sequence[Message], limit: int = 8) -> list[str]:
    """Keywords for this turn: the latest prompt's, plus the previous user turn's when this is a follow-up.

    Current keywords come first so they dominate; the earlier topic only fills in what a pronoun points at.
    """
    user_turns = [m.content for m in messages if m.role == "user"]
    if not user_turns:
        return []
    current = keywords(user_turns[-1])
    if len(user_turns) > 1 and is_follow_up(user_turns[-1]):
        for word in keywords(user_turns[-2]):
            if word not in current:
                current.append(word)
    return current[:limit]


def count_words(messages: Sequence[Message]) -> int:
    """Whitespace word count of a conversation (the built-ins' notion of prompt tokens)."""
    return sum(len(m.content.split()) for m in messages)


def topic_query(messages: Sequence[Message]) -> str:
    """A search query for this turn: the latest prompt as typed (so phrases like 'speed of light' survive),
    plus the previous topic's keywords when the prompt is a follow-up."""
    user_turns = [m.content for m in messages if m.role == "user"]
    if not user_turns:
        return ""
    own = set(keywords(user_turns[-1]))
    extra = [w for w in conversation_topic(messages) if w not in own]
    return " ".join([user_turns[-1].strip(), *extra]).strip()
