"""Online (sequential) Elo: a diagnostic column, never the ranking.

Online Elo treats model strength as drifting over time, so its result depends on the order the
votes arrived in (case AC-01); the Bradley-Terry fit on counts does not.  We keep it because a
large gap between online Elo and the Bradley-Terry rating flags a model whose results changed over
time (a silent model update, a shift in prompts).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def online_elo(
    a_idx: ArrayLike,
    b_idx: ArrayLike,
    outcome_codes: ArrayLike,
    n_models: int,
    k: float = 4.0,
    *,
    base: float = 10.0,
    scale: float = 400.0,
    init: float = 1000.0,
    drop_bothbad: bool = False,
) -> NDArray[np.float64]:
    """Run online Elo over battles in the given order.

    For each battle, with expected score ``e = 1 / (1 + base ** ((r_b - r_a) / scale))`` and
    actual score ``s`` (1 win, 0 loss, 0.5 tie or both-bad tie)::

        r_a += k (s - e);  r_b -= k (s - e)

    Parameters
    ----------
    a_idx, b_idx : array_like of int, shape (N,)
        Models of each battle, in time order.
    outcome_codes : array_like of int, shape (N,)
        0 = ``a`` won, 1 = ``b`` won, 2 = tie, 3 = tie (both bad).
    n_models : int
        Number of models.
    k : float
        K-factor (Chatbot Arena used 4).
    base, scale, init : float
        Logistic base and scale, and every model's starting rating.
    drop_bothbad : bool
        Skip both-bad ties instead of scoring them as ties.

    Returns
    -------
    ndarray, shape (n_models,)
        Final ratings (``init`` for models without battles).
    """
    a = np.asarray(a_idx, dtype=np.int64).ravel()
    b = np.asarray(b_idx, dtype=np.int64).ravel()
    o = np.asarray(outcome_codes, dtype=np.int64).ravel()
    if not len(a) == len(b) == len(o):
        raise ValueError("a_idx, b_idx and outcome_codes must have the same length")
    if o.size and (o.min() < 0 or o.max() > 3):
        raise ValueError("outcome codes must be 0, 1, 2 or 3")
    score_of = (1.0, 0.0, 0.5, 0.5)
    ratings = [float(init)] * n_models
    inv_scale, base_f, k_f = 1.0 / scale, float(base), float(k)
    for i, j, code in zip(a.tolist(), b.tolist(), o.tolist(), strict=True):
        if drop_bothbad and code == 3:
            continue
        expected = 1.0 / (1.0 + base_f ** ((ratings[j] - ratings[i]) * inv_scale))
        delta = k_f * (score_of[code] - expected)
        ratings[i] += delta
        ratings[j] -= delta
    return np.asarray(ratings, dtype=np.float64)
