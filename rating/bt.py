"""Bradley-Terry maximum likelihood on pair counts, solved by Newton's method to a checked gradient norm.

Conventions (see docs/rating.md): strengths ``theta`` are natural-scale log-strengths; a rating is
``center + scale / ln(base) * theta`` (`to_ratings`).  Ties count as half a win (``"half"``), plain
ties only with both-bad ties dropped (``"drop-bothbad"``), or enter a Davidson tie model
(``"davidson"``, both kinds of tie are ties).  Each connected component is centred on its own
(strengths have mean zero there) because nothing in the data links components.

When a component has no finite MLE (a model that never lost or never won, see `rating.graph`), that
component alone gets a ridge penalty ``ridge / 2 * sum(theta**2)`` on the summed log-likelihood;
every other component keeps the exact, unpenalised MLE.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from rating.data import PairCounts, TiePolicy, policy_cells
from rating.graph import Components, components, mle_exists
from rating.likelihood import (
    Incidence,
    bt_loglik,
    bt_terms,
    davidson_loglik,
    davidson_terms,
)
from rating.linalg import spd_solve

Array = NDArray[np.float64]
DEFAULT_RIDGE = 0.1
DEFAULT_TOL = 1e-10


@dataclass(frozen=True)
class Problem:
    """A fit-ready data set: canonical pairs, policy cells, graph structure and penalties.

    Attributes
    ----------
    n_models : int
        Number of models.
    pairs : ndarray of int, shape (K, 2)
        Canonical pairs (``i < j``) with at least one counted battle.
    cells : ndarray, shape (K, 3)
        ``[wins first, wins second, ties]`` after the tie policy.
    davidson : bool
        Whether ties follow the Davidson model (adds one parameter, ``log nu``).
    inc : Incidence
        Sparse incidence matrices of `pairs`.
    comps : Components
        Connected components.
    exists : ndarray of bool, shape (n_components,)
        Whether each component has a finite MLE.
    ridge : ndarray, shape (n_models,)
        Ridge per model: ``DEFAULT_RIDGE``-like value inside components without an MLE, else 0.
    phi_ridge : float
        Ridge on ``log nu`` (non-zero only when the data hold no ties or only ties).
    votes : ndarray, shape (n_models,)
        Counted battles per model.
    """

    n_models: int
    pairs: NDArray[np.int64]
    cells: Array
    davidson: bool
    inc: Incidence
    comps: Components
    exists: NDArray[np.bool_]
    ridge: Array
    phi_ridge: float
    votes: Array

    @property
    def n_params(self) -> int:
        """Strengths plus the Davidson tie parameter when present."""
        return self.n_models + int(self.davidson)

    @property
    def n_matches(self) -> float:
        """Battles that enter the fit."""
        return float(self.cells.sum())


def make_problem(counts: PairCounts, ties: TiePolicy = "half", *, ridge: float = DEFAULT_RIDGE) -> Problem:
    """Prepare counts for fitting under a tie policy.

    Parameters
    ----------
    counts : PairCounts
        Battle counts.
    ties : {"half", "drop-bothbad", "davidson"}
        Tie policy.
    ridge : float
        Ridge used only in components whose MLE does not exist (must be > 0).

    Returns
    -------
    Problem
    """
    if ridge <= 0:
        raise ValueError("ridge must be positive")
    canon = counts.canonical()
    cells = policy_cells(canon, ties)
    live = cells.sum(axis=1) > 0
    pairs, cells = np.asarray(canon.pairs)[live], cells[live]
    n = canon.n_models
    comps = components(n, pairs, cells.sum(axis=1))
    exists = mle_exists(n, pairs, cells, comps)
    ridge_vec = np.zeros(n)
    for c in np.flatnonzero(~exists):
        ridge_vec[comps.labels == c] = ridge
    inc = Incidence.build(pairs, n)
    votes = np.asarray(inc.abs_bt @ cells.sum(axis=1))
    total, tie_total = cells.sum(), cells[:, 2].sum()
    davidson = ties == "davidson"
    phi_ridge = ridge if davidson and (tie_total == 0 or tie_total == total) else 0.0
    return Problem(n, pairs, cells, davidson, inc, comps, exists, ridge_vec, phi_ridge, votes)


@dataclass(frozen=True)
class PointFit:
    """Result of `fit_point`.

    Attributes
    ----------
    theta : ndarray, shape (n_models,)
        Natural-scale strengths, mean zero in every component; 0 for unrated models.
    log_nu : float
        Davidson ``log nu`` (``nan``-free: 0.0 when the model has no tie parameter).
    converged : bool
        Whether `grad_norm` reached the tolerance.
    grad_norm : float
        Largest gradient entry of the (penalised) log-likelihood divided by the battles behind
        it: ``max_i |g_i| / max(1, votes_i)``.
    iterations : int
        Newton iterations used.
    loglik : float
        Unpenalised log-likelihood at `theta`.
    hessian : ndarray, shape (n_params, n_params)
        Negative Hessian of the penalised log-likelihood at the solution (no gauge term).
    """

    theta: Array
    log_nu: float
    converged: bool
    grad_norm: float
    iterations: int
    loglik: float
    hessian: Array


def _derivatives(prob: Problem, cells: Array, x: Array, ridge: Array) -> tuple[float, Array, Array]:
    """Penalised log-likelihood, gradient and negative Hessian at parameters `x`."""
    n = prob.n_models
    theta = x[:n]
    d = prob.inc.b @ theta
    if prob.davidson:
        phi = float(x[n])
        a_d, a_p, h_dd, h_dp, h_pp = davidson_terms(d, phi, cells)
        ll = davidson_loglik(d, phi, cells)
        g = np.concatenate([prob.inc.bt @ a_d, [a_p.sum()]])
        h = np.zeros((n + 1, n + 1))
        h[:n, :n] = prob.inc.laplacian(h_dd)
        h[:n, n] = h[n, :n] = prob.inc.bt @ h_dp
        h[n, n] = h_pp.sum()
    else:
        y, tot = cells[:, 0] + 0.5 * cells[:, 2], cells.sum(axis=1)
        a, w = bt_terms(d, y, tot)
        ll = bt_loglik(d, y, tot)
        g, h = np.asarray(prob.inc.bt @ a), prob.inc.laplacian(w)
    pen = np.concatenate([ridge, [prob.phi_ridge]]) if prob.davidson else ridge
    ll -= 0.5 * float(np.sum(pen * x * x))
    g = g - pen * x
    h[np.diag_indices_from(h)] += pen
    return ll, g, h


def gauge_fix(prob: Problem, h: Array, ridge: Array) -> Array:
    """Make the negative Hessian invertible without changing mean-zero Newton steps.

    Adds ``s_c 1_c 1_c^T`` for every component without ridge (the direction the likelihood
    cannot see) and 1 on the diagonal of unrated models.
    """
    out = h.copy()
    labels = prob.comps.labels
    for c in range(prob.comps.n_components):
        idx = np.flatnonzero(labels == c)
        if np.all(ridge[idx] > 0):
            continue
        s = max(float(np.trace(h[np.ix_(idx, idx)])) / len(idx) ** 2, 1e-12)
        out[np.ix_(idx, idx)] += s
    unrated = np.flatnonzero(labels < 0)
    out[unrated, unrated] += 1.0
    return out


def grad_norm(prob: Problem, g: Array, votes: Array | None = None) -> float:
    """Per-battle gradient norm: ``max_i |g_i| / max(1, votes_i)`` (and the tie parameter's)."""
    v = prob.votes if votes is None else votes
    n = prob.n_models
    out = float(np.max(np.abs(g[:n]) / np.maximum(v, 1.0), initial=0.0))
    if prob.davidson:
        out = max(out, abs(float(g[n])) / max(prob.n_matches, 1.0))
    return out


def center(prob: Problem, theta: Array) -> Array:
    """Subtract each component's mean strength; unrated models get 0."""
    out = np.zeros_like(theta)
    labels = prob.comps.labels
    for c in range(prob.comps.n_components):
        idx = labels == c
        out[idx] = theta[idx] - theta[idx].mean(axis=0)
    return out


def fit_point(
    prob: Problem,
    *,
    cells: Array | None = None,
    ridge: Array | None = None,
    x0: Array | None = None,
    tol: float = DEFAULT_TOL,
    max_iter: int = 200,
) -> PointFit:
    """Maximise the (penalised) likelihood by damped Newton steps.

    Parameters
    ----------
    prob : Problem
        Data set and structure.
    cells : ndarray, shape (K, 3), optional
        Replacement counts (a bootstrap replicate); defaults to ``prob.cells``.
    ridge : ndarray, shape (n_models,), optional
        Replacement ridge per model; defaults to ``prob.ridge``.
    x0 : ndarray, shape (n_params,), optional
        Starting point (warm start); defaults to zeros.
    tol : float
        Convergence tolerance on the per-battle gradient norm (see `PointFit.grad_norm`).
    max_iter : int
        Iteration budget; the result says whether it converged.

    Returns
    -------
    PointFit
    """
    cells = prob.cells if cells is None else cells
    ridge = prob.ridge if ridge is None else ridge
    votes = np.asarray(prob.inc.abs_bt @ cells.sum(axis=1))
    x = np.zeros(prob.n_params) if x0 is None else np.array(x0, dtype=float)
    ll, g, h = _derivatives(prob, cells, x, ridge)
    it, gn = 0, grad_norm(prob, g, votes)
    while gn > tol and it < max_iter:
        step = spd_solve(gauge_fix(prob, h, ridge), g)
        t = 1.0
        for _ in range(60):
            ll_new, g_new, h_new = _derivatives(prob, cells, x + t * step, ridge)
            if ll_new >= ll - 1e-12 * abs(ll) or t < 1e-12:
                break
            t *= 0.5
        x = x + t * step
        ll, g, h = ll_new, g_new, h_new
        it += 1
        gn = grad_norm(prob, g, votes)
    theta = center(prob, x[: prob.n_models])
    pen_free = ll + 0.5 * float(np.sum(ridge * x[: prob.n_models] ** 2))
    if prob.davidson:
        pen_free += 0.5 * prob.phi_ridge * float(x[-1]) ** 2
    log_nu = float(x[-1]) if prob.davidson else 0.0
    return PointFit(theta, log_nu, gn <= tol, gn, it, pen_free, h)


def to_ratings(
    prob: Problem,
    theta: Array,
    *,
    anchor: tuple[int, float] | None,
    scale: float,
    base: float,
    center_value: float,
) -> Array:
    """Convert mean-zero strengths (shape (n,) or (n, r)) to the rating scale.

    Every component is centred on `center_value`, except the anchor's component, which is
    shifted so that the anchor model sits exactly at its value.  Unrated models sit at
    `center_value`.
    """
    k = scale / np.log(base)
    out = center_value + k * theta
    if anchor is not None:
        a, value = anchor
        c = prob.comps.labels[a]
        if c >= 0:
            idx = prob.comps.labels == c
            out[idx] = value + k * (theta[idx] - theta[a])
    return out
