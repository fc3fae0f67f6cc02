"""Prompt -> what the battle needs (e.g. music: vocal or instrumental, duration) -> eligible models."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from arena.domain import Modality, ModelSpec

_VOCAL_WORDS = re.compile(r"\b(vocals?|sing|sung|singing|singer|lyrics?|voice|choir|chorus|rap|verse)\b", re.I)
_INSTRUMENTAL_WORDS = re.compile(r"\b(instrumental|no vocals|without vocals|no singing|no lyrics)\b", re.I)
_DURATION = re.compile(r"\b(\d{1,3})\s*(s|sec|secs|seconds?)\b", re.I)
DEFAULT_MUSIC_SECONDS = 10.0


@dataclass(frozen=True)
class Route:
    """The requirements of one battle, recorded with it."""

    modality: Modality
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def board(self) -> str | None:
        """The sub-board a battle belongs to (music: vocal or instrumental)."""
        if self.modality == Modality.MUSIC:
            return "instrumental" if self.options.get("instrumental", True) else "vocal"
        return None


def route(modality: Modality, prompt: str, lyrics: str | None = None) -> Route:
    """Rules-based routing: music prompts are classified vocal/instrumental and get a duration."""
    if modality != Modality.MUSIC:
        return Route(modality)
    instrumental = not (lyrics or _VOCAL_WORDS.search(prompt)) or bool(_INSTRUMENTAL_WORDS.search(prompt))
    match = _DURATION.search(prompt)
    duration = float(match.group(1)) if match else DEFAULT_MUSIC_SECONDS
    options: dict[str, Any] = {"instrumental": instrumental, "duration_s": max(1.0, min(duration, 300.0))}
    if lyrics:
        options["lyrics"] = lyrics
    return Route(modality, options)


def eligible(models: Sequence[ModelSpec], spec: Route) -> list[ModelSpec]:
    """The models able to serve a route."""
    out = []
    for model in models:
        if model.modality != spec.modality:
            continue
        caps = model.capabilities
        if spec.modality == Modality.MUSIC:
            if not spec.options.get("instrumental", True) and not caps.lyrics:
                continue
            if spec.options.get("instrumental", True) and not caps.instrumental:
                continue
            if caps.max_duration_s is not None and spec.options["duration_s"] > caps.max_duration_s:
                continue
        out.append(model)
    return out
