"""Comparison-graph structure: components, MLE existence (Zermelo/Ford) and bootstrap certificates."""

from __future__ import annotations

import numpy as np

from rating.graph import certificate_edges, components, mle_exists


def test_components_ordered_by_size_and_unrated_marked() -> None:
    pairs = np.array([[3, 4], [0, 1], [1, 2], [5, 6]])
    comps = components(8, pairs, np.array([1.0, 2.0, 1.0, 0.0]))
    # pair (5, 6) has no battles: both are unrated; model 7 never played.
    assert comps.labels.tolist() == [0, 0, 0, 1, 1, -1, -1, -1]
    assert comps.n_components == 2
    assert comps.members(1).tolist() == [3, 4]


def test_mle_exists_needs_points_both_ways() -> None:
    pairs = np.array([[0, 1], [1, 2]])
    comps = components(3, pairs, np.array([5.0, 10.0]))
    one_way = np.array([[5.0, 0.0, 0.0], [5.0, 5.0, 0.0]])
    assert mle_exists(3, pairs, one_way, comps).tolist() == [False]
    with_tie = np.array([[5.0, 0.0, 1.0], [5.0, 5.0, 0.0]])
    assert mle_exists(3, pairs, with_tie, comps).tolist() == [True]


def test_cycle_without_two_way_pairs_exists_but_has_no_certificate() -> None:
    pairs = np.array([[0, 1], [1, 2], [0, 2]])
    cells = np.array([[2.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 2.0, 0.0]])  # 0>1, 1>2, 2>0
    comps = components(3, pairs, cells.sum(1))
    assert mle_exists(3, pairs, cells, comps).tolist() == [True]
    assert certificate_edges(3, pairs, cells, comps) is None


def test_certificate_is_a_spanning_tree_of_strongest_two_way_pairs() -> None:
    pairs = np.array([[0, 1], [1, 2], [0, 2], [3, 4]])
    cells = np.array([[50.0, 40.0, 0.0], [30.0, 30.0, 5.0], [1.0, 1.0, 0.0], [3.0, 4.0, 0.0]])
    comps = components(5, pairs, cells.sum(1))
    edges = certificate_edges(5, pairs, cells, comps)
    assert edges is not None
    assert sorted(edges.tolist()) == [0, 1, 3]
