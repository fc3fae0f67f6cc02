"""Streaming plumbing shared by the built-in text models: lazy one-time loading and word-by-word delivery.

A model implements `_load()` (heavy, once per instance) and `_pieces(request)`, a generator that produces the
answer a word at a time. Each next word is computed in a worker thread and yielded as soon as it exists, so
the event loop stays free and the stream is real (nothing is precomputed and replayed, nothing sleeps).
"""

from __future__ import annotations

import asyncio
import threading
from abc import abstractmethod
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Generic, TypeVar

from arena.domain import Chunk, Finish, GenerationRequest, ModelSpec, TextDelta
from arena.providers.base import Provider, ProviderContext
from arena.providers.builtin.textproc import count_words

ModelT = TypeVar("ModelT")


class LazyModel(Generic[ModelT]):
    """Builds a model on first use, exactly once, even when two requests arrive together."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._model: ModelT | None = None

    def get(self, build: Callable[[], ModelT]) -> ModelT:
        """Return the model, calling `build()` the first time."""
        with self._lock:
            if self._model is None:
                self._model = build()
            return self._model


def _next_piece(pieces: Iterator[str]) -> str | None:
    return next(pieces, None)


class StreamingTextProvider(Provider, Generic[ModelT]):
    """Base of the built-in text models: loads lazily, streams pieces, ends with Finish(token counts)."""

    def __init__(self, spec: ModelSpec, context: ProviderContext) -> None:
        super().__init__(spec, context)
        self._lazy: LazyModel[ModelT] = LazyModel()

    @abstractmethod
    def _load(self) -> ModelT:
        """Load or build the model's assets (runs in a worker thread, once per instance)."""

    @abstractmethod
    def _pieces(self, model: ModelT, request: GenerationRequest) -> Iterator[str]:
        """Produce the answer incrementally: each item is a word with its leading space or newline."""

    def model(self) -> ModelT:
        """The loaded model (blocking; loads on first call)."""
        return self._lazy.get(self._load)

    async def generate(self, request: GenerationRequest) -> AsyncIterator[Chunk]:
        """Stream the answer word by word, then Finish with word counts as token counts."""
        model = await asyncio.to_thread(self.model)
        pieces = self._pieces(model, request)
        produced = 0
        while (piece := await asyncio.to_thread(_next_piece, pieces)) is not None:
            produced += 1
            yield TextDelta(piece)
        yield Finish("stop", prompt_tokens=count_words(request.messages), completion_tokens=produced)
