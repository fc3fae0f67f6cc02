"""Reading a music prompt: tempo, key, mode, mood and instruments from its words (shared by both composers).

'slow sad piano in D minor', 'upbeat 140 bpm guitar and drums', 'happy strings' each steer the plan; what the
prompt leaves open is chosen by the seed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from arena.providers.builtin.textproc import stem, tokens

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_KEY = re.compile(r"\b([A-Ga-g])\s*(#|♯|b|♭|sharp|flat)?[\s-]*(major|minor|maj|min)\b")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_BPM = re.compile(r"\b(\d{2,3})\s*(?:bpm|beats per minute)\b", re.IGNORECASE)

SLOW_WORDS = _words("slow calm sad relaxing relax ambient lullaby ballad gentle sleepy peaceful quiet soft")
FAST_WORDS = _words("fast upbeat energetic dance party rock quick lively driving excited running")
MINOR_WORDS = _words("minor sad dark melancholy melancholic gloomy mysterious spooky tense somber lonely")
MAJOR_WORDS = _words("major happy bright joyful cheerful sunny hopeful triumphant uplifting playful")

# General MIDI programs (0-based) for instrument words; "drum" is handled separately.
INSTRUMENTS: MappingProxyType[str, int] = MappingProxyType(
    {
        "piano": 0,
        "keyboard": 0,
        "bell": 14,
        "chime": 14,
        "musicbox": 10,
        "organ": 19,
        "guitar": 25,
        "bass": 33,
        "violin": 40,
        "cello": 42,
        "string": 48,
        "orchestra": 48,
        "harp": 46,
        "choir": 52,
        "trumpet": 56,
        "brass": 61,
        "sax": 65,
        "saxophone": 65,
        "flute": 73,
        "synth": 81,
        "electronic": 81,
        "pad": 89,
    }
)
DRUM_WORDS = _words("drum drums beat beats percussion")


@dataclass(frozen=True)
class MusicPlan:
    """Everything a composer needs to know about the piece."""

    bpm: float
    tonic: int  # MIDI pitch class 0-11
    minor: bool
    lead: int  # GM program of the melody
    accompaniment: int  # GM program of the chords
    drums: bool
    energy: float  # 0 (calm) .. 1 (driving)

    @property
    def key_name(self) -> str:
        """For example 'D minor'."""
        return f"{NOTE_NAMES[self.tonic]} {'minor' if self.minor else 'major'}"


def parse_key(prompt: str) -> tuple[int, bool] | None:
    """(pitch class, minor?) from 'in D minor', 'F# major', 'Bb min'; None when no key is named."""
    match = _KEY.search(prompt)
    if not match:
        return None
    letter, accidental, quality = match.groups()
    pitch = NOTE_NAMES.index(letter.upper())
    if accidental in ("#", "♯", "sharp"):
        pitch += 1
    elif accidental in ("b", "♭", "flat"):
        pitch -= 1
    return pitch % 12, quality.lower().startswith("min")


def parse_bpm(prompt: str) -> float | None:
    """An explicit tempo such as '140 bpm', clamped to 40..220."""
    match = _BPM.search(prompt)
    return float(min(max(int(match.group(1)), 40), 220)) if match else None


def parse_instruments(words: list[str]) -> list[int]:
    """GM programs of the instrument words, in prompt order, without repeats."""
    programs: list[int] = []
    for word in words:
        program = INSTRUMENTS.get(word, INSTRUMENTS.get(stem(word)))
        if program is not None and program not in programs:
            programs.append(program)
    return programs


def plan_music(prompt: str, rng: np.random.Generator) -> MusicPlan:
    """Turn a prompt into a plan; unspecified choices come from `rng`."""
    words = tokens(prompt)
    vocab = set(words) | {stem(w) for w in words}
    slow, fast = bool(vocab & SLOW_WORDS), bool(vocab & FAST_WORDS)
    energy = 0.15 if slow and not fast else 0.85 if fast and not slow else 0.5
    bpm = parse_bpm(prompt) or float(
        rng.integers(60, 78) if energy < 0.3 else rng.integers(124, 150) if energy > 0.7 else rng.integers(90, 112)
    )
    if parse_bpm(prompt) is not None:
        energy = float(np.clip((bpm - 60) / 100, 0.05, 0.95))
    key = parse_key(prompt)
    minor = key[1] if key else bool(vocab & MINOR_WORDS) or (not vocab & MAJOR_WORDS and rng.random() < 0.3)
    tonic = key[0] if key else int(rng.integers(0, 12))
    programs = parse_instruments(words)
    lead = programs[0] if programs else int(rng.choice([0, 0, 73, 25, 40]))
    accompaniment = programs[1] if len(programs) > 1 else (48 if lead != 48 else 0)
    no_drums = re.search(r"\b(no|without)\s+(drums|percussion|beat)", prompt, re.IGNORECASE)
    drums = not no_drums and (bool(vocab & DRUM_WORDS) or energy > 0.6)
    return MusicPlan(bpm, tonic, minor, lead, accompaniment, drums, energy)
