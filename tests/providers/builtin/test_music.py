"""The built-in composers: valid WAVs of the requested length, steered by tempo, mode and lyrics words."""

from __future__ import annotations

import io
import wave
from typing import Any

import numpy as np
import pytest

from arena.domain import ErrorCode
from arena.errors import ProviderError
from arena.providers.builtin.music import MidiComposerProvider, SineComposerProvider

MUSIC_MODELS = ("builtin_music_midi", "builtin_music_sine")


def decode(result: Any) -> tuple[np.ndarray, int]:
    with wave.open(io.BytesIO(result.media.data)) as wav:
        assert wav.getsampwidth() == 2 and wav.getnchannels() in (1, 2)
        rate = wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float64) / 32768
    return samples, rate


@pytest.mark.parametrize("model", MUSIC_MODELS)
@pytest.mark.parametrize("seconds", [4.0, 10.0])
def test_wav_has_the_requested_duration(builtins: Any, make_request: Any, model: str, seconds: float) -> None:
    result = builtins.run(model, make_request("calm piano", options={"duration_s": seconds}))
    samples, rate = decode(result)
    assert rate in (22050, 44100)
    assert abs(samples.size / rate - seconds) <= 0.1 * seconds
    assert result.media.mime == "audio/wav"
    assert result.media.meta["duration_s"] == pytest.approx(seconds, rel=0.1)
    assert result.media.meta["sample_rate"] == rate
    assert result.media.meta["instrumental"] is True
    assert np.sqrt(np.mean(samples**2)) > 0.02


@pytest.mark.parametrize("model", MUSIC_MODELS)
def test_default_duration_and_cap(builtins: Any, make_request: Any, model: str) -> None:
    assert builtins.run(model, make_request("a tune")).media.meta["duration_s"] == pytest.approx(10.0)
    assert builtins.run(model, make_request("a tune", options={"duration_s": 300})).media.meta["duration_s"] == 30.0


@pytest.mark.parametrize("model", MUSIC_MODELS)
def test_deterministic_and_prompt_dependent(builtins: Any, make_request: Any, model: str) -> None:
    opts = {"duration_s": 3}
    first = builtins.run(model, make_request("happy guitar", options=opts)).media.data
    assert builtins.run(model, make_request("happy guitar", options=opts)).media.data == first
    assert builtins.run(model, make_request("dark organ", options=opts)).media.data != first


@pytest.mark.parametrize("model", MUSIC_MODELS)
def test_tempo_and_mode_words_steer_the_piece(builtins: Any, make_request: Any, model: str) -> None:
    opts = {"duration_s": 3}
    slow = builtins.run(model, make_request("slow sad strings", options=opts)).media
    fast = builtins.run(model, make_request("upbeat happy strings", options=opts)).media
    assert slow.meta["bpm"] < 80 < 120 < fast.meta["bpm"]
    assert slow.meta["key"].endswith("minor") and fast.meta["key"].endswith("major")
    assert slow.data != fast.data
    explicit = builtins.run(model, make_request("a waltz at 90 bpm in E flat major", options=opts)).media.meta
    assert explicit["bpm"] == 90 and explicit["key"] == "D# major"


def onset_rate(samples: np.ndarray, rate: int) -> float:
    """Jumps in 50 ms RMS energy per second: a crude tempo measure (fast pieces have more note onsets)."""
    frame = rate // 20
    energy = np.sqrt(np.mean(samples[: samples.size // frame * frame].reshape(-1, frame) ** 2, axis=1))
    rises = np.sum(np.diff(energy) > 0.1 * energy.max())
    return float(rises) / (samples.size / rate)


@pytest.mark.parametrize("model", MUSIC_MODELS)
def test_fast_pieces_have_more_onsets(builtins: Any, make_request: Any, model: str) -> None:
    opts = {"duration_s": 6}
    slow, rate = decode(builtins.run(model, make_request("slow piano and guitar at 60 bpm", options=opts)))
    fast, _ = decode(builtins.run(model, make_request("fast piano and guitar at 160 bpm", options=opts)))
    assert onset_rate(fast, rate) > 2 * onset_rate(slow, rate)


@pytest.mark.parametrize("model", MUSIC_MODELS)
def test_lyrics_make_a_vocal_piece(builtins: Any, make_request: Any, model: str) -> None:
    opts = {"duration_s": 5}
    sung = builtins.run(model, make_request("a folk song", options={**opts, "lyrics": "sunshine on the sea"}))
    other = builtins.run(model, make_request("a folk song", options={**opts, "lyrics": "moonlight over snow"}))
    plain = builtins.run(model, make_request("a folk song", options={**opts, "instrumental": True}))
    assert sung.media.meta["instrumental"] is False
    assert plain.media.meta["instrumental"] is True
    assert len({sung.media.data, other.media.data, plain.media.data}) == 3


def test_both_composers_declare_vocals_and_a_30_second_limit() -> None:
    for cls in (MidiComposerProvider, SineComposerProvider):
        caps = cls.default_capabilities
        assert caps.lyrics and caps.instrumental and caps.max_duration_s == 30.0


def test_bad_duration_is_a_bad_request(builtins: Any, make_request: Any) -> None:
    with pytest.raises(ProviderError) as caught:
        builtins.run("builtin_music_sine", make_request("tune", options={"duration_s": "long"}))
    assert caught.value.code == ErrorCode.BAD_REQUEST


def test_midi_composer_reports_its_renderer(builtins: Any, make_request: Any) -> None:
    meta = builtins.run("builtin_music_midi", make_request("piano", options={"duration_s": 2})).media.meta
    assert meta["renderer"].startswith(("fluidsynth:", "pretty_midi-sine"))
