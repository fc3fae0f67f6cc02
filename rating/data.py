"""Battles -> integer-indexed pair counts: the sufficient statistics every fit in `rating` works on.

A battle is ``(a, b, outcome)`` with outcome code 0 = first model won, 1 = second model won,
2 = tie, 3 = tie with both answers bad.  The Bradley-Terry likelihood depends on the battles only
through the number of battles per (pair, outcome) cell, so everything downstream works on
`PairCounts` and costs O(pairs), not O(battles).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

TiePolicy = Literal["half", "drop-bothbad", "davidson"]
TIE_POLICIES: tuple[str, ...] = ("half", "drop-bothbad", "davidson")

WIN_FIRST, WIN_SECOND, TIE, TIE_BOTHBAD = 0, 1, 2, 3


def _readonly(a: NDArray[np.generic]) -> NDArray[np.generic]:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class PairCounts:
    """Battle counts per model pair and outcome.

    Parameters
    ----------
    n_models : int
        Number of models; models are the integers ``0 .. n_models - 1``.  A model may have no
        battles at all (it then gets a provisional rating and no rank).
    pairs : ndarray of int, shape (K, 2)
        The two models of each row, in any order (``i != j``).  The same unordered pair may appear
        more than once; `canonical` merges such rows.
    counts : ndarray of float, shape (K, 4)
        ``[wins of pairs[:, 0], wins of pairs[:, 1], ties, both-bad ties]`` per row.  Counts
        may be fractional (weighted battles) but never negative.

    Raises
    ------
    ValueError
        On wrong shapes, out-of-range or equal model indices, and negative or non-finite counts.
    """

    n_models: int
    pairs: NDArray[np.int64]
    counts: NDArray[np.float64]

    def __post_init__(self) -> None:
        pairs = np.asarray(self.pairs, dtype=np.int64).reshape(-1, 2)
        counts = np.asarray(self.counts, dtype=np.float64).reshape(-1, 4)
        if int(self.n_models) < 0:
            raise ValueError("n_models must be non-negative")
        if len(pairs) != len(counts):
            raise ValueError(f"pairs has {len(pairs)} rows but counts has {len(counts)}")
        if pairs.size and (pairs.min() < 0 or pairs.max() >= self.n_models):
            raise ValueError(f"model indices must lie in [0, {self.n_models})")
        if np.any(pairs[:, 0] == pairs[:, 1]):
            raise ValueError("a pair must hold two different models")
        if not np.all(np.isfinite(counts)) or np.any(counts < 0):
            raise ValueError("counts must be finite and non-negative")
        object.__setattr__(self, "n_models", int(self.n_models))
        object.__setattr__(self, "pairs", _readonly(pairs))
        object.__setattr__(self, "counts", _readonly(counts))

    @classmethod
    def from_battles(cls, a_idx: ArrayLike, b_idx: ArrayLike, outcome_codes: ArrayLike, n_models: int) -> PairCounts:
        """Aggregate single battles into canonical pair counts.

        Parameters
        ----------
        a_idx, b_idx : array_like of int, shape (N,)
            The model shown first and second in each battle.
        outcome_codes : array_like of int, shape (N,)
            0 = ``a`` won, 1 = ``b`` won, 2 = tie, 3 = tie (both bad).
        n_models : int
            Number of models.

        Returns
        -------
        PairCounts
            Canonical counts (``i < j``, one row per pair that met at least once).

        Raises
        ------
        ValueError
            If the arrays differ in length or hold an unknown outcome code.
        """
        a = np.asarray(a_idx, dtype=np.int64).ravel()
        b = np.asarray(b_idx, dtype=np.int64).ravel()
        o = np.asarray(outcome_codes, dtype=np.int64).ravel()
        if not len(a) == len(b) == len(o):
            raise ValueError("a_idx, b_idx and outcome_codes must have the same length")
        if o.size and (o.min() < 0 or o.max() > 3):
            raise ValueError("outcome codes must be 0 (a wins), 1 (b wins), 2 (tie) or 3 (both bad)")
        if a.size and (min(a.min(), b.min()) < 0 or max(a.max(), b.max()) >= n_models):
            raise ValueError(f"model indices must lie in [0, {n_models})")
        if np.any(a == b):
            raise ValueError("a battle must hold two different models")
        swap = a > b
        lo, hi = np.where(swap, b, a), np.where(swap, a, b)
        # A swapped battle's "first model won" is the canonical second model's win.
        code = np.where(swap & (o < 2), 1 - o, o)
        key = (lo * n_models + hi) * 4 + code
        bins = 4 * n_models * n_models
        if bins <= max(4 * len(key), 1 << 22):
            # Dense counting: one pass, no sort.
            dense = np.bincount(key, minlength=bins).reshape(-1, 4).astype(float)
            pk = np.flatnonzero(dense.any(axis=1))
            counts = dense[pk]
        else:
            uniq, cnt = np.unique(key, return_counts=True)
            pair_key, cell = np.divmod(uniq, 4)
            pk, row = np.unique(pair_key, return_inverse=True)
            counts = np.zeros((len(pk), 4))
            np.add.at(counts, (row, cell), cnt)
        pairs = np.stack(np.divmod(pk, n_models), axis=1)
        return cls(n_models, pairs, counts)

    def canonical(self) -> PairCounts:
        """Return the same counts with ``i < j`` in every row and one row per unordered pair.

        Rows whose four counts are all zero are dropped.
        """
        pairs = np.asarray(self.pairs)
        counts = np.array(self.counts)
        swap = pairs[:, 0] > pairs[:, 1]
        counts[swap] = counts[swap][:, [1, 0, 2, 3]]
        lo, hi = pairs.min(axis=1), pairs.max(axis=1)
        pk, row = np.unique(lo * self.n_models + hi, return_inverse=True)
        merged = np.zeros((len(pk), 4))
        np.add.at(merged, row, counts)
        keep = merged.sum(axis=1) > 0
        out_pairs = np.stack(np.divmod(pk[keep], max(self.n_models, 1)), axis=1)
        return PairCounts(self.n_models, out_pairs, merged[keep])

    @property
    def n_battles(self) -> float:
        """Total number of battles (all four outcomes)."""
        return float(self.counts.sum())

    def votes(self, ties: TiePolicy = "half") -> NDArray[np.float64]:
        """Battles each model took part in that the given tie policy counts (shape (n_models,))."""
        total = policy_cells(self, ties).sum(axis=1)
        out = np.zeros(self.n_models)
        np.add.at(out, self.pairs[:, 0], total)
        np.add.at(out, self.pairs[:, 1], total)
        return out


def check_policy(ties: str) -> None:
    """Raise ValueError unless `ties` is one of `TIE_POLICIES`."""
    if ties not in TIE_POLICIES:
        raise ValueError(f"ties must be one of {', '.join(TIE_POLICIES)}; got {ties!r}")


def policy_cells(counts: PairCounts, ties: TiePolicy) -> NDArray[np.float64]:
    """Fold the four outcome counts into the three cells a tie policy fits.

    Returns
    -------
    ndarray, shape (K, 3)
        ``[wins first, wins second, ties]`` where "ties" holds plain and both-bad ties for
        ``"half"`` and ``"davidson"`` and only plain ties for ``"drop-bothbad"``.
    """
    check_policy(ties)
    c = np.asarray(counts.counts)
    tie_col = c[:, 2] if ties == "drop-bothbad" else c[:, 2] + c[:, 3]
    return np.stack([c[:, 0], c[:, 1], tie_col], axis=1)
