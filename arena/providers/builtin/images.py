"""Built-in image models: an abstract pattern painter and a simple scene illustrator, both prompt-driven PNGs.

Rendering runs in a worker thread; each request yields one MediaChunk (image/png) and Finish. Output is
deterministic given (prompt, conversation, seed).
"""

from __future__ import annotations

import asyncio
import io
from abc import abstractmethod
from collections.abc import AsyncIterator
from typing import ClassVar

import numpy as np
from PIL import Image

from arena.domain import Capabilities, Chunk, Finish, GenerationRequest, MediaChunk, ModelSpec
from arena.errors import ConfigError
from arena.providers.base import Provider, ProviderContext
from arena.providers.builtin.pattern_art import choose_style, render_pattern
from arena.providers.builtin.scene_art import parse_scene, render_scene
from arena.providers.builtin.seeding import request_rng
from arena.providers.builtin.textproc import count_words

MIN_SIZE, MAX_SIZE = 64, 1024


def png_bytes(image: Image.Image) -> bytes:
    """Encode an image as PNG."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


class BuiltinImageProvider(Provider):
    """Shared plumbing: option checks, thread offloading, the MediaChunk + Finish pair."""

    option_names: ClassVar[frozenset[str]] = frozenset({"size"})
    default_capabilities: ClassVar[Capabilities] = Capabilities(streaming=False, multi_turn=False)
    salt: ClassVar[str] = "image"

    def __init__(self, spec: ModelSpec, context: ProviderContext) -> None:
        super().__init__(spec, context)
        self.size = int(self.options.get("size", 512))
        if not MIN_SIZE <= self.size <= MAX_SIZE:
            raise ConfigError(f"model {spec.name!r}: option size must be {MIN_SIZE}..{MAX_SIZE} pixels")

    @abstractmethod
    def render(self, prompt: str, rng: np.random.Generator) -> tuple[Image.Image, dict[str, object]]:
        """Draw the image for a prompt; also return what was drawn (for the chunk's metadata)."""

    def _render_png(self, request: GenerationRequest) -> tuple[bytes, dict[str, object]]:
        image, described = self.render(request.prompt, request_rng(request, self.salt))
        return png_bytes(image), described

    async def generate(self, request: GenerationRequest) -> AsyncIterator[Chunk]:
        """Render in a worker thread, then yield the PNG and Finish."""
        data, described = await asyncio.to_thread(self._render_png, request)
        yield MediaChunk(data, "image/png", {"width": self.size, "height": self.size, **described})
        yield Finish("stop", prompt_tokens=count_words(request.messages), completion_tokens=None)


class PatternImageProvider(BuiltinImageProvider):
    """Abstract art: style from shape words (waves, spiral, mosaic...), palette from colour and mood words."""

    salt = "pattern"

    def render(self, prompt: str, rng: np.random.Generator) -> tuple[Image.Image, dict[str, object]]:
        """See pattern_art.render_pattern; the style comes from the prompt's words, else from the seed."""
        style = choose_style(prompt, rng)
        return render_pattern(prompt, rng, self.size, style), {"style": style}


class SceneImageProvider(BuiltinImageProvider):
    """A flat illustration of the objects the prompt names, in the colours and numbers it gives."""

    salt = "scene"

    def render(self, prompt: str, rng: np.random.Generator) -> tuple[Image.Image, dict[str, object]]:
        """See scene_art.render_scene; reports the object kinds drawn and the time of day."""
        scene = parse_scene(prompt)
        return render_scene(scene, rng, self.size), {"objects": sorted(scene.things), "time": scene.time}
