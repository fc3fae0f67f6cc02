"""PairCounts: validation, aggregation from battles, canonical form and tie policies."""

from __future__ import annotations

import numpy as np
import pytest

from rating.data import PairCounts, policy_cells


def test_from_battles_aggregates_and_folds_sides() -> None:
    # (1, 0) with "a won" is a win of model 1, i.e. the canonical second model of pair (0, 1).
    pc = PairCounts.from_battles([0, 1, 0, 2, 0], [1, 0, 1, 1, 1], [0, 0, 2, 3, 3], 3)
    assert pc.pairs.tolist() == [[0, 1], [1, 2]]
    assert pc.counts.tolist() == [[1, 1, 1, 1], [0, 0, 0, 1]]
    assert pc.n_battles == 5


def test_swapping_sides_and_flipping_labels_gives_same_counts() -> None:
    rng = np.random.default_rng(3)
    a = rng.integers(0, 5, 200)
    b = (a + rng.integers(1, 5, 200)) % 5
    o = rng.integers(0, 4, 200)
    flipped = np.where(o < 2, 1 - o, o)
    one = PairCounts.from_battles(a, b, o, 5)
    two = PairCounts.from_battles(b, a, flipped, 5)
    assert np.array_equal(one.pairs, two.pairs)
    assert np.array_equal(one.counts, two.counts)


def test_canonical_merges_orientations() -> None:
    pc = PairCounts(3, np.array([[1, 0], [0, 1], [2, 1]]), np.array([[2, 1, 0, 0], [1, 0, 3, 1], [0, 0, 0, 0]]))
    c = pc.canonical()
    assert c.pairs.tolist() == [[0, 1]]
    assert c.counts.tolist() == [[2, 2, 3, 1]]


def test_arrays_are_read_only() -> None:
    pc = PairCounts(2, np.array([[0, 1]]), np.array([[1, 0, 0, 0]]))
    with pytest.raises(ValueError):
        pc.counts[0, 0] = 5


@pytest.mark.parametrize(
    ("pairs", "counts", "message"),
    [
        ([[0, 0]], [[1, 0, 0, 0]], "different"),
        ([[0, 5]], [[1, 0, 0, 0]], "indices"),
        ([[0, 1]], [[-1, 0, 0, 0]], "non-negative"),
        ([[0, 1]], [[np.nan, 0, 0, 0]], "finite"),
        ([[0, 1], [0, 2]], [[1, 0, 0, 0]], "rows"),
    ],
)
def test_invalid_counts_rejected(pairs: list, counts: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PairCounts(3, np.array(pairs), np.array(counts, dtype=float))


def test_unknown_outcome_code_rejected() -> None:
    with pytest.raises(ValueError, match="outcome codes"):
        PairCounts.from_battles([0], [1], [4], 2)


def test_policy_cells_and_votes() -> None:
    pc = PairCounts(3, np.array([[0, 1], [1, 2]]), np.array([[3, 1, 2, 2], [0, 0, 0, 4]], dtype=float))
    assert policy_cells(pc, "half").tolist() == [[3, 1, 4], [0, 0, 4]]
    assert policy_cells(pc, "drop-bothbad").tolist() == [[3, 1, 2], [0, 0, 0]]
    assert pc.votes("half").tolist() == [8, 12, 4]
    assert pc.votes("drop-bothbad").tolist() == [6, 6, 0]
    with pytest.raises(ValueError, match="ties must be"):
        policy_cells(pc, "bothbad-as-loss")  # type: ignore[arg-type]
