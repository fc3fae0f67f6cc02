"""The offline names policy: cue phrases, the census lexicon, the allowlist and propagation."""

from __future__ import annotations

import pytest

from arena.privacy.names import NameFinder, NameLexicon, build_propagation, name_parts, placeholder_for


@pytest.fixture(scope="module")
def lexicon() -> NameLexicon:
    return NameLexicon.load_default()


@pytest.fixture(scope="module")
def finder(lexicon: NameLexicon) -> NameFinder:
    return NameFinder(lexicon)


def names(finder: NameFinder, text: str) -> list[str]:
    return [name for _, _, name in finder.find(text)]


def test_lexicon_loads_census_lists_with_word_flags(lexicon: NameLexicon) -> None:
    assert len(lexicon.first) > 5000 and len(lexicon.surnames) == 5000
    assert lexicon.first_name_kind("Jordan") == "name"
    assert lexicon.first_name_kind("Will") == "ambiguous"  # also an English word
    assert lexicon.first_name_kind("June") == "ambiguous"  # a month
    assert lexicon.first_name_kind("Priya") is None  # not in the 1990 census list: needs a cue
    assert lexicon.is_surname("Smith") and lexicon.is_surname("MCDONALD")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi, I'm Jordan Blake (a developer).", ["Jordan Blake"]),
        ("my name is Priya Raman and I need help", ["Priya Raman"]),
        ("my colleague Priya Raman says it is fine", ["Priya Raman"]),
        ("Ask my landlord, Oluwaseun Okafor, about it", ["Oluwaseun Okafor"]),
        ("Dear Siobhan,\nplease see below", ["Siobhan"]),
        ("I spoke to Dr. Nakamura yesterday", ["Nakamura"]),
        ("Mr Haddad agreed", ["Haddad"]),
        ("Hi Thandiwe, thanks for writing", ["Thandiwe"]),
        ("That is all.\nThanks,\nZofia", ["Zofia"]),
        ("Best regards,\nKenji Nakamura", ["Kenji Nakamura"]),
        ("See the attached file.\n-- Dmitri", ["Dmitri"]),
        ("From: Ingrid Lindqvist <x>\nSubject: hi", ["Ingrid Lindqvist"]),
        ("Sure, Ngozi! Here is how.", ["Ngozi"]),
        ("I'm Aarav Varga and new here", ["Aarav Varga"]),
        ("I'm Oluwaseun. Nice to meet you", ["Oluwaseun"]),
        ("Kowalczyk is my surname", ["Kowalczyk"]),
    ],
)
def test_cues_find_names_outside_the_lexicon(finder: NameFinder, text: str, expected: list[str]) -> None:
    assert names(finder, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yesterday Emily Novak sent the report", ["Emily Novak"]),
        ("Jordan said it works", ["Jordan"]),
        ("Will Smith starred in it. Will it rain?", ["Will Smith"]),
        ("Grace Hopper wrote the first compiler", ["Grace Hopper"]),
    ],
)
def test_lexicon_finds_census_first_names(finder: NameFinder, text: str, expected: list[str]) -> None:
    assert names(finder, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Will the build pass? Grace period ends soon.",
        "It is May 2024 in Austin, Texas; see you in June.",
        "I am Canadian and I'm Sorry about that.",
        "Dear Hiring Manager, Hello World!",
        "Learn Ruby on Rails or Julia on my Mac; ask Claude or Gemini.",
        "Key points:\n- Performance\n- Install Python\n- Scalability",
        "Best Practices for Li-ion cells: NaCl, Fe2O3",
        "This is Visual Studio Code. It's Google Chrome. Details here: below.",
        "Sure, Python is fine.",
    ],
)
def test_ordinary_capitalised_words_are_not_names(finder: NameFinder, text: str) -> None:
    assert names(finder, text) == []


def test_allowlist_is_configurable(lexicon: NameLexicon) -> None:
    text = "Ask Jordan or Claude."
    assert names(NameFinder(lexicon), text) == ["Jordan"]
    assert names(NameFinder(lexicon, frozenset({"Jordan"})), text) == ["Claude"]


def test_name_parts_drop_titles_and_initials() -> None:
    assert name_parts("Jordan Blake") == ["Jordan", "Blake"]
    assert name_parts("Mary-Jane O'Neil") == ["Mary", "Jane", "O'Neil"]
    assert name_parts("J Blake") == ["Blake"]


def test_propagation_replaces_parts_everywhere(lexicon: NameLexicon) -> None:
    assigned = {"Jordan Blake": "NAME_1", "Priya Raman": "NAME_2"}
    pattern = build_propagation(assigned.items(), lexicon)
    assert pattern is not None
    text = "Sure, Jordan. JORDAN BLAKE and priya; see linkedin.com/in/jordan-blake; Jordanian food stays."
    out = pattern.sub(lambda m: placeholder_for(m.group(), assigned), text)
    assert out == "Sure, NAME_1. NAME_1 and NAME_2; see linkedin.com/in/NAME_1-NAME_1; Jordanian food stays."


def test_word_like_parts_match_only_when_capitalised(lexicon: NameLexicon) -> None:
    assigned = {"Will Park": "NAME_1"}
    pattern = build_propagation(assigned.items(), lexicon)
    assert pattern is not None
    out = pattern.sub(lambda m: placeholder_for(m.group(), assigned), "Will said we will walk in the park, PARK.")
    assert out == "NAME_1 said we will walk in the park, NAME_1."


def test_short_parts_match_only_as_written(lexicon: NameLexicon) -> None:
    assigned = {"Li Wei": "NAME_1"}
    pattern = build_propagation(assigned.items(), lexicon)
    assert pattern is not None
    out = pattern.sub(lambda m: placeholder_for(m.group(), assigned), "<li>Li said</li> to WEI and LI")
    assert out == "<li>NAME_1 said</li> to NAME_1 and NAME_1"
