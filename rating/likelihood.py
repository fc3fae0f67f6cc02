"""Per-pair log-likelihood terms of the Bradley-Terry and Davidson models, vectorised over replicates.

Everything here works on natural-scale strengths ``theta`` (``P(i beats j) = 1/(1+exp(-(theta_i -
theta_j)))``) and on the three cells ``[wins first, wins second, ties]`` of each pair.  Arrays may
carry a trailing replicate axis: ``d`` of shape (K,) or (K, r).  The negative second derivatives
returned here do not depend on the outcomes, so observed and expected information coincide.

Bradley-Terry with ties as half a win::

    l_k = y_k d_k - n_k log(1 + exp(d_k)),   y_k = wins_first + ties / 2

Davidson (1970), with ``nu = exp(phi)``::

    P(first) = e^{d/2} / D,  P(second) = e^{-d/2} / D,  P(tie) = nu / D,  D = e^{d/2} + e^{-d/2} + nu
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.special import expit

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Incidence:
    """Sparse pair-model incidence: ``d = B @ theta`` and ``g = B.T @ a``.

    Attributes
    ----------
    b : scipy.sparse.csr_matrix, shape (K, n)
        +1 at the first model of each pair, -1 at the second.
    bt : scipy.sparse.csr_matrix, shape (n, K)
        Its transpose, stored in CSR for fast scatter.
    abs_bt : scipy.sparse.csr_matrix, shape (n, K)
        ``|B|.T``: sums per-pair quantities (battles) onto both models.
    """

    b: sp.csr_matrix
    bt: sp.csr_matrix
    abs_bt: sp.csr_matrix

    @classmethod
    def build(cls, pairs: NDArray[np.int64], n_models: int) -> Incidence:
        """Incidence matrices for `pairs` (shape (K, 2)) over `n_models` models."""
        k = len(pairs)
        rows = np.concatenate([np.arange(k), np.arange(k)])
        cols = np.concatenate([pairs[:, 0], pairs[:, 1]])
        vals = np.concatenate([np.ones(k), -np.ones(k)])
        b = sp.csr_matrix((vals, (rows, cols)), shape=(k, n_models))
        return cls(b, b.T.tocsr(), abs(b).T.tocsr())

    def laplacian(self, w: Array) -> Array:
        """Dense ``B.T diag(w) B`` (shape (n, n)) for per-pair weights `w` (shape (K,))."""
        return np.asarray((self.bt @ sp.diags(w) @ self.b).toarray())


def bt_terms(d: Array, y: Array, n: Array) -> tuple[Array, Array]:
    """Score and information of Bradley-Terry per pair.

    Parameters
    ----------
    d : ndarray
        ``theta_first - theta_second``.
    y : ndarray
        Points of the first model (wins plus half the ties).
    n : ndarray
        Battles of the pair.

    Returns
    -------
    a, h : ndarray
        ``dl/dd = y - n p`` and ``-d2l/dd2 = n p (1 - p)`` with ``p = sigmoid(d)``.
    """
    p = expit(d)
    return y - n * p, n * p * (1.0 - p)


def bt_loglik(d: Array, y: Array, n: Array) -> float:
    """Bradley-Terry log-likelihood summed over pairs (ties as half a win)."""
    return float(np.sum(y * d - n * np.logaddexp(0.0, d)))


def bt_score_sq(d: Array, cells: Array) -> Array:
    """Sum over battles of the squared per-battle score, per pair (sandwich meat).

    A battle the first model won has score ``1 - p``, a loss ``-p``, a tie ``1/2 - p``.
    """
    p = expit(d)
    return cells[:, 0] * (1.0 - p) ** 2 + cells[:, 1] * p**2 + cells[:, 2] * (0.5 - p) ** 2


def davidson_probs(d: Array, phi: Array | float) -> tuple[Array, Array, Array]:
    """``P(first wins), P(second wins), P(tie)`` under Davidson, computed without overflow."""
    m = np.maximum(np.abs(d) * 0.5, phi)
    ep, em, en = np.exp(d * 0.5 - m), np.exp(-d * 0.5 - m), np.exp(phi - m)
    den = ep + em + en
    return ep / den, em / den, en / den


def davidson_terms(d: Array, phi: Array | float, cells: Array) -> tuple[Array, Array, Array, Array, Array]:
    """Score and information of the Davidson tie model per pair.

    Parameters
    ----------
    d : ndarray, shape (K, ...)
        ``theta_first - theta_second``.
    phi : float or ndarray broadcastable to `d`
        Log tie parameter ``log nu``.
    cells : ndarray, shape (K, 3, ...)
        ``[wins first, wins second, ties]``.

    Returns
    -------
    a_d, a_phi, h_dd, h_dphi, h_phiphi : ndarray
        First derivatives of the log-likelihood and the entries of its negative Hessian.
    """
    pf, ps, pt = davidson_probs(d, phi)
    n = cells[:, 0] + cells[:, 1] + cells[:, 2]
    delta = pf - ps
    a_d = 0.5 * (cells[:, 0] - cells[:, 1]) - 0.5 * n * delta
    a_phi = cells[:, 2] - n * pt
    h_dd = 0.25 * n * (pf + ps - delta**2)
    h_dphi = -0.5 * n * delta * pt
    h_pp = n * pt * (1.0 - pt)
    return a_d, a_phi, h_dd, h_dphi, h_pp


def davidson_loglik(d: Array, phi: float, cells: Array) -> float:
    """Davidson log-likelihood summed over pairs."""
    pf, ps, pt = davidson_probs(d, phi)
    tiny = np.finfo(float).tiny
    ll = cells[:, 0] * np.log(pf + tiny) + cells[:, 1] * np.log(ps + tiny) + cells[:, 2] * np.log(pt + tiny)
    return float(np.sum(ll))


def davidson_score_products(d: Array, phi: float, cells: Array) -> tuple[Array, Array, Array]:
    """Per-pair sums over battles of ``s_d**2, s_d s_phi, s_phi**2`` (sandwich meat for Davidson)."""
    pf, ps, pt = davidson_probs(d, phi)
    half_delta = 0.5 * (pf - ps)
    sd = np.stack([0.5 - half_delta, -0.5 - half_delta, -half_delta], axis=1)
    sp_ = np.stack([-pt, -pt, 1.0 - pt], axis=1)
    return (cells * sd**2).sum(1), (cells * sd * sp_).sum(1), (cells * sp_**2).sum(1)
