"""Shipped preset prompts per modality, drawn by the "random prompt" button with an explicit rng."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from arena.domain import Modality

_HERE = Path(__file__).parent


def load_presets(folder: Path = _HERE) -> dict[Modality, tuple[str, ...]]:
    """Non-empty lines of `<modality>.txt` for every modality."""
    out: dict[Modality, tuple[str, ...]] = {}
    for modality in Modality:
        path = folder / f"{modality.value}.txt"
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        out[modality] = tuple(line.strip() for line in lines if line.strip())
    return out


@dataclass
class PresetPrompts:
    """A random preset prompt per modality; thread-safe over one Generator."""

    rng: np.random.Generator
    presets: dict[Modality, tuple[str, ...]] = field(default_factory=load_presets)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def random(self, modality: Modality) -> str:
        """One preset prompt for `modality` ('' when none ship)."""
        choices = self.presets.get(modality, ())
        if not choices:
            return ""
        with self._lock:
            return choices[int(self.rng.integers(len(choices)))]
