"""media_checks: images decode with Pillow, WAV with the standard library, limits and damaged bytes."""

from __future__ import annotations

import base64
import io
import struct
import wave
import zlib

import numpy as np
import pytest
from PIL import Image

from arena.domain import ErrorCode
from arena.errors import ProviderError
from arena.providers.media_checks import ImageInfo, check_size, decode_base64, inspect_image, inspect_wav

MB = 1 << 20


def image_bytes(fmt: str, size: tuple[int, int] = (12, 7)) -> bytes:
    pixels = np.random.default_rng(3).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt)
    return buffer.getvalue()


def wav_bytes(frames: int, rate: int = 16000, channels: int = 1, width: int = 2) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as clip:
        clip.setnchannels(channels)
        clip.setsampwidth(width)
        clip.setframerate(rate)
        clip.writeframes(bytes(frames * channels * width))
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width x height pixels (no image data): what a decompression bomb looks like."""

    def png_chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IEND", b"")


def code_of(call, *args, **kwargs) -> ErrorCode:
    with pytest.raises(ProviderError) as info:
        call(*args, **kwargs)
    return info.value.code


@pytest.mark.parametrize(
    ("fmt", "mime"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")]
)
def test_images_decode(fmt, mime):
    assert inspect_image(image_bytes(fmt), max_bytes=MB) == ImageInfo(
        mime=mime, format=fmt, width=12, height=7
    )


def test_image_failures():
    png = image_bytes("PNG")
    assert code_of(inspect_image, b"", max_bytes=MB) is ErrorCode.EMPTY
    assert code_of(inspect_image, b"GIF89a but not really", max_bytes=MB) is ErrorCode.MALFORMED
    assert code_of(inspect_image, png[: len(png) - 30], max_bytes=MB) is ErrorCode.MALFORMED
    assert code_of(inspect_image, png, max_bytes=len(png) - 1) is ErrorCode.TOO_LARGE
    assert code_of(inspect_image, png_header_only(40_000, 40_000), max_bytes=MB) is ErrorCode.TOO_LARGE
    assert code_of(inspect_image, png_header_only(8000, 6000), max_bytes=MB) is ErrorCode.TOO_LARGE
    assert code_of(inspect_image, png, max_bytes=MB, max_pixels=12 * 7 - 1) is ErrorCode.TOO_LARGE


def test_wav_decodes_with_duration():
    info = inspect_wav(wav_bytes(8000, rate=16000, channels=2), max_bytes=MB)
    assert (info.duration_s, info.sample_rate, info.channels, info.frames, info.mime) == (
        0.5,
        16000,
        2,
        8000,
        "audio/wav",
    )


def test_wav_failures():
    clip = wav_bytes(1600)
    assert code_of(inspect_wav, wav_bytes(0), max_bytes=MB) is ErrorCode.EMPTY
    assert code_of(inspect_wav, clip[:-10], max_bytes=MB) is ErrorCode.MALFORMED
    assert code_of(inspect_wav, b"", max_bytes=MB) is ErrorCode.MALFORMED
    assert code_of(inspect_wav, b"ID3\x03\x00\x00\x00mp3-ish", max_bytes=MB) is ErrorCode.MALFORMED
    assert code_of(inspect_wav, clip, max_bytes=len(clip) - 1) is ErrorCode.TOO_LARGE


@pytest.mark.parametrize("kind", ["wav", "png"])
def test_damaged_media_only_ever_raises_provider_errors(kind):
    """Seeded fuzzing: truncations and byte flips never escape as anything but a typed ProviderError."""
    original = wav_bytes(400) if kind == "wav" else image_bytes("PNG", (20, 20))
    inspect = inspect_wav if kind == "wav" else inspect_image
    rng = np.random.default_rng(2024)
    outcomes: set[str] = set()
    for _ in range(400):
        keep = len(original) if rng.random() < 0.5 else int(rng.integers(0, len(original)))
        data = bytearray(original[:keep])
        for position in rng.integers(0, max(len(data), 1), size=rng.integers(0, 4)):
            if data:
                data[position] = int(rng.integers(0, 256))
        try:
            inspect(bytes(data), max_bytes=MB)
            outcomes.add("ok")
        except ProviderError as error:
            outcomes.add(error.code.value)
    assert {"ok", "malformed"} <= outcomes


def test_decode_base64():
    payload = b"\x00\x01binary\xff"
    text = base64.b64encode(payload).decode()
    assert decode_base64(text, max_bytes=MB, what="x") == payload
    assert decode_base64(f"data:image/png;base64,{text}", max_bytes=MB, what="x") == payload
    assert decode_base64(text[:4] + "\n" + text[4:], max_bytes=MB, what="x") == payload
    assert code_of(decode_base64, "%%%", max_bytes=MB, what="x") is ErrorCode.MALFORMED
    assert code_of(decode_base64, None, max_bytes=MB, what="x") is ErrorCode.MALFORMED
    assert code_of(decode_base64, "A" * 4000, max_bytes=1000, what="x") is ErrorCode.TOO_LARGE


def test_check_size_boundary():
    check_size(10, 10, "clip")
    assert code_of(check_size, 11, 10, "clip") is ErrorCode.TOO_LARGE
