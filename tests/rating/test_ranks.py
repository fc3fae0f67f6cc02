"""Ranks only inside components: point rank, Rank (UB), bootstrap intervals; pair matrices."""

from __future__ import annotations

import numpy as np

from rating.bt import make_problem
from rating.data import PairCounts
from rating.ranks import bootstrap_rank_interval, pair_matrices, point_ranks, rank_ub


def test_rank_ub_counts_models_clearly_above() -> None:
    labels = np.array([0, 0, 0, 0])
    low = np.array([10.0, 8.0, 4.0, 1.0])
    high = np.array([12.0, 11.0, 9.0, 3.0])
    # model 2 overlaps model 1, lies below model 0; model 3 lies below all.
    assert rank_ub(low, high, labels).tolist() == [1, 1, 2, 4]


def test_ranks_never_cross_components() -> None:
    labels = np.array([0, 0, 1, 1, -1])
    rating = np.array([1073.6, 926.4, 1000.0, 1000.0, 1000.0])
    assert point_ranks(rating, labels).tolist() == [1, 2, 1, 1, 0]
    low, high = rating - 1, rating + 1
    assert rank_ub(low, high, labels).tolist() == [1, 2, 1, 1, 0]


def test_bootstrap_rank_interval() -> None:
    labels = np.array([0, 0, 0])
    rounds = np.array([[3.0, 3.0, 1.0, 3.0], [2.0, 2.0, 2.0, 1.0], [1.0, 0.0, 3.0, 2.0]])
    low, high = bootstrap_rank_interval(rounds, labels, level=0.5)
    # ranks per round: model0 [1,1,3,1], model1 [2,2,2,3], model2 [3,3,1,2]
    assert low.tolist() == [1, 2, 1]
    assert high.tolist() == [1, 2, 3]
    tied = np.array([[1.0, 1.0], [1.0, 1.0]])
    assert bootstrap_rank_interval(tied, np.array([0, 0]))[0].tolist() == [1, 1]


def test_pair_matrices_follow_tie_policy() -> None:
    pc = PairCounts(3, np.array([[0, 1]]), np.array([[3.0, 1.0, 2.0, 2.0]]))
    frac, count = pair_matrices(make_problem(pc, "half"))
    assert count[0, 1] == count[1, 0] == 8
    assert frac[0, 1] == 5 / 8 and frac[1, 0] == 3 / 8
    assert frac[0, 2] == 0 and count[0, 2] == 0
    frac, count = pair_matrices(make_problem(pc, "drop-bothbad"))
    assert count[0, 1] == 6 and frac[0, 1] == 4 / 6
