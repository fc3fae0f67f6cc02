"""Batched bootstrap: every round equals its own exact fit, seeded, thread-independent, robust."""

from __future__ import annotations

import numpy as np

from rating.bootstrap import bootstrap, resampled_cells
from rating.bt import center, fit_point, make_problem


def test_each_round_equals_an_exact_fit_of_its_counts(llmfao_rows, counts_from) -> None:
    _, pc = counts_from(llmfao_rows)
    prob = make_problem(pc)
    fit = fit_point(prob)
    boot = bootstrap(prob, fit, 150, seed=3)
    assert boot.dropped == 0 and boot.theta.shape == (59, 150)
    assert boot.max_grad_norm <= 1e-7
    cells = resampled_cells(prob, 150, 3)
    assert np.all(cells.sum(axis=(0, 1)) == prob.cells.sum())
    for j in range(0, 150, 29):
        exact = fit_point(prob, cells=cells[..., j])
        assert exact.converged
        assert np.max(np.abs(center(prob, exact.theta) - boot.theta[:, j])) < 2e-6


def test_single_precision_steering_never_decides_convergence(arena_counts, monkeypatch) -> None:
    import rating.bootstrap as boot_mod

    _, pc = arena_counts
    prob = make_problem(pc)
    fit = fit_point(prob)
    steered = bootstrap(prob, fit, 100, seed=2)
    monkeypatch.setattr(boot_mod, "COARSE_FACTOR", np.inf)  # double precision in every iteration
    exact = bootstrap(prob, fit, 100, seed=2)
    assert steered.dropped == exact.dropped == 0
    assert steered.max_grad_norm <= 1e-7 and exact.max_grad_norm <= 1e-7
    # Both stop within the tolerance of the same per-round MLE (about 1e-4 Elo apart).
    assert np.max(np.abs(steered.theta - exact.theta)) < 5e-6
    assert not np.array_equal(steered.theta, exact.theta)  # the steering really ran
    # And each steered round is its own exact (double-precision) fit, not a single-precision stopping point.
    cells = resampled_cells(prob, 100, 2)
    for j in range(0, 100, 33):
        own = fit_point(prob, cells=cells[..., j])
        assert own.converged and np.max(np.abs(center(prob, own.theta) - steered.theta[:, j])) < 2e-6


def test_a_tolerance_below_the_single_precision_floor_still_converges_in_the_batch(arena_counts) -> None:
    # With tol far below float32's own gradient error the loop must leave single precision in time:
    # without the floor every round ran all its iterations there and was refitted one by one.
    _, pc = arena_counts
    prob = make_problem(pc)
    boot = bootstrap(prob, fit_point(prob), 40, seed=1, tol=1e-11)
    assert boot.refitted == 0 and boot.dropped == 0 and boot.max_grad_norm <= 1e-11


def test_seeded_and_independent_of_threads(llmfao_rows, counts_from) -> None:
    _, pc = counts_from(llmfao_rows)
    prob = make_problem(pc)
    fit = fit_point(prob)
    one = bootstrap(prob, fit, 230, seed=5, threads=1)
    two = bootstrap(prob, fit, 230, seed=5, threads=2)
    other = bootstrap(prob, fit, 230, seed=6)
    assert np.array_equal(one.theta, two.theta)
    assert not np.array_equal(one.theta, other.theta)


def test_rounds_without_mle_are_refitted_with_ridge_not_replaced(counts_from) -> None:
    rows = [("A", "B", "a")] * 7 + [("A", "B", "b")] * 3 + [("B", "C", "a")] * 2 + [("B", "C", "b")]
    _, pc = counts_from(rows)
    prob = make_problem(pc)
    fit = fit_point(prob)
    boot = bootstrap(prob, fit, 500, seed=1)
    assert boot.regularized > 0 and boot.refitted >= boot.regularized
    assert boot.dropped == 0
    assert np.all(np.isfinite(boot.theta))
    # no round was filled with the point estimate
    same = np.all(np.isclose(boot.theta, fit.theta[:, None], atol=1e-12), axis=0)
    assert same.sum() < 50


def test_davidson_bootstrap_matches_exact_fits() -> None:
    from rating.simulate import simulate_counts

    pc = simulate_counts(np.linspace(900, 1100, 6), 5000, np.random.default_rng(4), model="davidson", nu=0.6)
    prob = make_problem(pc, "davidson")
    fit = fit_point(prob)
    boot = bootstrap(prob, fit, 100, seed=2)
    cells = resampled_cells(prob, 100, 2)
    for j in (0, 57, 99):
        exact = fit_point(prob, cells=cells[..., j])
        assert np.max(np.abs(center(prob, exact.theta) - boot.theta[:, j])) < 2e-6
        assert abs(exact.log_nu - boot.log_nu[j]) < 2e-6


def test_zero_rounds() -> None:
    from rating.data import PairCounts

    pc = PairCounts(2, np.array([[0, 1]]), np.array([[3.0, 1.0, 0.0, 0.0]]))
    prob = make_problem(pc)
    boot = bootstrap(prob, fit_point(prob), 0, seed=0)
    assert boot.theta.shape == (2, 0) and boot.rounds == 0
