"""Deterministic seeds for the built-in models: same prompt, conversation and seed give the same output."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from arena.domain import GenerationRequest, Message


def stable_seed(*parts: object) -> int:
    """A 63-bit seed from the parts' text (Python's own hash() is salted per process, so it is not used)."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def conversation_key(messages: Sequence[Message]) -> str:
    """A canonical text form of a conversation, for seeding."""
    return "\x1e".join(f"{m.role}:{m.content}" for m in messages)


def request_rng(request: GenerationRequest, salt: str) -> np.random.Generator:
    """The generator a model draws from for one request: seeded by (salt, request seed, conversation)."""
    return np.random.default_rng(stable_seed(salt, request.seed, conversation_key(request.messages)))
