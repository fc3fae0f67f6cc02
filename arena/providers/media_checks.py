"""Check media bytes before they reach a voter: size limits, images decode with Pillow, audio is valid WAV.

Every failure is a ProviderError with a typed code: TOO_LARGE for outputs past the configured limit,
MALFORMED for bytes that do not decode, EMPTY for audio without a single frame.
"""

from __future__ import annotations

import base64
import binascii
import io
import struct
import wave
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from arena.domain import ErrorCode
from arena.errors import ProviderError

MAX_PIXELS = 40_000_000


@dataclass(frozen=True)
class ImageInfo:
    """What a decoded image is: its MIME type, Pillow format name and pixel size."""

    mime: str
    format: str
    width: int
    height: int


@dataclass(frozen=True)
class AudioInfo:
    """What a decoded WAV clip is: its length and sampling parameters."""

    duration_s: float
    sample_rate: int
    channels: int
    sample_width: int
    frames: int

    mime: str = "audio/wav"


def check_size(size: int, limit: int, what: str) -> None:
    """Raise TOO_LARGE when `size` bytes exceed `limit` (the model's max_bytes option)."""
    if size > limit:
        raise ProviderError(
            ErrorCode.TOO_LARGE,
            f"the {what} is {size} bytes, more than max_bytes={limit}; ask the server for a smaller output "
            "or raise max_bytes for this model",
        )


def inspect_image(data: bytes, *, max_bytes: int, max_pixels: int = MAX_PIXELS) -> ImageInfo:
    """Decode `data` fully with Pillow and describe it.

    A full decode (not only the header) catches truncated files. The pixel count is checked from the
    header before decoding, so a small file claiming a huge canvas (a decompression bomb) is TOO_LARGE
    without allocating it. CPU-bound: async callers run it in a worker thread.
    """
    check_size(len(data), max_bytes, "image")
    if not data:
        raise ProviderError(ErrorCode.EMPTY, "the server returned an empty image; check the server's logs")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > max_pixels:
                raise ProviderError(
                    ErrorCode.TOO_LARGE,
                    f"the image is {image.width}x{image.height} pixels, more than {max_pixels}; "
                    "ask the server for a smaller size",
                )
            image.load()
            fmt = image.format or ""
            width, height = image.size
    except Image.DecompressionBombError as exc:
        raise ProviderError(
            ErrorCode.TOO_LARGE, f"the image has too many pixels to display safely ({exc})"
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ProviderError(
            ErrorCode.MALFORMED,
            f"the server's image bytes do not decode as an image ({type(exc).__name__}: {exc}); "
            "check that the server returns PNG/JPEG/WebP data",
        ) from exc
    mime = Image.MIME.get(fmt, "")
    if not mime.startswith("image/"):
        raise ProviderError(
            ErrorCode.MALFORMED,
            f"the image format {fmt or 'unknown'} has no image MIME type a browser can show",
        )
    return ImageInfo(mime=mime, format=fmt, width=width, height=height)


def inspect_wav(data: bytes, *, max_bytes: int) -> AudioInfo:
    """Decode `data` as PCM WAV with the standard library and describe it.

    Reads every frame so that a header promising more audio than the file holds is caught here,
    not in the voter's browser. CPU-bound for long clips: async callers run it in a worker thread.
    """
    check_size(len(data), max_bytes, "audio clip")
    try:
        with wave.open(io.BytesIO(data), "rb") as clip:
            frames = clip.getnframes()
            rate = clip.getframerate()
            channels = clip.getnchannels()
            width = clip.getsampwidth()
            payload = clip.readframes(frames)
    except (wave.Error, EOFError, ValueError, RuntimeError, OSError, struct.error) as exc:
        # wave signals a bad chunk size with a bare RuntimeError and short headers with struct.error
        raise ProviderError(
            ErrorCode.MALFORMED,
            f"the server's audio is not a PCM WAV file ({type(exc).__name__}: {exc}); "
            "the music protocol requires RIFF/WAVE with PCM samples",
        ) from exc
    if rate <= 0 or channels <= 0 or width <= 0:
        raise ProviderError(
            ErrorCode.MALFORMED, "the WAV header has a zero sample rate, channel count or width"
        )
    if frames == 0:
        raise ProviderError(ErrorCode.EMPTY, "the server returned a WAV file without audio frames (0 s)")
    if len(payload) < frames * channels * width:
        raise ProviderError(
            ErrorCode.MALFORMED,
            f"the WAV header promises {frames} frames but the file is truncated; check the server",
        )
    return AudioInfo(
        duration_s=frames / rate, sample_rate=rate, channels=channels, sample_width=width, frames=frames
    )


def decode_base64(text: object, *, max_bytes: int, what: str) -> bytes:
    """Decode base64 media (a bare string or a data: URL), checking the size before decoding."""
    if not isinstance(text, str) or not text:
        raise ProviderError(ErrorCode.MALFORMED, f"the {what} field is missing or not a base64 string")
    if text.startswith("data:"):
        text = text.partition(",")[2]
    check_size(len(text) * 3 // 4, max_bytes, what)
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProviderError(ErrorCode.MALFORMED, f"the {what} is not valid base64 ({exc})") from exc
