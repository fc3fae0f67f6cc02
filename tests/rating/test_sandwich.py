"""Sandwich standard errors: agree with a per-battle brute force, and with the bootstrap on real data."""

from __future__ import annotations

import numpy as np
import pytest

from rating.bootstrap import bootstrap
from rating.bt import fit_point, make_problem
from rating.data import PairCounts
from rating.sandwich import anchored_se, sandwich_cov
from rating.simulate import simulate_battles


def test_matches_brute_force_over_single_battles() -> None:
    rng = np.random.default_rng(0)
    a, b, o = simulate_battles(np.array([950.0, 1000.0, 1080.0, 1010.0]), 400, rng, tie_fraction=0.5, bothbad_share=0.5)
    pc = PairCounts.from_battles(a, b, o, 4)
    prob = make_problem(pc, "half")
    fit = fit_point(prob)
    cov = sandwich_cov(prob, fit)
    theta = fit.theta
    y = np.array([1.0, 0.0, 0.5, 0.5])[o]
    p = 1 / (1 + np.exp(-(theta[a] - theta[b])))
    scores = np.zeros((len(a), 4))
    scores[np.arange(len(a)), a] += y - p
    scores[np.arange(len(a)), b] -= y - p
    meat = scores.T @ scores
    w = p * (1 - p)
    hess = np.zeros((4, 4))
    for i, j, wk in zip(a, b, w, strict=True):
        hess[np.ix_([i, j], [i, j])] += wk * np.array([[1, -1], [-1, 1]])
    h_pinv = np.linalg.pinv(hess)
    np.testing.assert_allclose(cov, h_pinv @ meat @ h_pinv, atol=1e-12)


def test_anchored_se_is_se_of_difference() -> None:
    pc = PairCounts(
        3, np.array([[0, 1], [1, 2], [0, 2]]), np.array([[30, 20, 5, 0], [25, 25, 0, 0], [10, 30, 2, 2]], float)
    )
    prob = make_problem(pc)
    cov = sandwich_cov(prob, fit_point(prob))
    se = anchored_se(prob, cov, 1)
    assert se[1] == 0.0
    assert se[0] == pytest.approx(np.sqrt(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1]))


def test_close_to_bootstrap_sd_on_chatbot_arena(arena_counts) -> None:
    _, pc = arena_counts
    prob = make_problem(pc, "half")
    fit = fit_point(prob)
    se = np.sqrt(np.diag(sandwich_cov(prob, fit)))
    boot = bootstrap(prob, fit, 300, seed=0)
    ratio = se / boot.theta.std(axis=1, ddof=1)
    # RATING.md: sandwich SE / bootstrap SD is 1.00-1.02 on real data.
    assert 0.97 < np.median(ratio) < 1.05
    assert np.all((ratio > 0.75) & (ratio < 1.3))


def test_davidson_sandwich_includes_tie_parameter() -> None:
    rng = np.random.default_rng(1)
    a, b, o = simulate_battles(np.array([900.0, 1000.0, 1100.0]), 3000, rng, model="davidson", nu=1.0)
    prob = make_problem(PairCounts.from_battles(a, b, o, 3), "davidson")
    cov = sandwich_cov(prob, fit_point(prob))
    assert cov.shape == (4, 4)
    assert np.all(np.linalg.eigvalsh(cov) > -1e-12)
    assert 0 < cov[3, 3] < 0.01
