"""Image safety-check hook: an interface every generated image passes through, and a default policy."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Protocol

from PIL import Image, ImageStat

from arena.domain import ErrorCode
from arena.errors import ProviderError


@dataclass(frozen=True)
class ImageVerdict:
    """Whether an image may be shown, with a reason code when not."""

    allowed: bool
    reason: str = ""
    message: str = ""


class ImageSafetyCheck(Protocol):
    """Decides whether a generated image may be shown to voters (plug in a classifier here)."""

    def check(self, data: bytes, mime: str) -> ImageVerdict:
        """Verdict for one decoded-valid image."""
        ...


@dataclass(frozen=True)
class BasicImageSafety:
    """The default: refuses degenerate images a voter cannot judge (blank or single-colour canvases, slivers).

    It has no content classifier (none can be installed offline here); deployments that need nudity or
    violence detection implement ImageSafetyCheck and pass it to create_app.
    """

    min_side: int = 16
    max_aspect: float = 8.0
    min_stddev: float = 1.0

    def check(self, data: bytes, mime: str) -> ImageVerdict:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if min(width, height) < self.min_side or max(width, height) / min(width, height) > self.max_aspect:
                return ImageVerdict(False, "degenerate_shape", f"a {width}x{height} image cannot be judged")
            stats = ImageStat.Stat(image.convert("L"))
            if stats.stddev[0] < self.min_stddev:
                return ImageVerdict(False, "blank_image", "the image is a single flat colour")
        return ImageVerdict(True)


def enforce(check: ImageSafetyCheck, data: bytes, mime: str) -> None:
    """Raise ProviderError(UNSAFE) when the check refuses the image."""
    verdict = check.check(data, mime)
    if not verdict.allowed:
        raise ProviderError(
            ErrorCode.UNSAFE, f"image refused by the safety check ({verdict.reason}): {verdict.message}")
