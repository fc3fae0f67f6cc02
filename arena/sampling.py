"""Choose the pair of models for a battle with an explicit rng; return the pair AND its draw probability."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from arena.domain import ModelSpec
from arena.errors import ConflictError


@dataclass(frozen=True)
class DrawnPair:
    """The models for sides A and B and the probability with which this unordered pair was drawn.

    Sides are then assigned by a fair coin, so the ordered pair has half that probability.
    """

    model_a: ModelSpec
    model_b: ModelSpec
    probability: float


def pair_probabilities(weights: np.ndarray) -> np.ndarray:
    """P(unordered pair {i, j}) proportional to w_i * w_j, as an upper-triangular matrix."""
    outer = np.outer(weights, weights)
    upper = np.triu(outer, k=1)
    total = upper.sum()
    return upper / total


def draw_pair(models: Sequence[ModelSpec], rng: np.random.Generator) -> DrawnPair:
    """Draw two distinct models, each pair with probability proportional to the product of their weights.

    With equal weights (the default) every pair is equally likely: probability 1 / C(n, 2).
    """
    if len(models) < 2:
        raise ConflictError(
            f"this arena needs at least two eligible models, it has {len(models)}; "
            "add models to arena.toml or re-activate paused ones"
        )
    weights = np.array([m.weight for m in models], dtype=float)
    probs = pair_probabilities(weights)
    flat = probs.ravel()
    index = int(rng.choice(flat.size, p=flat))
    i, j = divmod(index, len(models))
    first, second = (models[i], models[j]) if rng.random() < 0.5 else (models[j], models[i])
    return DrawnPair(first, second, float(flat[index]))
