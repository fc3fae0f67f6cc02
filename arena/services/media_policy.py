"""What generated media must satisfy before it is stored: it decodes, fits the limit, passes the safety hook."""

from __future__ import annotations

from dataclasses import dataclass, field

from arena.domain import ErrorCode
from arena.errors import ProviderError
from arena.integrity.image_safety import BasicImageSafety, ImageSafetyCheck, enforce
from arena.providers.media_checks import inspect_image, inspect_wav


@dataclass(frozen=True)
class MediaPolicy:
    """Called by the output recorder for every image or audio chunk (raises ProviderError to fail that side)."""

    max_bytes: int = 20_000_000
    image_safety: ImageSafetyCheck = field(default_factory=BasicImageSafety)

    def __call__(self, data: bytes, mime: str) -> None:
        if mime.startswith("image/"):
            inspect_image(data, max_bytes=self.max_bytes)
            enforce(self.image_safety, data, mime)
        elif mime in ("audio/wav", "audio/x-wav", "audio/wave"):
            inspect_wav(data, max_bytes=self.max_bytes)
        else:
            raise ProviderError(ErrorCode.MALFORMED, f"unsupported media type {mime!r}; Arena accepts images and WAV")
