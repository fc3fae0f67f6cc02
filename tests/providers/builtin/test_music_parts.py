"""Pieces of the composers: prompt parsing, syllables, and the formant voice's vowel colours."""

from __future__ import annotations

import numpy as np

from arena.providers.builtin.music_plan import parse_bpm, parse_instruments, parse_key, plan_music
from arena.providers.builtin.music_score import Note, SungNote, compose, syllables
from arena.providers.builtin.vocal import onset_of, voiced, vowel_of


def test_prompt_parsing() -> None:
    assert parse_key("a nocturne in C# minor") == (1, True)
    assert parse_key("Bb major") == (10, False)
    assert parse_key("no key here") is None
    assert parse_bpm("dance at 128 BPM") == 128.0
    assert parse_bpm("999 bpm") == 220.0
    assert parse_instruments(["piano", "and", "strings", "with", "a", "flute"]) == [0, 48, 73]


def test_plan_words_and_no_drums() -> None:
    rng = np.random.default_rng(0)
    assert plan_music("energetic rock with guitar", rng).drums
    assert not plan_music("energetic rock with guitar but no drums", rng).drums
    assert plan_music("gloomy cello", rng).minor


def test_syllables_follow_the_lyrics() -> None:
    assert syllables("Sunshine on the sea") == ["sun", "shine", "on", "the", "sea"]
    assert [vowel_of(s) for s in ("sun", "shine", "moon", "sea")] == ["u", "i", "u", "i"]
    assert [onset_of(s) for s in ("sun", "top", "moon", "on")] == ["fricative", "plosive", "nasal", ""]


def test_vocal_score_lays_syllables_on_melody_notes() -> None:
    plan = plan_music("happy piano", np.random.default_rng(1))
    score = compose(plan, 6.0, True, "la di da", np.random.default_rng(1))
    assert [s.syllable for s in score.vocal[:4]] == ["la", "di", "da", "la"]
    assert all(part.name != "lead" for part in score.parts)


def high_to_low_energy(signal: np.ndarray, rate: int) -> float:
    """Energy at 1.8-3.5 kHz (where /i/ has its second formant) over energy below 1.2 kHz."""
    power = np.abs(np.fft.rfft(signal)) ** 2
    freqs = np.fft.rfftfreq(signal.size, 1 / rate)
    return float(power[(freqs >= 1800) & (freqs < 3500)].sum() / power[freqs < 1200].sum())


def test_vowels_have_their_formant_colour() -> None:
    for pitch in (57, 64, 71):
        note = Note(0.0, 0.5, pitch, 0.8)
        ee = high_to_low_energy(voiced(SungNote(note, "see"), 22050), 22050)
        oo = high_to_low_energy(voiced(SungNote(note, "moo"), 22050), 22050)
        ah = high_to_low_energy(voiced(SungNote(note, "la"), 22050), 22050)
        assert ee > 5 * ah and ee > 10 * oo
