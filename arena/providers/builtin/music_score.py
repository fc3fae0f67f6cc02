"""Composing a piece from a MusicPlan: a chord progression, a motif-based melody, bass, drums, and (for vocal
pieces) lyrics split into syllables and laid on the melody notes. Renderer-independent note lists."""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field

import numpy as np

from arena.providers.builtin.music_plan import MusicPlan

MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)
MAJOR_PROGRESSIONS = ((0, 4, 5, 3), (0, 3, 4, 0), (5, 3, 0, 4), (0, 5, 3, 4))
MINOR_PROGRESSIONS = ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6), (0, 3, 6, 2))
KICK, SNARE, HAT = 36, 38, 42
_VOWELS = re.compile(r"[aeiouy]+")
DIGRAPHS = frozenset(("th", "sh", "ch", "ph", "wh", "ck", "ng"))
VOCALISE = ("la", "la", "li", "la", "lo", "oo", "ah", "na")


@dataclass(frozen=True)
class Note:
    """One note: onset and length in seconds, MIDI pitch, velocity 0..1."""

    start: float
    duration: float
    pitch: int
    velocity: float


@dataclass
class Part:
    """One instrument's notes (program is General MIDI; drums use GM percussion keys)."""

    name: str
    program: int
    notes: list[Note] = field(default_factory=list)
    is_drum: bool = False


@dataclass(frozen=True)
class SungNote:
    """A melody note with the syllable sung on it."""

    note: Note
    syllable: str


@dataclass(frozen=True)
class Score:
    """The composed piece."""

    plan: MusicPlan
    duration: float
    parts: tuple[Part, ...]
    vocal: tuple[SungNote, ...] = ()


def split_word(word: str) -> list[str]:
    """Rough syllables of one word: one per vowel group (a final silent 'e' does not count); a lone consonant
    between vowels starts the next syllable, a cluster is split after its first letter unless it is a digraph
    ('sunshine' -> sun, shine; 'mother' -> mo, ther)."""
    groups = list(_VOWELS.finditer(word))
    if len(groups) > 1 and groups[-1].group() == "e" and groups[-1].end() == len(word):
        groups.pop()
    if len(groups) < 2:
        return [word]
    cuts = []
    for group, following in itertools.pairwise(groups):
        cluster = word[group.end() : following.start()]
        single = len(cluster) <= 1 or (len(cluster) == 2 and cluster in DIGRAPHS)
        cuts.append(group.end() if single else group.end() + 1)
    bounds = [0, *cuts, len(word)]
    return [word[a:b] for a, b in itertools.pairwise(bounds)]


def syllables(lyrics: str) -> list[str]:
    """Split lyrics into rough sung syllables ('Sunshine on the sea' -> sun, shine, on, the, sea)."""
    return [s for word in re.findall(r"[a-z']+", lyrics.lower()) for s in split_word(word.replace("'", ""))]


def scale_pitch(plan: MusicPlan, degree: int, octave: int) -> int:
    """MIDI pitch of a scale degree (any integer; wraps into higher/lower octaves)."""
    scale = MINOR_SCALE if plan.minor else MAJOR_SCALE
    return 12 * (octave + 1) + plan.tonic + scale[degree % 7] + 12 * (degree // 7)


def motif(rng: np.random.Generator, steps: int, energy: float) -> list[tuple[int, int]]:
    """A bar-long melodic cell: (scale-degree offset from the chord root, length in steps)."""
    cells: list[tuple[int, int]] = []
    used, degree = 0, int(rng.choice([0, 2, 4]))
    while used < steps:
        length = int(rng.choice([1, 2, 2, 4] if energy > 0.5 else [2, 2, 4, 4]))
        length = min(length, steps - used)
        cells.append((degree, length))
        used += length
        degree = int(np.clip(degree + rng.choice([-2, -1, -1, 1, 1, 2, 3]), -2, 7))
    return cells


def compose_melody(plan: MusicPlan, chords: list[int], bar: float, rng: np.random.Generator) -> list[Note]:
    """Two motifs in an A-A-B-A pattern over the chord roots, ending each phrase on a chord tone."""
    steps = 8
    step = bar / steps
    cells = [motif(rng, steps, plan.energy), motif(rng, steps, plan.energy)]
    notes = []
    for index, root in enumerate(chords):
        cell = cells[1 if index % 4 == 2 else 0]
        t = index * bar
        for j, (offset, length) in enumerate(cell):
            last = j == len(cell) - 1 and index % 4 == 3
            pitch = scale_pitch(plan, root + (0 if last else offset), 5)
            velocity = 0.55 + 0.3 * plan.energy + 0.1 * (j == 0)
            notes.append(Note(t, length * step * 0.95, pitch, min(velocity, 1.0)))
            t += length * step
    return notes


def compose_backing(plan: MusicPlan, chords: list[int], bar: float) -> tuple[list[Note], list[Note]]:
    """Chords (sustained triads, arpeggiated when energetic) and a bass line on the roots."""
    pad, bass = [], []
    for index, root in enumerate(chords):
        t = index * bar
        triad = [scale_pitch(plan, root + k, 4) for k in (0, 2, 4)]
        if plan.energy > 0.6:
            for j in range(8):
                pad.append(Note(t + j * bar / 8, bar / 8, triad[j % 3], 0.45))
        else:
            pad.extend(Note(t, bar * 0.98, p, 0.4) for p in triad)
        hits = 4 if plan.energy > 0.6 else 2
        for j in range(hits):
            bass.append(Note(t + j * bar / hits, bar / hits * 0.9, scale_pitch(plan, root, 2), 0.7))
    return pad, bass


def compose_drums(plan: MusicPlan, bars: int, bar: float) -> list[Note]:
    """Kick on 1 and 3, snare on 2 and 4, hi-hat eighths."""
    beat = bar / 4
    notes = []
    for b in range(bars):
        t = b * bar
        for k in range(4):
            notes.append(Note(t + k * beat, 0.1, KICK if k % 2 == 0 else SNARE, 0.8))
        for k in range(8):
            notes.append(Note(t + k * beat / 2, 0.05, HAT, 0.35 + 0.1 * (k % 2 == 0)))
    return notes


def sung_line(melody: list[Note], lyrics: str | None) -> tuple[SungNote, ...]:
    """Lay lyric syllables on the melody notes, one each (cycling short lyrics; a vocalise without lyrics)."""
    words = syllables(lyrics) if lyrics else []
    pool = words or list(VOCALISE)
    return tuple(SungNote(note, pool[i % len(pool)]) for i, note in enumerate(melody))


def compose(plan: MusicPlan, duration: float, vocal: bool, lyrics: str | None, rng: np.random.Generator) -> Score:
    """The whole piece, long enough to cover `duration` seconds (renderers trim to the exact length)."""
    bar = 4 * 60.0 / plan.bpm
    bars = max(1, math.ceil(duration / bar))
    progressions = MINOR_PROGRESSIONS if plan.minor else MAJOR_PROGRESSIONS
    progression = progressions[int(rng.integers(len(progressions)))]
    chords = [progression[i % 4] for i in range(bars)]
    melody = compose_melody(plan, chords, bar, rng)
    pad, bass = compose_backing(plan, chords, bar)
    parts = [Part("chords", plan.accompaniment, pad), Part("bass", 33, bass)]
    if not vocal:
        parts.insert(0, Part("lead", plan.lead, melody))
    if plan.drums:
        parts.append(Part("drums", 0, compose_drums(plan, bars, bar), is_drum=True))
    return Score(plan, duration, tuple(parts), sung_line(melody, lyrics) if vocal else ())
