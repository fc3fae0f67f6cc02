"""Multinomial bootstrap over count cells, seeded, with every round solved in one batched computation.

Resampling the N battles with replacement is the same as drawing the (pair, outcome) cell counts
from ``Multinomial(N, observed cell shares)`` (`rating.multinomial` draws them exactly).  All rounds
are then fitted together: a round's MLE is close to the full-data MLE, so each round starts there
and takes chord-Newton steps ``x += H0^{-1} g(x)`` with the full-data Hessian ``H0`` (one inverse for
all rounds, a matrix product per iteration) until its own per-battle gradient norm is below `tol`.
A round that does not converge that way, or whose resampled graph has no finite MLE (a model that
never lost in that round, or a split component), is refitted on its own by `rating.bt.fit_point`
(with the ridge in the affected components); a round that still fails is dropped, never replaced
by the point estimate.  Rounds are drawn in fixed chunks, each from its own child seed, so the
result depends only on the seed and the number of rounds (not on thread count).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit

from rating.bt import DEFAULT_RIDGE, PointFit, Problem, center, fit_point, gauge_fix
from rating.graph import certificate_edges, mle_exists
from rating.likelihood import davidson_probs
from rating.linalg import matmul, spd_inverse
from rating.multinomial import MultinomialSampler

Array = NDArray[np.float64]
CHUNK = 100
DEFAULT_BOOT_TOL = 1e-7
COARSE_FACTOR = 100.0  # single-precision gradients while every round's norm exceeds this many tolerances
# ... and this much: float32 gradients carry errors of about 1e-8 to 1e-7 (normalised) of their own, so a
# tolerance near that floor must not keep the loop in single precision (it would never converge there).
COARSE_FLOOR = 1e-5


@dataclass(frozen=True)
class BootstrapResult:
    """Bootstrap replicates of the strengths.

    Attributes
    ----------
    theta : ndarray, shape (n_models, R_used)
        Natural-scale strengths of every usable round, mean zero per component.
    log_nu : ndarray, shape (R_used,)
        Davidson ``log nu`` per round (zeros for Bradley-Terry).
    rounds : int
        Rounds requested.
    dropped : int
        Rounds that could not be fitted (excluded from `theta`).
    refitted : int
        Rounds solved one by one (no chord convergence, or no MLE in the resampled graph).
    regularized : int
        Rounds fitted with the ridge because their resampled graph had no finite MLE.
    max_grad_norm : float
        Largest per-battle gradient norm over the usable rounds.
    """

    theta: Array
    log_nu: Array
    rounds: int
    dropped: int
    refitted: int
    regularized: int
    max_grad_norm: float


@dataclass(frozen=True)
class _Setup:
    prob: Problem
    x0: Array
    p0: Array  # win probability of every pair at the full-data fit (first chord step needs no exp)
    h0_inv: Array
    sampler: MultinomialSampler
    certificate: NDArray[np.int64] | None
    tol: float
    max_iter: int
    ridged: bool


@dataclass(frozen=True)
class _ChunkResult:
    x: Array
    ok: NDArray[np.bool_]
    grad_norm: Array
    refitted: int
    regularized: int


def _stats(s: _Setup, draws: NDArray[np.int64]) -> tuple[Array, ...]:
    """Per-pair statistics of a chunk (shape (K, r) each) from cell-major draws (shape (3K, r))."""
    k = len(s.prob.pairs)
    first, second, ties = draws[:k].astype(float), draws[k : 2 * k].astype(float), draws[2 * k :].astype(float)
    tot = first + second + ties
    if s.prob.davidson:
        return 0.5 * (first - second), ties, tot
    first += 0.5 * ties
    return first, tot


def _gradient(
    s: _Setup, x: Array, stats: tuple[Array, ...], votes: Array, first: bool, coarse: bool = False
) -> tuple[Array, Array]:
    """Batched gradient (n_params, r) and per-round gradient norm (r,).

    `coarse` evaluates the win probabilities in single precision (relative error about 1e-7, a
    quarter of the cost of a double-precision exp): good enough to steer a round whose gradient
    is still far above the tolerance, never used to decide that a round has converged.
    """
    prob = s.prob
    n = prob.n_models
    if prob.davidson:
        half_diff, ties, tot = stats
        pf, ps, pt = davidson_probs(prob.inc.b @ x[:n], x[n][None, :])
        a = half_diff - 0.5 * tot * (pf - ps)
        g_phi = (ties - tot * pt).sum(axis=0) - prob.phi_ridge * x[n]
        g = np.vstack([prob.inc.bt @ a - prob.ridge[:, None] * x[:n], g_phi[None, :]])
        matches = np.maximum(tot.sum(axis=0), 1.0)
        gn = np.maximum(np.max(np.abs(g[:n]) / votes, axis=0, initial=0.0), np.abs(g_phi) / matches)
        return g, gn
    y, tot = stats
    if first:  # every round starts at x0, where the probabilities are known
        a = y - tot * s.p0[:, None]
    else:
        # a = y - tot * sigmoid(d), in place (exp overflowing to inf gives the right limit 0)
        d = prob.inc.b @ x
        with np.errstate(over="ignore"):
            if coarse:
                e = np.negative(d, out=d).astype(np.float32)
                e = np.exp(e, out=e)
                e += np.float32(1.0)
                a = np.divide(tot, e, out=d)
            else:
                a = np.exp(np.negative(d, out=d), out=d)
                a += 1.0
                np.divide(tot, a, out=a)
        np.subtract(y, a, out=a)
    g = prob.inc.bt @ a
    if s.ridged:
        g -= prob.ridge[:, None] * x
    return g, np.max(np.abs(g) / votes, axis=0, initial=0.0)


def _chord(s: _Setup, draws: NDArray[np.int64]) -> tuple[Array, Array, NDArray[np.bool_]]:
    """Chord-Newton iterations for all columns of `draws` (cell-major counts, shape (3K, r))."""
    r = draws.shape[1]
    x_out = np.repeat(s.x0[:, None], r, axis=1)
    gn_out = np.full(r, np.inf)
    act = np.arange(r)
    x = x_out.copy()
    stats = _stats(s, draws)
    votes = np.maximum(s.prob.inc.abs_bt @ stats[-1], 1.0)
    coarse = False
    for it in range(s.max_iter):
        g, gn = _gradient(s, x, stats, votes, first=it == 0, coarse=coarse)
        # Single precision while every round is far from the tolerance; only exact gradients decide.
        done = np.zeros(len(gn), dtype=bool) if coarse else gn <= s.tol
        coarse = not s.prob.davidson and bool(gn.min(initial=np.inf) > max(COARSE_FACTOR * s.tol, COARSE_FLOOR))
        if done.any():
            x_out[:, act[done]] = x[:, done]
            gn_out[act[done]] = gn[done]
            if done.all():
                break
            if done.mean() > 0.2:
                keep = ~done
                act, x, g, votes = act[keep], x[:, keep], g[:, keep], votes[:, keep]
                stats = tuple(np.ascontiguousarray(a[:, keep]) for a in stats)
        x += matmul(s.h0_inv, g)
    return x_out, gn_out, gn_out <= s.tol


def _cells_of(draws: NDArray[np.int64], j: int | np.integer) -> Array:
    """Round j's counts as (K, 3) cells."""
    return draws[:, j].reshape(3, -1).T.astype(float)


def _needs_ridge(s: _Setup, draws: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Per round: does some component that has an MLE in the full data lose it here?"""
    prob = s.prob
    k, r = len(prob.pairs), draws.shape[1]
    if not prob.exists.any():
        return np.zeros(r, dtype=bool)
    if s.certificate is not None:
        c = s.certificate
        ties = draws[2 * k + c]
        suspect = ~(((draws[c] + ties) > 0) & ((draws[k + c] + ties) > 0)).all(axis=0)
    else:
        suspect = np.ones(r, dtype=bool)
    out = np.zeros(r, dtype=bool)
    for j in np.flatnonzero(suspect):
        ok = mle_exists(prob.n_models, prob.pairs, _cells_of(draws, j), prob.comps)
        out[j] = bool(np.any(prob.exists & ~ok))
    return out


def _refit(s: _Setup, cells: Array, regularize: bool) -> tuple[Array, float, bool]:
    """Fit one round on its own, adding the ridge to components without an MLE in this round."""
    prob = s.prob
    ridge = prob.ridge.copy()
    if regularize:
        ok = mle_exists(prob.n_models, prob.pairs, cells, prob.comps)
        for comp in np.flatnonzero(~ok):
            ridge[prob.comps.labels == comp] = DEFAULT_RIDGE
    fit = fit_point(prob, cells=cells, ridge=ridge, x0=s.x0)
    x = np.concatenate([fit.theta, [fit.log_nu]]) if prob.davidson else fit.theta
    return x, fit.grad_norm, fit.converged


def _chunks(rounds: int, seed: int) -> list[tuple[np.random.SeedSequence, int]]:
    """Fixed-size chunks of rounds, each with its own child seed."""
    sizes = [min(CHUNK, rounds - i) for i in range(0, rounds, CHUNK)]
    return list(zip(np.random.SeedSequence(seed).spawn(len(sizes)), sizes, strict=True))


def build_sampler(prob: Problem, threads: int = 1) -> MultinomialSampler:
    """Sampler over the cell-major cells (all first-model wins, then second-model wins, then ties)."""
    return MultinomialSampler.build(prob.cells.T.reshape(-1), threads)


def resampled_cells(prob: Problem, rounds: int, seed: int) -> Array:
    """The resampled cell counts `bootstrap` fits for this seed, shape (K, 3, rounds) (for checks)."""
    sampler = build_sampler(prob)
    parts = [sampler.draw(np.random.default_rng(sd), size) for sd, size in _chunks(rounds, seed)]
    if not parts:
        return np.zeros((len(prob.pairs), 3, 0))
    draws = np.concatenate(parts, axis=1)
    return draws.reshape(3, len(prob.pairs), rounds).transpose(1, 0, 2).astype(float)


def _run_chunk(s: _Setup, seed: np.random.SeedSequence, rounds: int) -> _ChunkResult:
    draws = s.sampler.draw(np.random.default_rng(seed), rounds)
    special = _needs_ridge(s, draws)
    x, gn, ok = _chord(s, draws[:, ~special] if special.any() else draws)
    xs, gns, oks = np.empty((len(s.x0), rounds)), np.empty(rounds), np.empty(rounds, dtype=bool)
    xs[:, ~special], gns[~special], oks[~special] = x, gn, ok
    redo = np.flatnonzero(special | ~oks)
    for j in redo:
        xs[:, j], gns[j], oks[j] = _refit(s, _cells_of(draws, j), bool(special[j]))
    return _ChunkResult(xs, oks, gns, len(redo), int(special.sum()))


def bootstrap(
    prob: Problem,
    fit: PointFit,
    rounds: int,
    seed: int,
    *,
    tol: float = DEFAULT_BOOT_TOL,
    threads: int = 1,
    max_iter: int = 60,
    sampler: MultinomialSampler | None = None,
) -> BootstrapResult:
    """Bootstrap the point fit `fit` of `prob`.

    Parameters
    ----------
    prob : Problem
        The data set (its counts are treated as battle counts; the total is rounded).
    fit : PointFit
        The full-data fit (start of every round; its Hessian drives the chord steps).
    rounds : int
        Number of bootstrap rounds (>= 0).
    seed : int
        Seed of the resampling.
    tol : float
        Per-battle gradient norm each round must reach.
    threads : int
        Worker threads (chunks run in parallel; results do not depend on this).
    max_iter : int
        Chord iterations before a round is refitted on its own.
    sampler : MultinomialSampler, optional
        ``build_sampler(prob)`` if already built (e.g. while the point fit ran).

    Returns
    -------
    BootstrapResult
    """
    n_par = prob.n_params
    if rounds <= 0 or prob.n_matches <= 0:
        return BootstrapResult(np.zeros((prob.n_models, 0)), np.zeros(0), max(rounds, 0), 0, 0, 0, 0.0)
    x0 = np.concatenate([fit.theta, [fit.log_nu]]) if prob.davidson else fit.theta.copy()
    setup = _Setup(
        prob=prob,
        x0=x0,
        p0=expit(prob.inc.b @ fit.theta),
        h0_inv=spd_inverse(gauge_fix(prob, fit.hessian, prob.ridge)),
        sampler=build_sampler(prob) if sampler is None else sampler,
        certificate=certificate_edges(prob.n_models, prob.pairs, prob.cells, prob.comps),
        tol=tol,
        max_iter=max_iter,
        ridged=bool(np.any(prob.ridge > 0)),
    )
    jobs = _chunks(rounds, seed)
    if threads <= 1:
        parts = [_run_chunk(setup, sd, size) for sd, size in jobs]
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            parts = list(pool.map(lambda job: _run_chunk(setup, *job), jobs))
    x = np.concatenate([p.x for p in parts], axis=1)
    ok = np.concatenate([p.ok for p in parts])
    gn = np.concatenate([p.grad_norm for p in parts])
    theta = center(prob, x[: prob.n_models, ok])
    log_nu = x[n_par - 1, ok] if prob.davidson else np.zeros(int(ok.sum()))
    return BootstrapResult(
        theta=theta,
        log_nu=log_nu,
        rounds=rounds,
        dropped=int((~ok).sum()),
        refitted=sum(p.refitted for p in parts),
        regularized=sum(p.regularized for p in parts),
        max_grad_norm=float(gn[ok].max(initial=0.0)),
    )
