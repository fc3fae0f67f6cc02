"""Categories: language, long prompts, multi-turn, coding, music boards."""

from __future__ import annotations

from arena.categories import categorize, detect_language


def test_language_detection() -> None:
    assert detect_language("What is the capital of France?") == "en"
    assert detect_language("Wie ist das Wetter heute und was ist los?") == "de"
    assert detect_language("Qu'est-ce que la photosynthèse et pourquoi est-elle importante pour les plantes ?") == "fr"
    assert detect_language("光合作用是什么？") == "zh"
    assert detect_language("Что такое фотосинтез?") == "ru"
    assert detect_language("12345") == "other"


def test_categories() -> None:
    assert categorize(["hello there, what is love?"]) == ["overall", "lang:en"]
    cats = categorize(["write a python function to sort", "now in rust"], board=None)
    assert "coding" in cats and "multi_turn" in cats
    assert "long_prompt" in categorize(["word " * 600])
    assert categorize(["calm piano"], board="instrumental")[:2] == ["overall", "instrumental"]
