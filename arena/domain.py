"""Domain vocabulary: frozen dataclasses and enums shared by every layer (no I/O, no framework imports)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Modality(StrEnum):
    """What a model produces; each modality is its own arena with its own leaderboard."""

    TEXT = "text"
    SEARCH = "search"
    IMAGE = "image"
    MUSIC = "music"


class Outcome(StrEnum):
    """A voter's verdict on a battle. Unknown labels are rejected, never mapped to a tie."""

    MODEL_A = "model_a"
    MODEL_B = "model_b"
    TIE = "tie"
    TIE_BOTHBAD = "tie_bothbad"


class BattleMode(StrEnum):
    """Anonymous battles feed the leaderboard; named (side-by-side) ones never do."""

    ANONYMOUS = "anonymous"
    NAMED = "named"


class BattleStatus(StrEnum):
    """Life cycle of a battle: generating -> ready|failed -> voted|abandoned."""

    GENERATING = "generating"
    READY = "ready"
    FAILED = "failed"
    VOTED = "voted"
    ABANDONED = "abandoned"


class Side(StrEnum):
    """Which pane an output belongs to."""

    A = "a"
    B = "b"


class ModelStatus(StrEnum):
    """Whether a catalogue model is sampled (active), held back (paused) or retired (hidden, still counted)."""

    ACTIVE = "active"
    PAUSED = "paused"
    RETIRED = "retired"


class ErrorCode(StrEnum):
    """Typed provider failure codes, stored with the output; never detect failure by matching strings."""

    TIMEOUT = "timeout"
    CONNECTION = "connection"
    AUTH = "auth"
    RATE_LIMITED = "rate_limited"
    BAD_REQUEST = "bad_request"
    NOT_FOUND = "not_found"
    SERVER_ERROR = "server_error"
    MALFORMED = "malformed"
    CONTENT_FILTER = "content_filter"
    TOO_LARGE = "too_large"
    UNSAFE = "unsafe"
    EMPTY = "empty"
    STORAGE = "storage"  # the answer arrived but Arena could not save its media (disk full, store unreachable)
    INTERNAL = "internal"


@dataclass(frozen=True)
class Message:
    """One turn of a conversation sent to a provider."""

    role: str  # "system" | "user" | "assistant"
    content: str


@dataclass(frozen=True)
class Citation:
    """A source a search-augmented answer cites, numbered in order of first use."""

    url: str
    title: str = ""
    snippet: str = ""


@dataclass(frozen=True)
class GenerationRequest:
    """What a provider is asked to produce: the conversation so far (ending with the user prompt)."""

    messages: tuple[Message, ...]
    modality: Modality = Modality.TEXT
    options: Mapping[str, Any] = field(default_factory=dict)
    seed: int | None = None

    @property
    def prompt(self) -> str:
        """The latest user prompt."""
        for message in reversed(self.messages):
            if message.role == "user":
                return message.content
        return ""


@dataclass(frozen=True)
class TextDelta:
    """A streamed piece of answer text."""

    text: str


@dataclass(frozen=True)
class CitationChunk:
    """A citation the answer refers to as [n] (n = position in the answer's citation list, from 1)."""

    citation: Citation


@dataclass(frozen=True)
class SearchTrace:
    """A search the provider made on the way to its answer."""

    query: str
    results: int


@dataclass(frozen=True)
class MediaChunk:
    """A finished image or audio clip."""

    data: bytes
    mime: str
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Finish:
    """The last chunk of a successful generation."""

    finish_reason: str = "stop"
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


Chunk = TextDelta | CitationChunk | SearchTrace | MediaChunk | Finish


@dataclass(frozen=True)
class Capabilities:
    """What a model can do; routing pairs only models able to serve the request."""

    streaming: bool = True
    multi_turn: bool = True
    lyrics: bool = False
    instrumental: bool = True
    max_duration_s: float | None = None


@dataclass(frozen=True)
class ModelSpec:
    """One catalogue entry (from arena.toml or the built-ins)."""

    name: str
    modality: Modality
    provider: str
    display_name: str = ""
    organization: str = ""
    license: str = ""
    publish_outputs: bool = True
    local_demo: bool = False
    weight: float = 1.0
    status: ModelStatus = ModelStatus.ACTIVE
    capabilities: Capabilities = field(default_factory=Capabilities)
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The name shown to voters after the reveal."""
        return self.display_name or self.name
