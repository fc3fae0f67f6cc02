"""Pair sampling: uniform by default, weighted on request, the probability recorded is the true one."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest

from arena.domain import Modality, ModelSpec
from arena.errors import ConflictError
from arena.sampling import draw_pair, pair_probabilities


def _models(weights: list[float]) -> list[ModelSpec]:
    return [ModelSpec(f"m{i}", Modality.TEXT, "builtin_ngram", weight=w) for i, w in enumerate(weights)]


def test_uniform_probability_and_frequencies() -> None:
    models = _models([1, 1, 1, 1])
    rng = np.random.default_rng(7)
    draws = [draw_pair(models, rng) for _ in range(6000)]
    assert all(d.probability == pytest.approx(1 / 6) for d in draws)
    freq = Counter(frozenset((d.model_a.name, d.model_b.name)) for d in draws)
    assert len(freq) == 6 and all(abs(n / 6000 - 1 / 6) < 0.02 for n in freq.values())
    assert all(d.model_a.name != d.model_b.name for d in draws)
    sides = Counter(d.model_a.name for d in draws)
    assert all(abs(n / 6000 - 0.25) < 0.03 for n in sides.values())


def test_weighted_probabilities_match_frequencies() -> None:
    models = _models([1, 2, 3])
    probs = pair_probabilities(np.array([1.0, 2.0, 3.0]))
    assert probs.sum() == pytest.approx(1.0)
    rng = np.random.default_rng(3)
    draws = [draw_pair(models, rng) for _ in range(6000)]
    expected = {frozenset((f"m{i}", f"m{j}")): probs[i, j] for i, j in itertools.combinations(range(3), 2)}
    freq = Counter(frozenset((d.model_a.name, d.model_b.name)) for d in draws)
    for pair, p in expected.items():
        assert abs(freq[pair] / 6000 - p) < 0.02
    for d in draws:
        assert d.probability == pytest.approx(expected[frozenset((d.model_a.name, d.model_b.name))])


def test_fewer_than_two_models_is_a_clear_error() -> None:
    with pytest.raises(ConflictError, match="at least two"):
        draw_pair(_models([1]), np.random.default_rng(0))
