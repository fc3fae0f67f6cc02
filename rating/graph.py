"""Comparison-graph structure: connected components and whether a finite Bradley-Terry MLE exists.

Bradley-Terry identifies rating differences only between models joined by a chain of battles
(the connected components of the comparison graph).  Inside a component the maximum-likelihood
estimate is finite exactly when the "scored against" graph is strongly connected (Zermelo 1929,
Ford 1957): an edge ``i -> j`` exists when ``i`` took at least part of a point from ``j`` (a win,
or a tie, which counts half each way).  A model that never lost (or never won) breaks this.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree


@dataclass(frozen=True)
class Components:
    """Connected components of the comparison graph.

    Attributes
    ----------
    labels : ndarray of int, shape (n_models,)
        Component id per model: 0 is the largest component (ties broken by the smallest model
        index), then 1, 2, ...; ``-1`` for a model with no counted battle.
    n_components : int
        Number of components among models with at least one counted battle.
    """

    labels: NDArray[np.int64]
    n_components: int

    def members(self, c: int) -> NDArray[np.int64]:
        """Model indices in component `c`."""
        return np.flatnonzero(self.labels == c)


def components(n_models: int, pairs: NDArray[np.int64], totals: NDArray[np.float64]) -> Components:
    """Label the connected components of the comparison graph.

    Parameters
    ----------
    n_models : int
        Number of models.
    pairs : ndarray of int, shape (K, 2)
        Model pairs.
    totals : ndarray of float, shape (K,)
        Battles per pair that enter the fit; pairs with zero battles are not edges.

    Returns
    -------
    Components
    """
    live = np.asarray(totals) > 0
    p = np.asarray(pairs)[live]
    rated = np.zeros(n_models, dtype=bool)
    rated[p.ravel()] = True
    graph = sp.coo_matrix((np.ones(len(p)), (p[:, 0], p[:, 1])), shape=(n_models, n_models))
    _, raw = connected_components(graph, directed=False)
    labels = np.full(n_models, -1, dtype=np.int64)
    raw_rated = raw[rated]
    if raw_rated.size == 0:
        return Components(labels, 0)
    ids, first, size = np.unique(raw_rated, return_index=True, return_counts=True)
    first_model = np.flatnonzero(rated)[first]
    order = np.lexsort((first_model, -size))
    new_id = np.empty(len(ids), dtype=np.int64)
    new_id[order] = np.arange(len(ids))
    labels[rated] = new_id[np.searchsorted(ids, raw_rated)]
    return Components(labels, len(ids))


def scored_edges(cells: NDArray[np.float64]) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Which directions of each pair carry a (partial) point.

    Parameters
    ----------
    cells : ndarray, shape (K, 3, ...)
        ``[wins first, wins second, ties]`` counts (extra trailing axes allowed).

    Returns
    -------
    forward, backward : ndarray of bool, shape (K, ...)
        ``first -> second`` and ``second -> first`` edges.
    """
    return (cells[:, 0] + cells[:, 2]) > 0, (cells[:, 1] + cells[:, 2]) > 0


def mle_exists(
    n_models: int, pairs: NDArray[np.int64], cells: NDArray[np.float64], comps: Components
) -> NDArray[np.bool_]:
    """Whether each component has a finite maximum-likelihood estimate.

    Parameters
    ----------
    n_models : int
        Number of models.
    pairs : ndarray of int, shape (K, 2)
        Model pairs.
    cells : ndarray, shape (K, 3)
        ``[wins first, wins second, ties]`` counts.
    comps : Components
        Components of the same data (or of the full data when `cells` is a bootstrap
        replicate: a component the replicate splits then has no MLE).

    Returns
    -------
    ndarray of bool, shape (comps.n_components,)
    """
    fwd, bwd = scored_edges(cells)
    p = np.asarray(pairs)
    src = np.concatenate([p[fwd, 0], p[bwd, 1]])
    dst = np.concatenate([p[fwd, 1], p[bwd, 0]])
    graph = sp.coo_matrix((np.ones(len(src)), (src, dst)), shape=(n_models, n_models))
    _, strong = connected_components(graph, directed=True, connection="strong")
    ok = np.ones(comps.n_components, dtype=bool)
    for c in range(comps.n_components):
        ok[c] = np.unique(strong[comps.labels == c]).size == 1
    return ok


def certificate_edges(
    n_models: int, pairs: NDArray[np.int64], cells: NDArray[np.float64], comps: Components
) -> NDArray[np.int64] | None:
    """Pairs whose two directions, if all present, prove that the MLE exists in every component.

    A spanning tree of pairs that each carry points both ways makes every component strongly
    connected.  The tree maximises the smaller direction count, so a bootstrap replicate almost
    never loses one of its edges; a replicate that keeps them all needs no graph search.

    Returns
    -------
    ndarray of int or None
        Row indices into `pairs`, or None when the two-way pairs do not span every component.
    """
    fwd, bwd = scored_edges(cells)
    both = fwd & bwd
    p = np.asarray(pairs)[both]
    strength = np.minimum(cells[both, 0] + cells[both, 2], cells[both, 1] + cells[both, 2])
    # Maximum spanning tree = minimum spanning tree on decreasing positive weights.
    weight = 1.0 / (1.0 + strength)
    graph = sp.coo_matrix((weight, (p[:, 0], p[:, 1])), shape=(n_models, n_models)).tocsr()
    tree = minimum_spanning_tree(graph).tocoo()
    rated = int(np.sum(comps.labels >= 0))
    if tree.nnz != rated - comps.n_components:
        return None
    # Row of each two-way pair by its ends, in both orientations: the tree may give an edge either way round.
    row_of = np.full((n_models, n_models), -1, dtype=np.int64)
    rows = np.flatnonzero(both)
    row_of[p[:, 1], p[:, 0]] = rows
    row_of[p[:, 0], p[:, 1]] = rows
    return row_of[tree.row, tree.col]
