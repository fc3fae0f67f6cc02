"""Style control: contextual Bradley-Terry with per-battle style features, solved by Newton's method.

``logit P(a beats b) = theta_a - theta_b + z . beta`` where ``z`` holds per-battle style
differences (for text: ``(x_a - x_b) / (x_a + x_b + 1)`` of response tokens, markdown headers,
list items and bold spans, see `ratio_features`), z-scored over the data set.  The controlled
rating is ``theta``: the strength left once the style terms have explained what they can.

Ridge: ``ridge / 2 * ||beta||^2`` on the *summed* log-likelihood, on ``beta`` only (default 1.0).
With thousands of battles that is a tiny prior: it only keeps ``beta`` finite when a feature is
constant or perfectly collinear, so the estimate is essentially the MLE and the sandwich standard
errors keep their meaning.  (FastChat uses 0.5 on all parameters over a summed loss - also tiny;
LMArena's arena-rank uses 1.0 on ``beta`` over the *mean* loss, i.e. N times stronger, which shrinks
``beta`` visibly.)  The strengths get no ridge unless their component has no finite MLE.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit, ndtri

from rating.bt import DEFAULT_TOL, Problem, center, fit_point, gauge_fix, make_problem, to_ratings
from rating.data import PairCounts
from rating.linalg import gram, matmul, spd_inverse, spd_solve, tall_matvec
from rating.sandwich import anchored_se, sandwich_cov

Array = NDArray[np.float64]


def ratio_features(feat_a: ArrayLike, feat_b: ArrayLike) -> Array:
    """Per-battle style differences ``(a - b) / (a + b + 1)`` (shape (N, F)) from raw counts."""
    a = np.asarray(feat_a, dtype=float)
    b = np.asarray(feat_b, dtype=float)
    return (a - b) / (a + b + 1.0)


def standardize(x: Array) -> tuple[Array, Array, Array]:
    """Z-score columns; a constant column gets scale 1 (it becomes all zeros)."""
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (x - mean) / std, mean, std


@dataclass(frozen=True)
class StyleFit:
    """Raw and style-controlled ratings side by side.

    Attributes
    ----------
    raw_rating, raw_se : ndarray, shape (n,)
        Plain Bradley-Terry on the same battles, with its sandwich SE (rating scale).
    rating, se, ci_low, ci_high : ndarray, shape (n,)
        Style-controlled rating, its sandwich SE and interval.
    coef, coef_se : ndarray, shape (F,)
        ``beta`` (logit per standard deviation of each feature) and its sandwich SE.
    feature_mean, feature_std : ndarray, shape (F,)
        The z-scoring applied to the features.
    component : ndarray of int, shape (n,)
        Connected component (-1 = no battle).
    votes : ndarray, shape (n,)
        Battles per model in the fit.
    """

    raw_rating: Array
    raw_se: Array
    rating: Array
    se: Array
    ci_low: Array
    ci_high: Array
    coef: Array
    coef_se: Array
    feature_mean: Array
    feature_std: Array
    component: NDArray[np.int64]
    votes: Array
    converged: bool
    grad_norm: float
    iterations: int
    ridge: float
    n_battles: int


@dataclass(frozen=True)
class _Battles:
    """Per-battle arrays of a style fit."""

    a: NDArray[np.int64]
    b: NDArray[np.int64]
    y: Array
    z: Array
    oriented: NDArray[np.int64]
    prob: Problem
    scratch: Array  # (N, F) column-major work space, reused by every Hessian build

    @property
    def n(self) -> int:
        return self.prob.n_models


def _pair_sums(bt: _Battles, w: Array) -> Array:
    """(n, n) matrix: ``[i, j]`` = sum of per-battle `w` over battles with ``a = i, b = j``."""
    n = bt.n
    return np.bincount(bt.oriented, weights=w, minlength=n * n).astype(float, copy=False).reshape(n, n)


def _signed(m: Array) -> Array:
    """Per model: sum as ``a`` minus sum as ``b`` (the incidence transpose applied per battle)."""
    return m.sum(axis=1) - m.sum(axis=0)


def _laplacian(m: Array) -> Array:
    """Laplacian of the symmetrised pair sums ``m + m.T``."""
    s = m + m.T
    out = -s
    out[np.diag_indices_from(out)] += s.sum(axis=1)
    return out


def _eta(bt: _Battles, x: Array) -> Array:
    theta, beta = x[: bt.n], x[bt.n :]
    return theta.take(bt.a) - theta.take(bt.b) + tall_matvec(bt.z, beta)


def _loglik(bt: _Battles, x: Array, ridge: float) -> float:
    eta = _eta(bt, x)
    beta = x[bt.n :]
    pen = float(np.sum(bt.prob.ridge * x[: bt.n] ** 2)) + ridge * float(beta @ beta)
    return float(np.sum(bt.y * eta - np.logaddexp(0.0, eta))) - 0.5 * pen


def _block_matrix(bt: _Battles, w: Array, extra: Array | None = None) -> tuple[Array, Array | None]:
    """``sum_k w_k v_k v_k^T`` with ``v_k = (e_a - e_b, z_k)`` (Hessian or sandwich meat).

    With `extra` (shape (N,)), also returns ``z.T @ extra`` from the same pass over ``z``.
    """
    n, f = bt.n, bt.z.shape[1]
    h = np.zeros((n + f, n + f))
    h[:n, :n] = _laplacian(_pair_sums(bt, w))
    wz = np.multiply(bt.z, w[:, None], out=bt.scratch)
    for j in range(f):
        h[:n, n + j] = _signed(_pair_sums(bt, wz[:, j]))
    h[n:, :n] = h[:n, n:].T
    h[n:, n:] = gram(bt.z, wz)
    return h, (None if extra is None else gram(bt.z, extra[:, None])[:, 0])


def _derivs(bt: _Battles, x: Array, ridge: float) -> tuple[Array, Array, Array]:
    """Gradient, negative Hessian of the penalised log-likelihood, and win probabilities."""
    n = bt.n
    p = expit(_eta(bt, x))
    r = bt.y - p
    h, zr = _block_matrix(bt, p * (1.0 - p), r)
    assert zr is not None
    g = np.concatenate([_signed(_pair_sums(bt, r)) - bt.prob.ridge * x[:n], zr - ridge * x[n:]])
    h[np.diag_indices_from(h)] += np.concatenate([bt.prob.ridge, np.full(len(x) - n, ridge)])
    return g, h, p


def _norm(bt: _Battles, g: Array) -> float:
    n = bt.n
    th = np.max(np.abs(g[:n]) / np.maximum(bt.prob.votes, 1.0), initial=0.0)
    return float(max(th, np.max(np.abs(g[n:]), initial=0.0) / max(len(bt.y), 1)))


def _newton(bt: _Battles, x: Array, ridge: float, tol: float, max_iter: int) -> tuple[Array, Array, Array, float, int]:
    """Newton on the contextual likelihood: x, negative Hessian, probabilities, grad norm, iterations.

    A full step is kept when it lowers the gradient norm (the usual case from the warm start);
    otherwise the step is halved until the penalised log-likelihood rises.
    """
    n = bt.n
    g, h, p = _derivs(bt, x, ridge)
    it, gn = 0, _norm(bt, g)
    while gn > tol and it < max_iter:
        hg = h.copy()
        hg[:n, :n] = gauge_fix(bt.prob, h[:n, :n], bt.prob.ridge)
        step = spd_solve(hg, g)
        t = 1.0
        g_new, h_new, p_new = _derivs(bt, x + step, ridge)
        if _norm(bt, g_new) >= gn:
            ll = _loglik(bt, x, ridge)
            while t > 1e-12 and _loglik(bt, x + t * step, ridge) < ll - 1e-12 * abs(ll):
                t *= 0.5
            g_new, h_new, p_new = _derivs(bt, x + t * step, ridge)
        x, g, h, p = x + t * step, g_new, h_new, p_new
        it += 1
        gn = _norm(bt, g)
    return x, h, p, gn, it


def _sandwich(bt: _Battles, h: Array, p: Array) -> Array:
    n = bt.n
    meat, _ = _block_matrix(bt, (bt.y - p) ** 2)
    hg = h.copy()
    hg[:n, :n] = gauge_fix(bt.prob, h[:n, :n], bt.prob.ridge)
    h_inv = spd_inverse(hg)
    cov = matmul(h_inv, matmul(meat, h_inv))
    return 0.5 * (cov + cov.T)


def _prepare(
    a_idx: ArrayLike, b_idx: ArrayLike, codes: ArrayLike, n: int, features: ArrayLike, ties: str, scale_z: bool
) -> tuple[_Battles, Array, Array]:
    a = np.asarray(a_idx, dtype=np.int64).ravel()
    b = np.asarray(b_idx, dtype=np.int64).ravel()
    o = np.asarray(codes, dtype=np.int64).ravel()
    z = np.asarray(features, dtype=float)
    z = z.reshape(len(z), -1)
    if not len(a) == len(b) == len(o) == len(z):
        raise ValueError("a_idx, b_idx, outcome_codes and features must have the same length")
    counts = PairCounts.from_battles(a, b, o, n)
    if ties == "drop-bothbad":
        keep = o != 3
        a, b, o, z = a[keep], b[keep], o[keep], z[keep]
    # Column-major: every per-feature pass reads contiguous memory.
    z = np.asfortranarray(z)
    mean, std = np.zeros(z.shape[1]), np.ones(z.shape[1])
    if scale_z and len(z):
        z, mean, std = standardize(z)
        z = np.asfortranarray(z)
    y = np.array([1.0, 0.0, 0.5, 0.5]).take(o)
    prob = make_problem(counts, "drop-bothbad" if ties == "drop-bothbad" else "half")
    return _Battles(a, b, y, z, a * n + b, prob, np.empty_like(z, order="F")), mean, std


def fit_style(
    a_idx: ArrayLike,
    b_idx: ArrayLike,
    outcome_codes: ArrayLike,
    n_models: int,
    features: ArrayLike,
    *,
    ties: str = "half",
    ridge: float = 1.0,
    standardize_features: bool = True,
    anchor: tuple[int, float] | None = None,
    scale: float = 400.0,
    base: float = 10.0,
    center_value: float = 1000.0,
    level: float = 0.95,
    tol: float = DEFAULT_TOL,
    max_iter: int = 100,
) -> StyleFit:
    """Fit raw and style-controlled Bradley-Terry ratings with sandwich standard errors.

    Parameters
    ----------
    a_idx, b_idx : array_like of int, shape (N,)
        Models of each battle.
    outcome_codes : array_like of int, shape (N,)
        0 = ``a`` won, 1 = ``b`` won, 2 = tie, 3 = tie (both bad).
    n_models : int
        Number of models.
    features : array_like, shape (N, F)
        Style differences per battle, oriented ``a`` minus ``b`` (e.g. `ratio_features`).
    ties : {"half", "drop-bothbad"}
        Tie policy (the Davidson model has no contextual variant here).
    ridge : float
        Ridge on ``beta`` over the summed log-likelihood (see the module docstring).
    standardize_features : bool
        Z-score the feature columns first (the Chatbot Arena convention).
    anchor, scale, base, center_value, level
        As in `rating.rate`.
    tol : float
        Per-battle gradient-norm tolerance.
    max_iter : int
        Newton iteration budget.

    Returns
    -------
    StyleFit
    """
    if ties not in ("half", "drop-bothbad"):
        raise ValueError("style control supports ties='half' or 'drop-bothbad'")
    bt, mean, std = _prepare(a_idx, b_idx, outcome_codes, n_models, features, ties, standardize_features)
    prob = bt.prob
    raw = fit_point(prob, tol=tol)
    x0 = np.concatenate([raw.theta, np.zeros(bt.z.shape[1])])
    x, h, p, gn, it = _newton(bt, x0, ridge, tol, max_iter)
    cov = _sandwich(bt, h, p)
    n = n_models
    k = scale / np.log(base)
    ok_anchor = anchor if anchor is not None and prob.comps.labels[anchor[0]] >= 0 else None
    theta = center(prob, x[:n])
    controlled = to_ratings(prob, theta, anchor=ok_anchor, scale=scale, base=base, center_value=center_value)
    se = k * anchored_se(prob, cov, ok_anchor[0] if ok_anchor else None)
    raw_rating = to_ratings(prob, raw.theta, anchor=ok_anchor, scale=scale, base=base, center_value=center_value)
    raw_se = k * anchored_se(prob, sandwich_cov(prob, raw), ok_anchor[0] if ok_anchor else None)
    zq = float(ndtri(0.5 + level / 2.0))
    return StyleFit(
        raw_rating=raw_rating,
        raw_se=raw_se,
        rating=controlled,
        se=se,
        ci_low=controlled - zq * se,
        ci_high=controlled + zq * se,
        coef=x[n:].copy(),
        coef_se=np.sqrt(np.clip(np.diag(cov)[n:], 0.0, None)),
        feature_mean=mean,
        feature_std=std,
        component=prob.comps.labels.copy(),
        votes=prob.votes.copy(),
        converged=gn <= tol,
        grad_norm=gn,
        iterations=it,
        ridge=ridge,
        n_battles=len(bt.y),
    )
