"""Ranks within connected components (point, Rank (UB), bootstrap intervals) and pair matrices.

Ranks are only defined inside a connected component of the comparison graph: models that are not
linked by any chain of battles are not comparable, so every rank here is computed among the
members of one component.  Unrated models (no counted battle) get rank 0, meaning "no rank".
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from rating.bt import Problem

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]


def point_ranks(rating: Array, labels: IntArray) -> IntArray:
    """``1 + number of models in the same component with a strictly higher rating``."""
    out = np.zeros(len(rating), dtype=np.int64)
    for c in np.unique(labels[labels >= 0]):
        idx = np.flatnonzero(labels == c)
        r = rating[idx]
        out[idx] = 1 + (r[None, :] > r[:, None]).sum(axis=1)
    return out


def rank_ub(low: Array, high: Array, labels: IntArray) -> IntArray:
    """Rank (UB): ``1 + number of models in the component whose lower bound exceeds my upper bound``.

    Models whose intervals overlap share a rank, so a rank is never claimed without the data
    separating the models.
    """
    out = np.zeros(len(low), dtype=np.int64)
    for c in np.unique(labels[labels >= 0]):
        idx = np.flatnonzero(labels == c)
        out[idx] = 1 + (low[idx][None, :] > high[idx][:, None]).sum(axis=1)
    return out


def _column_ranks(b: Array) -> IntArray:
    """Per column: ``1 + number of rows with a strictly higher value`` (ties share the best rank)."""
    m = b.shape[0]
    order = np.argsort(-b, axis=0, kind="stable")
    s = np.take_along_axis(b, order, axis=0)
    new_group = np.ones(s.shape, dtype=bool)
    new_group[1:] = s[1:] != s[:-1]
    start = np.maximum.accumulate(np.where(new_group, np.arange(m)[:, None], 0), axis=0)
    ranks = np.empty(b.shape, dtype=np.int64)
    np.put_along_axis(ranks, order, start + 1, axis=0)
    return ranks


def bootstrap_rank_interval(boot: Array, labels: IntArray, level: float = 0.95) -> tuple[IntArray, IntArray]:
    """Central `level` interval of each model's rank over bootstrap rounds.

    Parameters
    ----------
    boot : ndarray, shape (n_models, R)
        Ratings per bootstrap round.
    labels : ndarray of int, shape (n_models,)
        Component per model (-1 = unrated).
    level : float
        Coverage of the interval.

    Returns
    -------
    low, high : ndarray of int
        Best and worst rank in the interval (observed ranks, no interpolation); 0 for unrated
        models and when there are no rounds.
    """
    n, rounds = boot.shape
    low, high = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    if rounds == 0:
        return low, high
    alpha = (1.0 - level) / 2.0
    for c in np.unique(labels[labels >= 0]):
        idx = np.flatnonzero(labels == c)
        ranks = _column_ranks(boot[idx])
        low[idx] = np.quantile(ranks, alpha, axis=1, method="inverted_cdf").astype(np.int64)
        high[idx] = np.quantile(ranks, 1.0 - alpha, axis=1, method="inverted_cdf").astype(np.int64)
    return low, high


def pair_matrices(prob: Problem) -> tuple[Array, Array]:
    """Win fraction and battle count per ordered pair.

    Returns
    -------
    win_fraction : ndarray, shape (n, n)
        ``[i, j]`` = points of ``i`` against ``j`` (wins plus half the ties counted by the tie
        policy) divided by their battles; 0 where they never met (see `battle_count`).
    battle_count : ndarray, shape (n, n)
        Battles counted by the tie policy, symmetric.
    """
    n = prob.n_models
    i, j = prob.pairs[:, 0], prob.pairs[:, 1]
    tot = prob.cells.sum(axis=1)
    count = np.zeros((n, n))
    count[i, j] = tot
    count[j, i] = tot
    frac = np.zeros((n, n))
    frac[i, j] = (prob.cells[:, 0] + 0.5 * prob.cells[:, 2]) / tot
    frac[j, i] = (prob.cells[:, 1] + 0.5 * prob.cells[:, 2]) / tot
    return frac, count
