"""Rendering a Score as General MIDI: pretty_midi builds the MIDI, FluidSynth plays it through a soundfont
(or pretty_midi's sine synthesis stands in when libfluidsynth is missing)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pretty_midi

from arena.providers.builtin.music_score import Score


def score_to_midi(score: Score) -> pretty_midi.PrettyMIDI:
    """One MIDI instrument per part (drums on the percussion channel), velocities scaled to 1..127."""
    midi = pretty_midi.PrettyMIDI(initial_tempo=score.plan.bpm)
    for part in score.parts:
        instrument = pretty_midi.Instrument(program=part.program, is_drum=part.is_drum, name=part.name)
        for note in part.notes:
            if note.start >= score.duration:
                continue
            velocity = int(np.clip(round(note.velocity * 110), 1, 127))
            end = min(note.start + note.duration, score.duration)
            instrument.notes.append(pretty_midi.Note(velocity, note.pitch, note.start, end))
        midi.instruments.append(instrument)
    return midi


def fit_length(audio: np.ndarray, total: int) -> np.ndarray:
    """Trim or zero-pad to exactly `total` samples."""
    if audio.size >= total:
        return audio[:total]
    return np.concatenate([audio, np.zeros(total - audio.size)])


def render_fluidsynth(score: Score, sr: int, soundfont: Path) -> np.ndarray:
    """Play the score through FluidSynth with the given soundfont; exactly score.duration seconds."""
    audio = score_to_midi(score).fluidsynth(fs=sr, synthesizer=str(soundfont))
    return fit_length(np.asarray(audio, dtype=np.float64), round(score.duration * sr))


def render_midi_sines(score: Score, sr: int) -> np.ndarray:
    """pretty_midi's own sine rendering (no soundfont needed; drums are silent)."""
    audio = score_to_midi(score).synthesize(fs=sr)
    return fit_length(np.asarray(audio, dtype=np.float64), round(score.duration * sr))
