"""Gradient and Hessian checks of the per-pair likelihood terms against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from rating.bt import Problem, _derivatives, make_problem
from rating.data import PairCounts
from rating.likelihood import davidson_probs


def _problem(ties: str) -> Problem:
    rng = np.random.default_rng(2)
    pairs = np.array([[0, 1], [0, 2], [1, 2], [2, 3], [1, 3]])
    counts = rng.integers(1, 30, size=(5, 4)).astype(float)
    return make_problem(PairCounts(4, pairs, counts), ties)  # type: ignore[arg-type]


@pytest.mark.parametrize("ties", ["half", "drop-bothbad", "davidson"])
def test_gradient_and_hessian_match_finite_differences(ties: str) -> None:
    prob = _problem(ties)
    rng = np.random.default_rng(7)
    x = rng.normal(scale=0.5, size=prob.n_params)
    ridge = np.zeros(prob.n_models)
    _ll, g, h = _derivatives(prob, prob.cells, x, ridge)
    eps = 1e-6
    for i in range(prob.n_params):
        e = np.zeros_like(x)
        e[i] = eps
        lp, gp, _ = _derivatives(prob, prob.cells, x + e, ridge)
        lm, gm, _ = _derivatives(prob, prob.cells, x - e, ridge)
        assert (lp - lm) / (2 * eps) == pytest.approx(g[i], rel=1e-6, abs=1e-6)
        np.testing.assert_allclose(-(gp - gm) / (2 * eps), h[:, i], rtol=1e-5, atol=1e-6)


def test_davidson_probabilities_sum_to_one_and_reduce_to_logistic() -> None:
    d = np.linspace(-30, 30, 13)
    pf, ps, pt = davidson_probs(d, np.log(0.7))
    np.testing.assert_allclose(pf + ps + pt, 1.0, rtol=1e-14)
    pf0, _ps0, pt0 = davidson_probs(d, -800.0)  # nu -> 0: plain Bradley-Terry
    np.testing.assert_allclose(pf0, 1 / (1 + np.exp(-d)), rtol=1e-12)
    assert np.all(pt0 == 0.0)
