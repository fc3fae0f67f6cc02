"""Robust (Huber-White sandwich) standard errors of the point fit.

``Cov = H^{-1} G H^{-1}`` with ``H`` the negative Hessian of the (penalised) log-likelihood at the
estimate and ``G = sum over battles of s s^T`` the outer products of per-battle scores.  For
Bradley-Terry with ties as half a win the model's own variance ``p (1 - p)`` overstates the spread
of a half-point outcome, so the sandwich, not ``H^{-1}``, is the honest covariance.  Strengths are
only identified up to a shift per component; the covariance returned is that of the strengths
centred in each component, and `anchored_se` converts it to differences from an anchor model.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from rating.bt import PointFit, Problem, gauge_fix
from rating.likelihood import bt_score_sq, davidson_score_products
from rating.linalg import matmul, spd_inverse

Array = NDArray[np.float64]


def score_outer(prob: Problem, fit: PointFit) -> Array:
    """``G``: the summed outer products of per-battle scores, shape (n_params, n_params)."""
    n = prob.n_models
    d = prob.inc.b @ fit.theta
    if not prob.davidson:
        return prob.inc.laplacian(bt_score_sq(d, prob.cells))
    s_dd, s_dp, s_pp = davidson_score_products(d, fit.log_nu, prob.cells)
    g = np.zeros((n + 1, n + 1))
    g[:n, :n] = prob.inc.laplacian(s_dd)
    g[:n, n] = g[n, :n] = prob.inc.bt @ s_dp
    g[n, n] = s_pp.sum()
    return g


def sandwich_cov(prob: Problem, fit: PointFit) -> Array:
    """Sandwich covariance of the natural-scale parameters (strengths, then ``log nu``).

    Parameters
    ----------
    prob : Problem
        The data set.
    fit : PointFit
        The point fit of `prob`.

    Returns
    -------
    ndarray, shape (n_params, n_params)
        Covariance of the per-component centred strengths (and of ``log nu`` for Davidson).
        Rows of unrated models are zero.
    """
    h_inv = spd_inverse(gauge_fix(prob, fit.hessian, prob.ridge))
    cov = matmul(h_inv, matmul(score_outer(prob, fit), h_inv))
    cov = 0.5 * (cov + cov.T)
    unrated = np.flatnonzero(prob.comps.labels < 0)
    cov[unrated, :] = 0.0
    cov[:, unrated] = 0.0
    return cov


def anchored_se(prob: Problem, cov: Array, anchor: int | None) -> Array:
    """Standard errors of the strengths (natural scale), shape (n_models,).

    Without an anchor these are the SEs of the centred strengths.  With an anchor they are the
    SEs of ``theta_i - theta_anchor`` inside the anchor's component (so the anchor's own SE is 0);
    other components keep their centred SEs.
    """
    n = prob.n_models
    var = np.clip(np.diag(cov)[:n].copy(), 0.0, None)
    if anchor is not None and prob.comps.labels[anchor] >= 0:
        idx = prob.comps.labels == prob.comps.labels[anchor]
        diff = var[idx] + cov[anchor, anchor] - 2.0 * cov[:n, anchor][idx]
        var[idx] = np.clip(diff, 0.0, None)
        var[anchor] = 0.0
    return np.sqrt(var)
