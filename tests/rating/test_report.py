"""rate(): the complete report - order-free, finite, components, anchors, flags."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from rating import PairCounts, RatingReport, rate


def _all_finite(r: RatingReport) -> bool:
    return all(np.all(np.isfinite(v)) for v in vars(r).values() if isinstance(v, np.ndarray | float))


def test_ac01_order_does_not_matter(counts_from) -> None:
    seq = [("A", "B", "a")] * 10 + [("A", "B", "b")] * 10
    rng = np.random.default_rng(0)
    shuffled = [seq[i] for i in rng.permutation(len(seq))]
    for rows in (seq, seq[::-1], shuffled):
        _, pc = counts_from(rows)
        r = rate(pc, bootstrap_rounds=50)
        assert np.round(r.rating, 2).tolist() == [1000.00, 1000.00]


def test_ac04_disconnected_graph_reported(counts_from) -> None:
    rows = [("A", "B", "a")] * 7 + [("A", "B", "b")] * 3 + [("C", "D", "a")] * 5 + [("C", "D", "b")] * 5
    _, pc = counts_from(rows)
    r = rate(pc, bootstrap_rounds=200)
    assert r.n_components == 2
    assert r.component.tolist() == [0, 0, 1, 1]
    assert r.rating[0] - r.rating[1] == pytest.approx(147.19, abs=0.005)
    # ranks are per component: both components have a rank 1
    assert r.rank.tolist() == [1, 2, 1, 1]
    assert set(r.rank_ub[:2]) <= {1, 2} and set(r.rank_ub[2:]) == {1}


def test_ac05_perfect_record_flagged_and_finite(counts_from) -> None:
    rows = [("A", "B", "a")] * 5 + [("B", "C", "a")] * 5 + [("B", "C", "b")] * 5
    _, pc = counts_from(rows)
    r = rate(pc, bootstrap_rounds=300)
    assert _all_finite(r)
    assert r.rank[0] == 1 and r.rating[2] >= r.rating[1]
    assert r.perfect_record.tolist() == [True, False, False]
    assert r.provisional[0] and r.regularized.all()
    assert np.round(r.rating, 2).tolist() == [1361.05, 815.93, 823.01]


def test_ac06_anchor_fixed_interval(counts_from) -> None:
    _, pc = counts_from([("A", "B", "a")] * 3 + [("A", "B", "b")])
    r = rate(pc, anchor=(1, 1114.0), bootstrap_rounds=500)
    assert r.anchor_applied and r.fixed.tolist() == [False, True]
    assert round(r.rating[0], 2) == 1304.85 and r.rating[1] == 1114.0
    assert r.ci_low[1] == r.ci_high[1] == 1114.0
    assert r.se[1] == 0.0
    free = rate(pc, bootstrap_rounds=0)
    assert r.rating[0] - r.rating[1] == pytest.approx(free.rating[0] - free.rating[1], abs=1e-9)


def test_ac06_absent_anchor_falls_back_to_centre() -> None:
    pc = PairCounts(3, np.array([[0, 1]]), np.array([[3.0, 1.0, 0.0, 0.0]]))
    r = rate(pc, anchor=(2, 1114.0), bootstrap_rounds=20)
    assert not r.anchor_applied and not r.fixed.any()
    assert np.round(r.rating, 2).tolist() == [1095.42, 904.58, 1000.0]
    assert r.component[2] == -1 and r.rank_ub[2] == 0 and r.provisional[2]


def test_ac07_rank_follows_rating_not_win_rate(counts_from) -> None:
    rows = (
        [("S", "W", "a")] * 8
        + [("S", "W", "b")] * 2
        + [("A", "S", "a")] * 7
        + [("A", "S", "b")] * 3
        + [("B", "W", "a")] * 8
        + [("B", "W", "b")] * 2
    )
    names, pc = counts_from(rows)
    r = rate(pc, bootstrap_rounds=0)
    i = {m: k for k, m in enumerate(names)}
    raw_win = r.win_fraction.sum(axis=1) / (r.battle_count > 0).sum(axis=1)
    assert raw_win[i["A"]] < raw_win[i["B"]]
    assert r.rank[i["A"]] < r.rank[i["B"]]
    assert r.rating[i["A"]] - r.rating[i["B"]] == pytest.approx(147.19, abs=0.005)


def test_report_fields_and_defaults(arena_counts) -> None:
    _, pc = arena_counts
    r = rate(pc, bootstrap_rounds=100, seed=1)
    assert _all_finite(r)
    assert r.converged and r.grad_norm <= 1e-10
    assert r.ci_method == "bootstrap" and r.bootstrap_used == 100 and r.bootstrap_dropped == 0
    assert np.all(r.ci_low <= r.rating) and np.all(r.rating <= r.ci_high)
    assert np.all(r.sandwich_low < r.rating) and np.all(r.rating < r.sandwich_high)
    assert np.all(r.rank_low <= r.rank) and np.all(r.rank <= r.rank_high)
    assert np.all(r.rank_ub <= r.rank)
    assert r.rating.mean() == pytest.approx(1000.0)
    assert r.votes.sum() == 2 * 1_670_250
    assert r.win_fraction.shape == r.battle_count.shape == (129, 129)
    assert r.bootstrap_ratings.shape == (100, 129)
    assert dataclasses.is_dataclass(r)


def test_no_bootstrap_uses_sandwich_intervals(counts_from) -> None:
    _, pc = counts_from([("A", "B", "a")] * 30 + [("A", "B", "b")] * 20)
    r = rate(pc, bootstrap_rounds=0)
    assert r.ci_method == "sandwich"
    assert np.array_equal(r.ci_low, r.sandwich_low) and np.array_equal(r.ci_high, r.sandwich_high)


def test_options_validated(counts_from) -> None:
    _, pc = counts_from([("A", "B", "a")])
    with pytest.raises(ValueError, match="ties"):
        rate(pc, ties="loss")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="anchor"):
        rate(pc, anchor=(5, 1000.0))
    with pytest.raises(ValueError, match="level"):
        rate(pc, level=1.5)


def test_empty_counts() -> None:
    r = rate(PairCounts(2, np.zeros((0, 2), dtype=int), np.zeros((0, 4))), bootstrap_rounds=10)
    assert r.rating.tolist() == [1000.0, 1000.0] and r.n_components == 0
    assert r.provisional.all() and r.rank_ub.tolist() == [0, 0]


def test_davidson_report(counts_from) -> None:
    rows = [("A", "B", "a")] * 30 + [("A", "B", "b")] * 10 + [("A", "B", "tie")] * 20 + [("B", "C", "bb")] * 5
    rows += [("B", "C", "a")] * 15 + [("B", "C", "b")] * 15
    _, pc = counts_from(rows)
    r = rate(pc, ties="davidson", bootstrap_rounds=200)
    assert _all_finite(r) and r.converged
    assert 0 < r.tie_parameter < 10
    assert r.ties == "davidson" and r.bootstrap_used == 200
    assert r.rating[0] > r.rating[1]
