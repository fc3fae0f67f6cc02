"""`rate`: pair counts -> a complete, finite rating report (point fit, bootstrap, sandwich, ranks, flags)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtri

from rating.bootstrap import DEFAULT_BOOT_TOL, BootstrapResult, bootstrap, build_sampler
from rating.bt import DEFAULT_RIDGE, DEFAULT_TOL, PointFit, Problem, fit_point, make_problem, to_ratings
from rating.data import PairCounts, TiePolicy, check_policy
from rating.graph import scored_edges
from rating.ranks import bootstrap_rank_interval, pair_matrices, point_ranks, rank_ub
from rating.sandwich import anchored_se, sandwich_cov

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class _Scale:
    """How strengths become ratings, and the interval multiplier."""

    scale: float
    base: float
    center: float
    anchor: tuple[int, float] | None
    z: float

    def ratings(self, prob: Problem, theta: Array) -> Array:
        return to_ratings(prob, theta, anchor=self.anchor, scale=self.scale, base=self.base, center_value=self.center)


@dataclass(frozen=True)
class RatingReport:
    """Everything a leaderboard shows, per model index; every number is finite.

    Attributes
    ----------
    rating : ndarray, shape (n,)
        Point estimate on the rating scale (fit on all data, not a bootstrap median).
    ci_low, ci_high : ndarray, shape (n,)
        Bootstrap percentile interval (``ci_method == "bootstrap"``) or, with no usable
        bootstrap round, the sandwich interval.
    se : ndarray, shape (n,)
        Sandwich standard error on the rating scale (of the difference from the anchor when
        anchored).
    sandwich_low, sandwich_high : ndarray, shape (n,)
        ``rating -+ z se`` at the report's `level`.
    rank : ndarray of int, shape (n,)
        Rank of the point estimate within the model's component (ties share).
    rank_ub : ndarray of int, shape (n,)
        Rank (UB) within the component from ``ci_low``/``ci_high``.
    rank_low, rank_high : ndarray of int, shape (n,)
        Bootstrap rank interval within the component (``rank`` for both without bootstrap).
    votes : ndarray, shape (n,)
        Battles counted by the tie policy.
    provisional, perfect_record, regularized, fixed : ndarray of bool, shape (n,)
        Few votes / perfect record / fitted with the ridge; `fixed` marks the anchor
        ("reference (fixed)": its interval is the anchor value by construction).
    component : ndarray of int, shape (n,)
        Component id (0 = largest), -1 for models without a counted battle (rank fields 0).
    """

    rating: Array
    ci_low: Array
    ci_high: Array
    se: Array
    sandwich_low: Array
    sandwich_high: Array
    rank: IntArray
    rank_ub: IntArray
    rank_low: IntArray
    rank_high: IntArray
    votes: Array
    provisional: BoolArray
    perfect_record: BoolArray
    regularized: BoolArray
    fixed: BoolArray
    component: IntArray
    converged: bool
    grad_norm: float
    iterations: int
    nll_per_match: float
    n_components: int
    win_fraction: Array
    battle_count: Array
    tie_parameter: float
    ci_method: str
    level: float
    ties: str
    anchor_applied: bool
    bootstrap_rounds: int
    bootstrap_used: int
    bootstrap_dropped: int
    bootstrap_regularized: int
    bootstrap_max_grad_norm: float
    bootstrap_ratings: Array


def _perfect_records(prob: Problem) -> BoolArray:
    """Models that never conceded a point, or never scored one (all wins or all losses)."""
    n = prob.n_models
    fwd, bwd = scored_edges(prob.cells)
    scored, conceded = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    i, j = prob.pairs[:, 0], prob.pairs[:, 1]
    scored[i[fwd]] = True
    scored[j[bwd]] = True
    conceded[j[fwd]] = True
    conceded[i[bwd]] = True
    return (prob.votes > 0) & ~(scored & conceded)


def _intervals(
    prob: Problem, fit: PointFit, boot: BootstrapResult, rating: Array, sc: _Scale
) -> tuple[Array, Array, tuple[Array, Array]]:
    """Bootstrap ratings per round, the sandwich SE and interval on the rating scale."""
    k = sc.scale / np.log(sc.base)
    boot_r = sc.ratings(prob, boot.theta)
    se = k * anchored_se(prob, sandwich_cov(prob, fit), sc.anchor[0] if sc.anchor else None)
    return boot_r, se, (rating - sc.z * se, rating + sc.z * se)


def rate(
    counts: PairCounts,
    *,
    ties: TiePolicy = "half",
    bootstrap_rounds: int = 1000,
    seed: int = 0,
    anchor: tuple[int, float] | None = None,
    scale: float = 400.0,
    base: float = 10.0,
    center: float = 1000.0,
    level: float = 0.95,
    min_votes: int = 20,
    ridge: float = DEFAULT_RIDGE,
    tol: float = DEFAULT_TOL,
    bootstrap_tol: float = DEFAULT_BOOT_TOL,
    threads: int = 1,
) -> RatingReport:
    """Fit Bradley-Terry (or Davidson) ratings with uncertainty, ranks and flags.

    Parameters
    ----------
    counts : PairCounts
        Battle counts per pair and outcome.
    ties : {"half", "drop-bothbad", "davidson"}
        Tie policy (see `rating.bt`).
    bootstrap_rounds : int
        Multinomial bootstrap rounds (0 = sandwich intervals only).
    seed : int
        Seed of the bootstrap.
    anchor : (int, float), optional
        Pin model ``anchor[0]`` to rating ``anchor[1]`` (a shift of its component; every
        bootstrap round is anchored the same way).  Ignored, with ``anchor_applied`` False, when
        that model has no counted battle.
    scale, base, center : float
        Rating = ``center + scale / ln(base) * theta`` (each component centred on `center`).
    level : float
        Coverage of the intervals (0.95).
    min_votes : int
        Models with fewer counted battles are flagged provisional.
    ridge : float
        Ridge used only where no finite MLE exists (natural scale, summed likelihood).
    tol, bootstrap_tol : float
        Per-battle gradient-norm tolerance of the point fit and of every bootstrap round.
    threads : int
        Threads for the bootstrap (results do not depend on it).

    Returns
    -------
    RatingReport
    """
    check_policy(ties)
    if not 0.0 < level < 1.0:
        raise ValueError("level must lie in (0, 1)")
    if anchor is not None and not 0 <= anchor[0] < counts.n_models:
        raise ValueError(f"anchor model index {anchor[0]} is out of range")
    prob = make_problem(counts, ties, ridge=ridge)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # The bootstrap's sampling tables depend on the counts only: build them during the fit.
        need = bootstrap_rounds > 0 and prob.n_matches > 0
        tables = pool.submit(build_sampler, prob, threads) if need else None
        fit = fit_point(prob, tol=tol)
        sampler = tables.result() if tables is not None else None
    anchor_ok = anchor is not None and prob.comps.labels[anchor[0]] >= 0
    sc = _Scale(scale, base, center, anchor if anchor_ok else None, float(ndtri(0.5 + level / 2.0)))
    rating = sc.ratings(prob, fit.theta)
    boot = bootstrap(prob, fit, bootstrap_rounds, seed, tol=bootstrap_tol, threads=threads, sampler=sampler)
    boot_r, se, sandwich = _intervals(prob, fit, boot, rating, sc)
    return _assemble(prob, fit, boot, rating, boot_r, se, sandwich, sc, level, min_votes, ties)


def _assemble(
    prob: Problem,
    fit: PointFit,
    boot: BootstrapResult,
    rating: Array,
    boot_r: Array,
    se: Array,
    sandwich: tuple[Array, Array],
    sc: _Scale,
    level: float,
    min_votes: int,
    ties: str,
) -> RatingReport:
    labels = prob.comps.labels
    used = boot_r.shape[1]
    if used:
        alpha = (1.0 - level) / 2.0
        ci_low, ci_high = np.quantile(boot_r, [alpha, 1.0 - alpha], axis=1)
        rank_low, rank_high = bootstrap_rank_interval(boot_r, labels, level)
    else:
        ci_low, ci_high = sandwich[0].copy(), sandwich[1].copy()
    rank = point_ranks(rating, labels)
    if not used:
        rank_low, rank_high = rank.copy(), rank.copy()
    fixed = np.zeros(prob.n_models, dtype=bool)
    if sc.anchor is not None:
        a, value = sc.anchor
        fixed[a] = True
        ci_low[a] = ci_high[a] = value
    perfect = _perfect_records(prob)
    regularized = prob.ridge > 0
    provisional = (prob.votes < max(min_votes, 1)) | perfect | regularized
    win_fraction, battle_count = pair_matrices(prob)
    report = RatingReport(
        rating=rating,
        ci_low=ci_low,
        ci_high=ci_high,
        se=se,
        sandwich_low=sandwich[0],
        sandwich_high=sandwich[1],
        rank=rank,
        rank_ub=rank_ub(ci_low, ci_high, labels),
        rank_low=rank_low,
        rank_high=rank_high,
        votes=prob.votes.copy(),
        provisional=provisional,
        perfect_record=perfect,
        regularized=regularized,
        fixed=fixed,
        component=labels.copy(),
        converged=fit.converged,
        grad_norm=fit.grad_norm,
        iterations=fit.iterations,
        nll_per_match=-fit.loglik / max(prob.n_matches, 1.0),
        n_components=prob.comps.n_components,
        win_fraction=win_fraction,
        battle_count=battle_count,
        tie_parameter=float(np.exp(fit.log_nu)) if prob.davidson else 0.0,
        ci_method="bootstrap" if used else "sandwich",
        level=level,
        ties=ties,
        anchor_applied=sc.anchor is not None,
        bootstrap_rounds=boot.rounds,
        bootstrap_used=used,
        bootstrap_dropped=boot.dropped,
        bootstrap_regularized=boot.regularized,
        bootstrap_max_grad_norm=boot.max_grad_norm,
        bootstrap_ratings=boot_r.T.copy(),
    )
    _check_finite(report)
    return report


def _check_finite(report: RatingReport) -> None:
    """Refuse to return a report holding NaN or infinity (it would break storage and display)."""
    for name, value in vars(report).items():
        if isinstance(value, np.ndarray | float) and not np.all(np.isfinite(value)):
            raise FloatingPointError(f"rating report field {name!r} is not finite")
