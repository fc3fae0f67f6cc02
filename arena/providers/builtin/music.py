"""Built-in music models: two composers that share a prompt-steered score and differ in how it sounds.

MidiComposerProvider renders the score as General MIDI through FluidSynth and a soundfont (falling back to
pretty_midi's own sine rendering, with a warning, where libfluidsynth is missing); SineComposerProvider renders
it with numpy additive synthesis. Both can sing: with lyrics (or instrumental=false) the melody becomes a
formant-synthesised vocal line on the lyric syllables. Output: one mono 16-bit WAV MediaChunk, then Finish.
"""

from __future__ import annotations

import asyncio
import logging
from abc import abstractmethod
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from arena.domain import Capabilities, Chunk, ErrorCode, Finish, GenerationRequest, MediaChunk, ModelSpec
from arena.errors import ConfigError, ProviderError
from arena.providers.base import Provider, ProviderContext
from arena.providers.builtin.music_midi import render_fluidsynth, render_midi_sines
from arena.providers.builtin.music_plan import plan_music
from arena.providers.builtin.music_score import Score, compose
from arena.providers.builtin.music_synth import finish_mix, render_sines, wav_bytes
from arena.providers.builtin.seeding import request_rng
from arena.providers.builtin.textproc import count_words
from arena.providers.builtin.vocal import sing

logger = logging.getLogger(__name__)

MAX_DURATION_S = 30.0
DEFAULT_DURATION_S = 10.0
SAMPLE_RATES = (22050, 44100)
BACKING_GAIN = 0.55
SOUNDFONTS = (
    Path("/usr/share/sounds/sf2/TimGM6mb.sf2"),
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf2/default-GM.sf2"),
)


@dataclass(frozen=True)
class MusicRequest:
    """The per-request music options, validated."""

    duration_s: float
    instrumental: bool
    lyrics: str | None


def music_request(options: Mapping[str, Any], max_duration: float) -> MusicRequest:
    """Read duration_s (default 10 s, capped), lyrics, and instrumental (default: true unless lyrics are given)."""
    try:
        duration = float(options.get("duration_s", DEFAULT_DURATION_S))
    except (TypeError, ValueError) as exc:
        raise ProviderError(ErrorCode.BAD_REQUEST, "duration_s must be a number of seconds") from exc
    if not np.isfinite(duration) or duration <= 0:
        raise ProviderError(ErrorCode.BAD_REQUEST, "duration_s must be a positive number of seconds")
    lyrics = options.get("lyrics")
    lyrics = str(lyrics).strip() or None if lyrics is not None else None
    instrumental = bool(options.get("instrumental", lyrics is None))
    return MusicRequest(min(duration, max_duration), instrumental, lyrics)


def peak_normalised(audio: np.ndarray) -> np.ndarray:
    """Scale to a peak of 1 (silence stays silence)."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return audio / peak if peak > 0 else audio


class ComposerProvider(Provider):
    """Shared plumbing: plan and compose from the prompt, render (subclass), add the voice, encode WAV."""

    option_names: ClassVar[frozenset[str]] = frozenset({"sample_rate"})
    default_capabilities: ClassVar[Capabilities] = Capabilities(
        streaming=False, multi_turn=False, lyrics=True, instrumental=True, max_duration_s=MAX_DURATION_S
    )
    salt: ClassVar[str] = "music"

    def __init__(self, spec: ModelSpec, context: ProviderContext) -> None:
        super().__init__(spec, context)
        self.sample_rate = int(self.options.get("sample_rate", 22050))
        if self.sample_rate not in SAMPLE_RATES:
            raise ConfigError(f"model {spec.name!r}: option sample_rate must be one of {SAMPLE_RATES}")

    @abstractmethod
    def render(self, score: Score, rng: np.random.Generator) -> np.ndarray:
        """The instrumental audio of a score: float samples, exactly score.duration seconds long."""

    @abstractmethod
    def renderer_name(self) -> str:
        """Which synthesiser renders this model's audio (reported in the chunk's metadata)."""

    def _compose_and_render(self, request: GenerationRequest, wanted: MusicRequest) -> tuple[bytes, dict[str, Any]]:
        rng = request_rng(request, self.salt)
        plan = plan_music(request.prompt, rng)
        score = compose(plan, wanted.duration_s, not wanted.instrumental, wanted.lyrics, rng)
        sr = self.sample_rate
        audio = peak_normalised(self.render(score, rng))
        if score.vocal:
            audio = BACKING_GAIN * audio + peak_normalised(sing(score.vocal, audio.size, sr, rng))
        meta = {
            "duration_s": round(audio.size / sr, 3),
            "sample_rate": sr,
            "instrumental": wanted.instrumental,
            "bpm": round(plan.bpm, 1),
            "key": plan.key_name,
            "renderer": self.renderer_name(),
        }
        return wav_bytes(finish_mix(audio, sr), sr), meta

    async def generate(self, request: GenerationRequest) -> AsyncIterator[Chunk]:
        """Compose and render in a worker thread, then yield the WAV and Finish."""
        wanted = music_request(request.options, self.default_capabilities.max_duration_s or MAX_DURATION_S)
        data, meta = await asyncio.to_thread(self._compose_and_render, request, wanted)
        yield MediaChunk(data, "audio/wav", meta)
        yield Finish("stop", prompt_tokens=count_words(request.messages), completion_tokens=None)


class SineComposerProvider(ComposerProvider):
    """Additive sine synthesis in numpy: harmonic timbres per instrument family and synthetic drums."""

    salt = "sine"

    def renderer_name(self) -> str:
        """Always numpy additive synthesis."""
        return "numpy-additive"

    def render(self, score: Score, rng: np.random.Generator) -> np.ndarray:
        """See music_synth.render_sines."""
        return render_sines(score, self.sample_rate, rng)


def find_soundfont(configured: str | None) -> Path | None:
    """The configured soundfont, else the first Debian GM soundfont present, else pretty_midi's bundled one."""
    if configured:
        return Path(configured) if Path(configured).is_file() else None
    for path in SOUNDFONTS:
        if path.is_file():
            return path
    try:
        import pretty_midi
    except ImportError:
        return None
    bundled = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    return bundled if bundled.is_file() else None


def fluidsynth_available() -> bool:
    """True when pyfluidsynth imports and finds libfluidsynth."""
    try:
        import fluidsynth  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


class MidiComposerProvider(ComposerProvider):
    """General MIDI rendered by FluidSynth through a soundfont (option `soundfont` overrides the search)."""

    option_names: ClassVar[frozenset[str]] = frozenset({"sample_rate", "soundfont"})
    salt = "midi"

    def __init__(self, spec: ModelSpec, context: ProviderContext) -> None:
        super().__init__(spec, context)
        configured = self.options.get("soundfont")
        self.soundfont = find_soundfont(str(configured) if configured else None)
        if configured and self.soundfont is None:
            raise ConfigError(f"model {spec.name!r}: soundfont {configured!r} not found; give a .sf2 file path")
        self.use_fluidsynth = self.soundfont is not None and fluidsynth_available()
        if not self.use_fluidsynth:
            logger.warning(
                "model %r: FluidSynth or a General MIDI soundfont is missing (apt-get install fluidsynth "
                "timgm6mb-soundfont); falling back to pretty_midi's sine rendering",
                spec.name,
            )

    def renderer_name(self) -> str:
        """FluidSynth with the soundfont's file name, or the sine fallback."""
        return f"fluidsynth:{self.soundfont.name}" if self.use_fluidsynth and self.soundfont else "pretty_midi-sine"

    def render(self, score: Score, rng: np.random.Generator) -> np.ndarray:
        """FluidSynth when available, else pretty_midi's sine synthesis."""
        if self.use_fluidsynth and self.soundfont is not None:
            return render_fluidsynth(score, self.sample_rate, self.soundfont)
        return render_midi_sines(score, self.sample_rate)
