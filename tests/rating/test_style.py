"""Style control: recovers strengths and style coefficients, reduces to plain BT, sandwich checked."""

from __future__ import annotations

import numpy as np
import pytest

from rating.simulate import simulate_battles, simulate_style_battles
from rating.style import fit_style, ratio_features, standardize


def test_ratio_features_and_standardize() -> None:
    f = ratio_features([[10, 0], [3, 2]], [[0, 0], [3, 6]])
    np.testing.assert_allclose(f, [[10 / 11, 0.0], [0.0, -4 / 9]])
    z, mean, std = standardize(np.array([[1.0, 5.0], [3.0, 5.0]]))
    np.testing.assert_allclose(z, [[-1.0, 0.0], [1.0, 0.0]])
    assert std.tolist() == [1.0, 1.0] and mean.tolist() == [2.0, 5.0]


def test_recovers_strengths_and_coefficients() -> None:
    rng = np.random.default_rng(1)
    true = np.linspace(900, 1200, 10)
    beta = np.array([0.4, -0.2, 0.0])
    a, b, o, z = simulate_style_battles(true, beta, 200_000, rng, tie_fraction=0.3)
    fit = fit_style(a, b, o, 10, z, standardize_features=False)
    assert fit.converged and fit.grad_norm <= 1e-10
    assert np.all(np.abs(fit.coef - beta) < 4 * fit.coef_se)
    err = fit.rating - (true - true.mean() + 1000)
    assert np.all(np.abs(err) < 4 * fit.se + 1e-9)
    # the raw fit ignores style, so it is attenuated toward the centre
    assert np.ptp(fit.raw_rating) < np.ptp(fit.rating)


def test_without_style_effect_controlled_equals_raw() -> None:
    rng = np.random.default_rng(2)
    true = np.array([950.0, 1000.0, 1060.0, 1010.0])
    a, b, o = simulate_battles(true, 20_000, rng, tie_fraction=0.3)
    z = np.zeros((len(a), 2))
    fit = fit_style(a, b, o, 4, z)
    np.testing.assert_allclose(fit.rating, fit.raw_rating, atol=1e-8)
    np.testing.assert_allclose(fit.coef, 0.0, atol=1e-12)
    np.testing.assert_allclose(fit.se, fit.raw_se, rtol=1e-6)


def test_ridge_shrinks_only_beta() -> None:
    rng = np.random.default_rng(3)
    a, b, o, z = simulate_style_battles(np.linspace(900, 1100, 5), np.array([0.5]), 5000, rng)
    light = fit_style(a, b, o, 5, z, ridge=1.0)
    heavy = fit_style(a, b, o, 5, z, ridge=5000.0)
    assert abs(heavy.coef[0]) < abs(light.coef[0])
    assert light.ridge == 1.0


def test_sandwich_coverage_of_beta() -> None:
    rng = np.random.default_rng(4)
    hits = 0
    for _ in range(60):
        a, b, o, z = simulate_style_battles(np.linspace(900, 1100, 6), np.array([0.3]), 3000, rng, tie_fraction=0.3)
        fit = fit_style(a, b, o, 6, z, standardize_features=False, ridge=1e-6)
        hits += abs(fit.coef[0] - 0.3) < 1.96 * fit.coef_se[0]
    assert hits >= 50


def test_anchor_and_bothbad_policy() -> None:
    rng = np.random.default_rng(5)
    a, b, o = simulate_battles(np.array([900.0, 1000.0, 1100.0]), 3000, rng, tie_fraction=0.5, bothbad_share=0.5)
    z = rng.standard_normal((len(a), 2))
    fit = fit_style(a, b, o, 3, z, ties="drop-bothbad", anchor=(0, 1114.0))
    assert fit.rating[0] == 1114.0 and fit.se[0] == 0.0
    assert fit.n_battles == int(np.sum(o != 3))
    with pytest.raises(ValueError, match="style control"):
        fit_style(a, b, o, 3, z, ties="davidson")
