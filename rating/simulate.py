"""Synthetic battles from known strengths: for tests, benchmarks and power analysis.

Ties are drawn so that the expected score of a battle stays the Bradley-Terry probability ``p``:
a battle is a tie with probability ``tie_fraction * 2 * min(p, 1 - p)``, a win with ``p`` minus half
of that.  Under that design the ties-as-half-a-win estimator is unbiased for the true strengths,
which is what the coverage tests need.  ``model="davidson"`` draws from the Davidson tie model
instead.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from rating.data import PairCounts
from rating.likelihood import davidson_probs

IntArray = NDArray[np.int64]
Array = NDArray[np.float64]


def to_theta(ratings: ArrayLike, *, scale: float = 400.0, base: float = 10.0) -> Array:
    """Ratings -> natural-scale strengths (centred)."""
    r = np.asarray(ratings, dtype=float)
    return (r - r.mean()) * np.log(base) / scale


def sample_pairs(n_models: int, n_battles: int, rng: np.random.Generator, weights: Array | None = None) -> IntArray:
    """Draw ``n_battles`` ordered pairs (shape (N, 2)), uniformly over unordered pairs by default.

    `weights` (shape (n, n)) gives relative pair frequencies; the side (a or b) is a fair coin.
    """
    iu, ju = np.triu_indices(n_models, k=1)
    w = np.ones(len(iu)) if weights is None else np.asarray(weights, dtype=float)[iu, ju]
    pick = rng.choice(len(iu), size=n_battles, p=w / w.sum())
    pairs = np.stack([iu[pick], ju[pick]], axis=1)
    flip = rng.random(n_battles) < 0.5
    pairs[flip] = pairs[flip][:, ::-1]
    return pairs


def simulate_battles(
    ratings: ArrayLike,
    n_battles: int,
    rng: np.random.Generator,
    *,
    scale: float = 400.0,
    base: float = 10.0,
    tie_fraction: float = 0.0,
    bothbad_share: float = 0.0,
    model: Literal["bt", "davidson"] = "bt",
    nu: float = 0.5,
    pair_weights: Array | None = None,
    logit_offset: Array | None = None,
) -> tuple[IntArray, IntArray, IntArray]:
    """Draw battles ``(a_idx, b_idx, outcome_codes)`` from true ratings.

    Parameters
    ----------
    ratings : array_like, shape (n,)
        True ratings on the rating scale.
    n_battles : int
        Number of battles.
    rng : numpy.random.Generator
        Source of randomness.
    scale, base : float
        Rating scale.
    tie_fraction : float
        For ``model="bt"``: ties happen with probability ``tie_fraction * 2 min(p, 1 - p)``.
    bothbad_share : float
        Share of ties labelled "both bad" (code 3).
    model : {"bt", "davidson"}
        Outcome model.
    nu : float
        Davidson tie parameter.
    pair_weights : ndarray, shape (n, n), optional
        Relative pair frequencies.
    logit_offset : ndarray, shape (N,), optional
        Added to each battle's logit (style effects); only for ``model="bt"``.

    Returns
    -------
    a_idx, b_idx, outcome_codes : ndarray of int, shape (N,)
    """
    theta = to_theta(ratings, scale=scale, base=base)
    pairs = sample_pairs(len(theta), n_battles, rng, pair_weights)
    a, b = pairs[:, 0], pairs[:, 1]
    d = theta[a] - theta[b]
    u = rng.random(n_battles)
    if model == "davidson":
        pf, ps, _ = davidson_probs(d, np.log(nu))
        codes = np.where(u < pf, 0, np.where(u < pf + ps, 1, 2))
    else:
        if logit_offset is not None:
            d = d + logit_offset
        p = 1.0 / (1.0 + np.exp(-d))
        tie = tie_fraction * 2.0 * np.minimum(p, 1.0 - p)
        win = p - 0.5 * tie
        codes = np.where(u < win, 0, np.where(u < win + tie, 2, 1))
    bad = (codes == 2) & (rng.random(n_battles) < bothbad_share)
    codes = np.where(bad, 3, codes)
    return a.astype(np.int64), b.astype(np.int64), codes.astype(np.int64)


def simulate_counts(ratings: ArrayLike, n_battles: int, rng: np.random.Generator, **kwargs: object) -> PairCounts:
    """`simulate_battles` aggregated into `PairCounts`."""
    a, b, codes = simulate_battles(ratings, n_battles, rng, **kwargs)  # type: ignore[arg-type]
    return PairCounts.from_battles(a, b, codes, len(np.asarray(ratings)))


def simulate_style_battles(
    ratings: ArrayLike,
    beta: ArrayLike,
    n_battles: int,
    rng: np.random.Generator,
    *,
    scale: float = 400.0,
    base: float = 10.0,
    tie_fraction: float = 0.0,
    pair_weights: Array | None = None,
) -> tuple[IntArray, IntArray, IntArray, Array]:
    """Battles whose outcome also depends on standard-normal style differences ``z`` via ``z . beta``.

    `pair_weights` (shape (n, n)) sets relative pair frequencies, as in `simulate_battles`.

    Returns
    -------
    a_idx, b_idx, outcome_codes : ndarray of int, shape (N,)
    features : ndarray, shape (N, F)
    """
    beta = np.asarray(beta, dtype=float)
    z = rng.standard_normal((n_battles, len(beta)))
    offset = np.einsum("ij,j->i", z, beta)
    a, b, codes = simulate_battles(
        ratings,
        n_battles,
        rng,
        scale=scale,
        base=base,
        tie_fraction=tie_fraction,
        pair_weights=pair_weights,
        logit_offset=offset,
    )
    return a, b, codes, z
