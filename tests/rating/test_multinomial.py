"""The bootstrap's multinomial sampler draws exactly Multinomial(n, p)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chisquare, multinomial

from rating.multinomial import MultinomialSampler


def test_small_case_matches_exact_pmf() -> None:
    counts = np.array([1.0, 2.0, 4.0])
    sampler = MultinomialSampler.build(counts)
    draws = sampler.draw(np.random.default_rng(0), 60_000)
    assert np.all(draws.sum(axis=0) == 7)
    seen = {tuple(col): 0 for col in draws.T}
    for col in draws.T:
        seen[tuple(col)] += 1
    support = [(i, j, 7 - i - j) for i in range(8) for j in range(8 - i)]
    assert set(seen) <= set(support)
    expected = np.array([multinomial.pmf(o, 7, counts / 7) for o in support]) * draws.shape[1]
    observed = np.array([seen.get(o, 0) for o in support], dtype=float)
    small = expected < 5  # pool rare outcomes so the chi-square approximation holds
    exp_pooled = np.append(expected[~small], expected[small].sum())
    obs_pooled = np.append(observed[~small], observed[small].sum())
    assert chisquare(obs_pooled, exp_pooled).pvalue > 1e-3


def test_moments_on_large_skewed_cells() -> None:
    rng = np.random.default_rng(1)
    counts = np.concatenate([rng.integers(1, 5, 200), rng.integers(100, 20_000, 100)]).astype(float)
    n = counts.sum()
    p = counts / n
    draws = MultinomialSampler.build(counts).draw(np.random.default_rng(2), 2000).astype(float)
    assert np.all(draws.sum(axis=0) == n)
    z = (draws.mean(axis=1) - n * p) / np.sqrt(n * p * (1 - p) / draws.shape[1])
    assert np.max(np.abs(z)) < 5.0
    ratio = draws.var(axis=1, ddof=1) / (n * p * (1 - p))
    assert abs(np.mean(ratio) - 1.0) < 0.02


def test_cells_are_negatively_correlated_as_multinomial() -> None:
    counts = np.array([1000.0, 600.0, 40.0])
    p = counts / counts.sum()
    draws = MultinomialSampler.build(counts).draw(np.random.default_rng(8), 20_000).astype(float)
    corr = np.corrcoef(draws[0], draws[1])[0, 1]
    assert corr == pytest.approx(-np.sqrt(p[0] * p[1] / ((1 - p[0]) * (1 - p[1]))), abs=0.01)


def test_seeded_and_rejects_bad_input() -> None:
    s = MultinomialSampler.build(np.array([5.0, 7.0, 1.0]))
    a = s.draw(np.random.default_rng(9), 10)
    b = s.draw(np.random.default_rng(9), 10)
    assert np.array_equal(a, b)
    with pytest.raises(ValueError):
        MultinomialSampler.build(np.array([0.0, 0.0]))
    with pytest.raises(ValueError):
        MultinomialSampler.build(np.array([1.0, -1.0]))
    zero = MultinomialSampler.build(np.array([3.0, 0.0, 2.0])).draw(np.random.default_rng(1), 50)
    assert np.all(zero[1] == 0) and np.all(zero.sum(axis=0) == 5)


def test_guided_inversion_equals_binary_search() -> None:
    from rating.multinomial import GuidedTable

    rng = np.random.default_rng(3)
    segments = []
    for length in (1, 2, 5, 40, 700):
        w = rng.random(length) ** 8  # long flat stretches and sharp steps
        w[: length // 3] *= 1e-15  # a long left tail the walk cannot cover
        cdf = np.cumsum(w / w.sum())
        cdf[-1] = np.inf
        segments.append(cdf)
    seg = np.concatenate([[0], np.cumsum([len(c) for c in segments])])
    table = GuidedTable.build(np.concatenate(segments), seg, np.array([2 * len(c) for c in segments]))
    u = rng.random((len(segments), 20_000))
    u[:, :3] = [0.0, 1e-300, 1 - 2**-53]
    got = table.invert(u)
    for s, cdf in enumerate(segments):
        expected = seg[s] + np.searchsorted(cdf, u[s], side="right")
        assert np.array_equal(got[s], expected)
    flat = rng.random(5000)
    which = rng.integers(0, len(segments), 5000)
    got = table.invert(flat, which)
    expected = [seg[s] + np.searchsorted(segments[s], v, side="right") for s, v in zip(which, flat, strict=True)]
    assert np.array_equal(got, expected)


def test_tables_built_in_blocks_do_not_depend_on_threads() -> None:
    from rating.multinomial import BLOCK_CELLS, GuidedTable

    rng = np.random.default_rng(4)
    counts = rng.integers(0, 3000, 2 * BLOCK_CELLS + 77).astype(float)  # three blocks, some empty cells
    one, many = MultinomialSampler.build(counts, threads=1), MultinomialSampler.build(counts, threads=3)
    for field in ("cdf", "seg", "guide", "guide_off", "buckets"):
        assert np.array_equal(getattr(one.poisson, field), getattr(many.poisson, field))
    assert np.array_equal(one.value_offset, many.value_offset)
    draws = many.draw(np.random.default_rng(6), 300)
    assert np.array_equal(draws, one.draw(np.random.default_rng(6), 300))
    assert np.all(draws.sum(axis=0) == counts.sum()) and np.all(draws[counts == 0] == 0)
    # Joined blocks invert exactly like one table built over all the segments at once.
    whole = GuidedTable.build(one.poisson.cdf, one.poisson.seg, np.diff(one.poisson.seg))
    assert np.array_equal(whole.guide, one.poisson.guide) and np.array_equal(whole.guide_off, one.poisson.guide_off)
    u = rng.random((len(counts), 50))
    assert np.array_equal(whole.invert(u), one.poisson.invert(u))


def test_compiled_loops_draw_exactly_what_the_numpy_passes_draw() -> None:
    from rating import kernels

    assert kernels.load() is not None  # numba is a dependency: CI must exercise the compiled path
    rng = np.random.default_rng(12)
    cases = [
        np.array([1.0, 2.0, 4.0]),
        np.array([3.0, 0.0, 2.0, 0.0]),  # empty cells
        np.concatenate([rng.integers(0, 4, 3000), rng.integers(1000, 90_000, 40)]).astype(float),  # long tables
    ]
    for counts in cases:
        fast = MultinomialSampler.build(counts, compiled=True)
        plain = MultinomialSampler.build(counts, compiled=False)
        assert fast.compiled is not None and plain.compiled is None
        for seed, rounds in ((0, 1), (1, 37), (2, 400)):
            a = fast.draw(np.random.default_rng(seed), rounds)
            b = plain.draw(np.random.default_rng(seed), rounds)
            assert a.dtype == b.dtype == np.int64 and np.array_equal(a, b)
            assert np.all(a.sum(axis=0) == counts.sum())
