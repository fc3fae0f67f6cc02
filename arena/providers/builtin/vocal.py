"""A synthetic singing voice: each sung note is a harmonic source shaped by the formants of its syllable's
vowel, with vibrato, and an onset consonant (noise for s/f/sh, a click for p/t/k, a hum for m/n/l).

It is recognisably vowel-like and follows the lyrics' syllables, but no one would take it for a singer: an
honest stand-in so that lyric prompts get a vocal line offline.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from arena.providers.builtin.music_score import SungNote
from arena.providers.builtin.music_synth import VIBRATO_HZ, midi_hz

# (F1, F2, F3) in Hz, after Peterson & Barney's averages for adult voices.
FORMANTS: MappingProxyType[str, tuple[float, float, float]] = MappingProxyType(
    {
        "a": (730.0, 1090.0, 2440.0),
        "e": (530.0, 1840.0, 2480.0),
        "i": (270.0, 2290.0, 3010.0),
        "o": (570.0, 840.0, 2410.0),
        "u": (300.0, 870.0, 2240.0),
    }
)
BANDWIDTHS = (90.0, 110.0, 160.0)
FRICATIVES = frozenset("sfzhxjc")
PLOSIVES = frozenset("ptkbdgq")
VOCAL_RANGE = (55, 74)


def vowel_of(syllable: str) -> str:
    """The vowel class that colours a syllable ('shine' -> i, 'moon' -> u, 'la' -> a)."""
    letters = [c for c in syllable if c in "aeiouy"]
    if not letters:
        return "a"
    pair = "".join(letters[:2])
    if pair in ("oo", "ou"):
        return "u"
    if pair in ("ee", "ie", "ea"):
        return "i"
    return "i" if letters[0] == "y" else letters[0]


def onset_of(syllable: str) -> str:
    """'fricative', 'plosive', 'nasal' (m, n, l, r, w, v...) or '' for a syllable starting with a vowel."""
    first = syllable[:1]
    if not first or first in "aeiouy":
        return ""
    return "fricative" if first in FRICATIVES else "plosive" if first in PLOSIVES else "nasal"


def formant_gain(freqs: np.ndarray, vowel: str) -> np.ndarray:
    """Spectral envelope of a vowel at the given frequencies: three two-pole resonators in cascade (unit
    gain at 0 Hz), which gives each vowel its natural balance of low and high formant energy."""
    total = np.ones_like(freqs)
    for centre, width in zip(FORMANTS[vowel], BANDWIDTHS, strict=True):
        total *= centre**2 / np.sqrt((centre**2 - freqs**2) ** 2 + (width * freqs) ** 2)
    return total


def fit_range(pitch: int) -> int:
    """Move a melody pitch by octaves into a comfortable singing range."""
    while pitch > VOCAL_RANGE[1]:
        pitch -= 12
    while pitch < VOCAL_RANGE[0]:
        pitch += 12
    return pitch


def voiced(sung: SungNote, sr: int) -> np.ndarray:
    """The vowel of one sung note: formant-weighted harmonics with delayed vibrato and a soft envelope."""
    n = int((sung.note.duration + 0.05) * sr)
    t = np.arange(n) / sr
    f0 = midi_hz(fit_range(sung.note.pitch))
    depth = 0.012 * np.minimum(1.0, t / 0.25)
    phase = 2 * np.pi * f0 * t + (f0 * depth / VIBRATO_HZ) * np.sin(2 * np.pi * VIBRATO_HZ * t)
    k = np.arange(1, int(4000 / f0) + 1)
    amps = formant_gain(k * f0, vowel_of(sung.syllable)) / k**0.6
    signal = np.sin(np.outer(phase, k)) @ amps
    attack, release = min(n, int(0.03 * sr)), min(n, int(0.08 * sr))
    env = np.ones(n)
    env[:attack] = np.linspace(0.0, 1.0, attack)
    env[n - release :] *= np.linspace(1.0, 0.0, release)
    return signal * env / (np.sum(amps) + 1e-9)


def consonant(kind: str, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A short onset sound placed just before the vowel."""
    if kind == "fricative":
        n = int(0.07 * sr)
        return np.diff(rng.normal(0, 0.25, n + 1)) * np.hanning(n)
    if kind == "plosive":
        n = int(0.015 * sr)
        return rng.normal(0, 0.35, n) * np.exp(-np.arange(n) / (0.004 * sr))
    if kind == "nasal":
        n = int(0.04 * sr)
        return 0.15 * np.sin(2 * np.pi * 250 * np.arange(n) / sr) * np.hanning(n)
    return np.zeros(0)


def sing(line: tuple[SungNote, ...], total: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """The whole vocal line in a buffer of `total` samples."""
    out = np.zeros(total)
    for sung in line:
        start = int(sung.note.start * sr)
        if start >= total:
            continue
        onset = consonant(onset_of(sung.syllable), sr, rng)
        begin = max(0, start - onset.size)
        out[begin : begin + onset.size] += onset[: total - begin]
        sound = voiced(sung, sr) * sung.note.velocity
        end = min(total, start + sound.size)
        out[start:end] += sound[: end - start]
    return out
