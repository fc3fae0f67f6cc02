"""Fast exact multinomial draws for the bootstrap: Poisson counts by table inversion, then a top-up.

Resampling N battles with replacement gives cell counts ``Multinomial(N, p)``.  NumPy draws that
with one binomial per cell (about 1 ms per round for 10,000 cells), which would dominate a
1000-round bootstrap.  This module uses an exact decomposition instead:

1. Draw independent ``X_c ~ Poisson(mu p_c)`` with ``mu = N - 1.5 sqrt(N)``; redraw (rejection) the
   rounds whose total ``T`` exceeds N (about 7 %).  Given its total, such a vector is
   ``Multinomial(T, p)`` - rejecting on the total does not change that.
2. Add ``Multinomial(N - T, p)``: ``N - T`` single categorical draws, counted per cell.  The sum of
   independent multinomials with the same ``p`` is ``Multinomial(N, p)``, whatever ``T`` was.

The gap 1.5 sqrt(N) balances the top-up draws against the redraws.

Both kinds of draw invert a cumulative table with a guide table (Chen and Asau 1974): a uniform
``U`` picks a bucket that points at the first table entry that can hold its answer, and a short
forward walk (bisection for the rare long one) finishes.  Poisson tables cover
``lambda -+ sqrt(82.8 lambda)`` (+13.8 on the right), which leaves out less than 2e-18 of each law
on each side (Chernoff bounds); that mass goes to the table's end points.  Apart from that and
float64 rounding of the tables, draws are exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import gammaln

from rating import kernels

IntArray = NDArray[np.int64]
BLOCK_CELLS = 2048  # Poisson tables are built in fixed blocks of cells (in parallel; same tables for any thread count)
MU_GAP = 1.5  # Poisson total N - 1.5 sqrt(N): 7 % of rounds redrawn, top-ups of about 1.6 sqrt(N)
Array = NDArray[np.float64]


@dataclass(frozen=True)
class GuidedTable:
    """Concatenated cumulative tables, one segment per distribution, with guide tables.

    Attributes
    ----------
    cdf : ndarray, shape (T,)
        Cumulative probabilities; each segment ends with ``inf`` so a walk always stops.
    seg : ndarray of int, shape (S + 1,)
        Segment offsets into `cdf`.
    guide : ndarray of int, shape (M,)
        Global index of the first entry of `cdf` that can answer each bucket.
    guide_off : ndarray of int, shape (S + 1,)
        Segment offsets into `guide`.
    buckets : ndarray, shape (S,)
        Buckets per segment (as float, for the bucket computation).
    """

    cdf: Array
    seg: IntArray
    guide: IntArray
    guide_off: IntArray
    buckets: Array

    @classmethod
    def build(cls, cdf: Array, seg: IntArray, buckets: IntArray) -> GuidedTable:
        """Attach guide tables (`buckets` per segment) to concatenated cumulative tables."""
        lengths = np.diff(seg)
        guide_off = np.concatenate([[0], np.cumsum(buckets)]).astype(np.int64)
        # Entry k answers the buckets j with j/m < cdf[k], i.e. up to global bucket
        # guide_off + ceil(cdf[k] * m).  The 1e-6 margin absorbs rounding: a guide entry may
        # point one entry early (the walk fixes that) but never past its answer.
        m = np.repeat(buckets.astype(float), lengths)
        local = np.minimum(cdf, 1.0) * m
        local += 1e-6
        reach = np.minimum(np.ceil(local, out=local), m).astype(np.int64)
        reach += np.repeat(guide_off[:-1], lengths)
        guide = np.cumsum(np.bincount(reach, minlength=int(guide_off[-1]) + 1)[:-1])
        # int32 halves the memory the lookups stream through (tables stay far below 2**31 entries)
        return cls(cdf, seg, guide.astype(np.int32), guide_off, buckets.astype(float))

    @classmethod
    def concat(cls, parts: Sequence[GuidedTable]) -> GuidedTable:
        """One table whose segments are those of `parts`, in order (global indices shifted)."""
        if len(parts) == 1:
            return parts[0]
        entry_off = np.cumsum([0] + [len(t.cdf) for t in parts])
        guide_base = np.cumsum([0] + [len(t.guide) for t in parts])
        seg = np.concatenate([t.seg[:-1] + o for t, o in zip(parts, entry_off[:-1], strict=True)] + [entry_off[-1:]])
        guide_off = np.concatenate(
            [t.guide_off[:-1] + o for t, o in zip(parts, guide_base[:-1], strict=True)] + [guide_base[-1:]]
        )
        guide = np.concatenate([t.guide + np.int32(o) for t, o in zip(parts, entry_off[:-1], strict=True)])
        return cls(
            np.concatenate([t.cdf for t in parts]),
            seg.astype(np.int64),
            guide.astype(np.int32),
            guide_off.astype(np.int64),
            np.concatenate([t.buckets for t in parts]),
        )

    def invert(self, u: Array, segment: IntArray | None = None) -> IntArray:
        """Inverse-CDF lookup: the global index of the first entry with ``cdf > u``.

        Parameters
        ----------
        u : ndarray
            Uniforms in [0, 1).  Without `segment`, ``u`` has shape (S, r) and row s uses
            segment s, or is 1-D and uses the only segment; otherwise `segment` (same shape as
            `u`) names the segment of each draw.
        segment : ndarray of int, optional
            Segment per draw.
        """
        if segment is None and u.ndim == 1:  # one distribution (the categorical top-up)
            j = (u * self.buckets[0]).astype(np.int64)
        elif segment is None:
            j = (u * self.buckets[:, None]).astype(np.int64)
            j += self.guide_off[:-1, None]
        else:
            j = (u * self.buckets[segment]).astype(np.int64)
            j += self.guide_off[segment]
        idx = self.guide.take(j).astype(np.int64)
        flat_idx, flat_u = idx.reshape(-1), u.reshape(-1)
        act = np.flatnonzero(self.cdf.take(flat_idx) <= flat_u)
        for _ in range(2):  # short forward walk settles almost every draw
            if not act.size:
                return idx
            flat_idx[act] += 1
            act = act[self.cdf.take(flat_idx[act]) <= flat_u[act]]
        if act.size:
            if segment is not None:
                seg_of = segment.reshape(-1)[act]
            else:
                seg_of = act // u.shape[1] if u.ndim == 2 else np.zeros_like(act)
            flat_idx[act] = self._bisect(flat_idx[act], self.seg[1:][seg_of] - 1, flat_u[act])
        return idx

    def _bisect(self, lo: IntArray, hi: IntArray, u: Array) -> IntArray:
        """First index in ``[lo, hi]`` with ``cdf > u``; ``cdf[hi]`` (a segment's end) is inf."""
        while np.any(lo < hi):
            mid = (lo + hi) // 2
            right = self.cdf.take(mid) <= u
            lo = np.where(right, mid + 1, lo)
            hi = np.where(right, hi, mid)
        return lo


def _poisson_tables(lam: Array, threads: int = 1) -> tuple[GuidedTable, IntArray]:
    """Guided CDF tables of Poisson(lam_c) for every cell, and each table's first value.

    The cells are split into fixed blocks of `BLOCK_CELLS`, each built on its own (on `threads`
    threads: NumPy releases the GIL in these passes) and joined; the split does not depend on
    `threads`, so neither do the tables.
    """
    blocks = [lam[i : i + BLOCK_CELLS] for i in range(0, len(lam), BLOCK_CELLS)] or [lam]
    if threads > 1 and len(blocks) > 1:
        with ThreadPoolExecutor(max_workers=min(threads, len(blocks))) as pool:
            built = list(pool.map(_poisson_block, blocks))
    else:
        built = [_poisson_block(b) for b in blocks]
    return GuidedTable.concat([t for t, _ in built]), np.concatenate([lo for _, lo in built])


def _poisson_block(lam: Array) -> tuple[GuidedTable, IntArray]:
    """`_poisson_tables` for one block of cells."""
    lo = np.maximum(0.0, np.floor(lam - np.sqrt(82.8 * lam))).astype(np.int64)
    hi = np.ceil(lam + 13.8 + np.sqrt(190.0 + 82.8 * lam)).astype(np.int64)
    hi = np.where(lam > 0, hi, lo)  # an empty cell always draws 0: a one-entry table
    lengths = hi - lo + 1
    seg = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    start = seg[:-1]
    k = np.arange(seg[-1]) - np.repeat(start - lo, lengths)
    log_lam = np.log(np.maximum(lam, 1e-300))
    # log pmf by the ratio recurrence pmf(k)/pmf(k-1) = lam/k, summed within each segment; the
    # first step of each segment is set so that one global cumulative sum restarts there.
    log_k = np.log(np.arange(1.0, float(max(int(hi.max()), 1)) + 1.0))  # log 1 .. log max(hi): a lookup
    step = np.repeat(log_lam, lengths)
    np.maximum(k, 1, out=k)
    step -= log_k.take(k - 1)
    first = lo * log_lam - lam - gammaln(lo + 1.0)
    step[start] = 0.0
    rise = np.add.reduceat(step, start)  # log pmf(hi) - log pmf(lo) per segment
    step[start] = first
    step[start[1:]] -= first[:-1] + rise[:-1]
    pmf = np.exp(np.cumsum(step))
    # Segmented cumulative sum of the pmf, restarted the same way.  The left tail below the
    # table (< 2e-18) is folded into the first entry.
    totals = np.add.reduceat(pmf, start)
    pmf[start[1:]] -= totals[:-1]
    cdf = np.cumsum(pmf)
    cdf[seg[1:] - 1] = np.inf
    return GuidedTable.build(cdf, seg, lengths), lo


@dataclass(frozen=True)
class MultinomialSampler:
    """Draws ``Multinomial(n, counts / n)`` for many rounds; build once per data set.

    Attributes
    ----------
    n : int
        Number of trials (battles).
    probs : ndarray, shape (C,)
        Cell probabilities.
    poisson : GuidedTable
        Inversion tables of the Poisson stage.
    value_offset : ndarray of int, shape (C,)
        Added to a global table index to give the drawn value (first value minus segment start).
    categorical : GuidedTable
        Inversion table of one categorical draw over the cells (the top-up stage).
    compiled : Kernels or None
        Compiled loops for the inversions (`rating.kernels`; same draws), or None for NumPy passes.
    """

    n: int
    probs: Array
    poisson: GuidedTable
    value_offset: IntArray
    categorical: GuidedTable
    compiled: kernels.Kernels | None = None

    @classmethod
    def build(cls, counts: Array, threads: int = 1, compiled: bool = True) -> MultinomialSampler:
        """Prepare a sampler for cells with the given non-negative counts, shape (C,).

        Empty cells are allowed (they always draw 0), so callers can keep their own cell layout.
        `threads` builds the Poisson tables in parallel (the result does not depend on it).
        `compiled` uses the compiled loops when numba is installed (the draws are the same).
        """
        counts = np.asarray(counts, dtype=float)
        if counts.ndim != 1 or np.any(counts < 0) or not counts.sum() > 0:
            raise ValueError("counts must be a 1-D array of non-negative numbers with a positive total")
        n = round(float(counts.sum()))
        probs = counts / counts.sum()
        mu = max(n - MU_GAP * np.sqrt(n), 0.0)
        poisson, lo = _poisson_tables(mu * probs, threads)
        cat_cdf = np.cumsum(probs)
        cat_cdf[-1] = np.inf
        categorical = GuidedTable.build(
            cat_cdf, np.array([0, len(probs)], dtype=np.int64), np.array([2 * len(probs)], dtype=np.int64)
        )
        return cls(n, probs, poisson, lo - poisson.seg[:-1], categorical, kernels.load() if compiled else None)

    def draw(self, rng: np.random.Generator, rounds: int) -> IntArray:
        """Draw `rounds` independent count vectors.

        Returns
        -------
        ndarray of int, shape (C, rounds)
            Column r holds round r's counts; every column sums to `n`.
        """
        c = len(self.probs)
        x = self._poisson(rng, rounds)
        deficit = self.n - x.sum(axis=0)
        over = np.flatnonzero(deficit < 0)
        while over.size:  # rejection: redraw the Poisson stage of rounds that overshot N
            x[:, over] = self._poisson(rng, over.size)
            deficit[over] = self.n - x[:, over].sum(axis=0)
            over = over[deficit[over] < 0]
        total = int(deficit.sum())
        if total and self.compiled is not None:
            cat = self.categorical
            self.compiled.add_categorical(rng.random(total), deficit, cat.cdf, cat.guide, cat.buckets[0], x)
        elif total:
            cell = self.categorical.invert(rng.random(total))
            rnd = np.repeat(np.arange(rounds), deficit)
            x += np.bincount(cell * rounds + rnd, minlength=c * rounds).reshape(c, rounds)
        return x

    def _poisson(self, rng: np.random.Generator, rounds: int) -> IntArray:
        u = rng.random((len(self.probs), rounds))
        if self.compiled is not None:
            x = np.empty(u.shape, dtype=np.int64)
            t = self.poisson
            self.compiled.poisson_rows(u, t.cdf, t.guide, t.guide_off, t.buckets, self.value_offset, x)
            return x
        x = self.poisson.invert(u)
        x += self.value_offset[:, None]
        return x
