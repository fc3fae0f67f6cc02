"""Simulator: outcome frequencies follow the stated models."""

from __future__ import annotations

import numpy as np
import pytest

from rating.likelihood import davidson_probs
from rating.simulate import sample_pairs, simulate_battles, to_theta


def test_bt_ties_keep_expected_score() -> None:
    rng = np.random.default_rng(0)
    a, _b, o = simulate_battles(np.array([1000.0, 1200.0]), 200_000, rng, tie_fraction=0.5, bothbad_share=0.25)
    score = np.array([1.0, 0.0, 0.5, 0.5])[o]
    first_is_0 = a == 0
    p0 = 1 / (1 + 10 ** (200 / 400))
    assert score[first_is_0].mean() == pytest.approx(p0, abs=0.005)
    ties = np.isin(o, [2, 3])
    assert ties.mean() == pytest.approx(0.5 * 2 * p0, abs=0.005)
    assert (o[ties] == 3).mean() == pytest.approx(0.25, abs=0.01)


def test_davidson_frequencies() -> None:
    rng = np.random.default_rng(1)
    a, _b, o = simulate_battles(np.array([1000.0, 1100.0]), 100_000, rng, model="davidson", nu=0.7)
    theta = to_theta([1000.0, 1100.0])
    pf, _ps, pt = davidson_probs(np.array([theta[0] - theta[1]]), np.log(0.7))
    sel = a == 0
    assert np.mean(o[sel] == 0) == pytest.approx(pf[0], abs=0.01)
    assert np.mean(o[sel] == 2) == pytest.approx(pt[0], abs=0.01)


def test_pair_weights_and_sides() -> None:
    rng = np.random.default_rng(2)
    w = np.zeros((3, 3))
    w[0, 1] = 1.0
    pairs = sample_pairs(3, 1000, rng, w)
    assert set(map(tuple, np.sort(pairs, axis=1))) == {(0, 1)}
    assert 400 < np.sum(pairs[:, 0] == 0) < 600
