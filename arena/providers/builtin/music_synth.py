"""Additive sine synthesis of a Score in numpy (harmonic timbres per instrument family, synthetic drums), and
the final mixdown to 16-bit PCM WAV."""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass

import numpy as np

from arena.providers.builtin.music_score import HAT, KICK, Note, Part, Score

FADE_OUT_S = 0.6
VIBRATO_HZ = 5.5
PART_GAIN = {"lead": 0.5, "chords": 0.22, "bass": 0.35, "drums": 0.5}


@dataclass(frozen=True)
class Timbre:
    """Harmonic amplitudes (optionally at inharmonic ratios), envelope and vibrato of an instrument family."""

    harmonics: tuple[float, ...]
    attack: float
    decay: float  # exponential decay rate per second (0 = sustained)
    release: float
    vibrato: float = 0.0
    ratios: tuple[float, ...] | None = None


PLUCKED = Timbre((1.0, 0.6, 0.35, 0.2, 0.1, 0.05), 0.005, 3.0, 0.08)
TIMBRES = {
    0: Timbre((1.0, 0.5, 0.3, 0.15, 0.08), 0.005, 2.2, 0.1),  # piano
    1: Timbre((1.0, 0.5, 0.3, 0.2), 0.002, 2.5, 0.3, ratios=(1.0, 2.76, 5.4, 8.93)),  # bells
    2: Timbre((1.0, 0.8, 0.6, 0.0, 0.4, 0.0, 0.2), 0.02, 0.0, 0.05),  # organ
    3: PLUCKED,  # guitar
    4: Timbre((1.0, 0.45, 0.2, 0.1), 0.01, 1.2, 0.06),  # bass
    5: Timbre((1.0, 0.7, 0.5, 0.35, 0.25, 0.15), 0.12, 0.0, 0.2, vibrato=0.006),  # strings
    6: Timbre((1.0, 0.6, 0.4, 0.25, 0.15), 0.15, 0.0, 0.25, vibrato=0.005),  # ensemble
    7: Timbre((1.0, 0.9, 0.7, 0.5, 0.35, 0.2), 0.04, 0.0, 0.08, vibrato=0.004),  # brass
    8: Timbre((1.0, 0.3, 0.6, 0.2, 0.3), 0.04, 0.0, 0.08, vibrato=0.005),  # reed
    9: Timbre((1.0, 0.2, 0.06), 0.06, 0.0, 0.1, vibrato=0.007),  # pipe / flute
    10: Timbre((1.0, 0.5, 0.33, 0.25, 0.2, 0.16), 0.01, 0.0, 0.05),  # synth lead (saw-like)
    11: Timbre((1.0, 0.4, 0.2, 0.1), 0.3, 0.0, 0.4, vibrato=0.003),  # synth pad
}


def midi_hz(pitch: float) -> float:
    """Frequency of a MIDI pitch (A4 = 69 = 440 Hz)."""
    return 440.0 * 2.0 ** ((pitch - 69) / 12.0)


def envelope(n: int, held: int, timbre: Timbre, sr: int) -> np.ndarray:
    """Attack ramp, decay or sustain while held, then a linear release to silence."""
    t = np.arange(n) / sr
    env = np.minimum(1.0, t / max(timbre.attack, 1e-4))
    if timbre.decay:
        env *= np.exp(-timbre.decay * t)
    if n > held:
        env[held:] *= np.linspace(1.0, 0.0, n - held)
    return env


def tone(note: Note, timbre: Timbre, sr: int) -> np.ndarray:
    """One note as a sum of (in)harmonic sines under its envelope."""
    held = int(note.duration * sr)
    n = held + int(timbre.release * sr)
    t = np.arange(n) / sr
    f0 = midi_hz(note.pitch)
    phase = 2 * np.pi * f0 * t - (f0 * timbre.vibrato / VIBRATO_HZ) * np.cos(2 * np.pi * VIBRATO_HZ * t)
    ratios = timbre.ratios or tuple(float(k) for k in range(1, len(timbre.harmonics) + 1))
    wave_ = np.zeros(n)
    for ratio, amp in zip(ratios, timbre.harmonics, strict=False):
        if amp and f0 * ratio < sr / 2.2:
            wave_ += amp * np.sin(ratio * phase)
    return wave_ * envelope(n, held, timbre, sr) * note.velocity / sum(timbre.harmonics)


def drum_hit(note: Note, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Kick (falling sine), snare (noise + body) or hi-hat (differenced noise), each with a fast decay."""
    if note.pitch == KICK:
        t = np.arange(int(0.35 * sr)) / sr
        freq = 45 + 90 * np.exp(-t * 25)
        return np.sin(2 * np.pi * np.cumsum(freq) / sr) * np.exp(-t * 9) * note.velocity
    if note.pitch == HAT:
        t = np.arange(int(0.06 * sr)) / sr
        return np.diff(rng.normal(0, 0.5, t.size + 1)) * np.exp(-t * 70) * note.velocity
    t = np.arange(int(0.2 * sr)) / sr
    body = 0.5 * np.sin(2 * np.pi * 185 * t) * np.exp(-t * 30)
    return (rng.normal(0, 0.6, t.size) * np.exp(-t * 18) + body) * note.velocity


def render_part(part: Part, total: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """All notes of one part summed into a buffer of `total` samples."""
    out = np.zeros(total)
    timbre = TIMBRES.get(part.program // 8, TIMBRES[0])
    for note in part.notes:
        start = int(note.start * sr)
        if start >= total:
            continue
        sound = drum_hit(note, sr, rng) if part.is_drum else tone(note, timbre, sr)
        end = min(total, start + sound.size)
        out[start:end] += sound[: end - start]
    return out


def render_sines(score: Score, sr: int, rng: np.random.Generator) -> np.ndarray:
    """The instrumental mix of a score, exactly `score.duration` seconds long."""
    total = round(score.duration * sr)
    mix = np.zeros(total)
    for part in score.parts:
        mix += PART_GAIN.get(part.name, 0.3) * render_part(part, total, sr, rng)
    return mix


def finish_mix(audio: np.ndarray, sr: int) -> np.ndarray:
    """Fade the tail out and normalise the peak to about -1 dBFS."""
    fade = min(int(FADE_OUT_S * sr), audio.size)
    audio = audio.copy()
    if fade:
        audio[-fade:] *= np.linspace(1.0, 0.0, fade)
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return audio * (0.89 / peak) if peak > 0 else audio


def wav_bytes(audio: np.ndarray, sr: int) -> bytes:
    """Mono 16-bit PCM WAV of samples in [-1, 1]."""
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sr)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()
