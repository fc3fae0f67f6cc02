"""Anomalous-voter detection: the Chatbot Arena sequential test plus simple speed, burst and address signals.

The sequential test follows Chiang et al. (2024), "Chatbot Arena: An Open Platform for Evaluating LLMs by
Human Preference", section 5.1. For each of a voter's votes, a conformal p-value says how unusual the
observed outcome is under the outcomes other voters gave the same model pair; the p-values of the first
n usable votes are combined with Fisher's method (-2 sum log p ~ chi^2 with 2n degrees of freedom) at a
fixed list of checkpoints n, and the voter is flagged when a checkpoint's p-value is below alpha divided
by the number of checkpoints (Bonferroni), which bounds an honest voter's lifetime false-flag rate by alpha.

The p-value of a vote is exact: with counts c over the four outcomes (this vote included, N+1 votes in
all), p = (votes on rarer outcomes + U * votes on outcomes as rare as this one) / (N+1), U ~ Uniform(0, 1].
Under an honest voter, whose vote is exchangeable with the pair's history, p is uniform, so Fisher's
statistic has exactly its chi-square law. Without randomisation (U = 1) p is conservative and the test loses
power (the most common outcome always gets p = 1), so randomisation is the default; it is seeded per voter,
so a verdict is reproducible.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from arena.domain import Outcome
from arena.errors import ConfigError

OUTCOMES: tuple[Outcome, ...] = (Outcome.MODEL_A, Outcome.MODEL_B, Outcome.TIE, Outcome.TIE_BOTHBAD)
DEFAULT_CHECKPOINTS: tuple[int, ...] = (1, 2, 3, 5, 10, 15, 20, 30, 50, 100, 200, 500)
PairCounts = Mapping[tuple[str, str], Sequence[int] | NDArray[np.int64]]


def conformal_p_values(
    outcomes: ArrayLike, history: ArrayLike, rng: np.random.Generator | None = None
) -> NDArray[np.float64]:
    """Per-vote p-values of categorical outcomes against per-vote history counts.

    Parameters
    ----------
    outcomes : (n,) int array of outcome indices in [0, k).
    history : (n, k) int array; row i counts the pair's earlier outcomes, this voter excluded.
    rng : randomises ties (exact p-values) when given; None gives conservative p-values (U = 1).

    Returns
    -------
    (n,) float array in (0, 1].
    """
    obs = np.asarray(outcomes, dtype=np.int64)
    counts = np.array(history, dtype=np.int64, ndmin=2).copy()
    if counts.shape[0] != obs.shape[0] or np.any(counts < 0):
        raise ValueError("history must be a non-negative (n, k) count array with one row per outcome")
    rows = np.arange(obs.shape[0])
    counts[rows, obs] += 1
    own = counts[rows, obs][:, None]
    rarer = np.where(counts < own, counts, 0).sum(axis=1)
    as_rare = np.where(counts == own, counts, 0).sum(axis=1)
    u = 1.0 - rng.random(obs.shape[0]) if rng is not None else 1.0
    return (rarer + u * as_rare) / counts.sum(axis=1)


@dataclass(frozen=True)
class SequentialResult:
    """Fisher combination at each reached checkpoint; `p_value` is Bonferroni-adjusted (None: none yet)."""

    flagged: bool
    p_value: float | None
    checkpoint: int | None
    votes_used: int
    checkpoint_p: dict[int, float] = field(default_factory=dict)


def fisher_checkpoints(p_values: ArrayLike, checkpoints: Sequence[int], alpha: float) -> SequentialResult:
    """Fisher's method on the first n p-values for each checkpoint n, Bonferroni over all the checkpoints.

    The correction counts every configured checkpoint, reached or not, so the chance that an honest voter
    is ever flagged stays below `alpha` however many votes they cast.
    """
    p = np.asarray(p_values, dtype=np.float64)
    marks = sorted(set(int(c) for c in checkpoints))
    if not marks or marks[0] < 1 or not 0 < alpha < 1:
        raise ValueError("checkpoints must be positive integers and alpha in (0, 1)")
    statistic = -2.0 * np.cumsum(np.log(p))
    reached = [c for c in marks if c <= p.shape[0]]
    per = {c: float(stats.chi2.sf(statistic[c - 1], 2 * c)) for c in reached}
    if not per:
        return SequentialResult(False, None, None, int(p.shape[0]))
    threshold = alpha / len(marks)
    first = next((c for c in reached if per[c] <= threshold), None)
    adjusted = min(1.0, len(marks) * min(per.values()))
    return SequentialResult(first is not None, adjusted, first, int(p.shape[0]), per)


def sequential_anomaly_test(
    outcomes: ArrayLike,
    history: ArrayLike,
    *,
    checkpoints: Sequence[int] = DEFAULT_CHECKPOINTS,
    alpha: float = 0.01,
    min_history: int = 10,
    rng: np.random.Generator | None = None,
) -> SequentialResult:
    """The section 5.1 test on one voter's votes in time order; votes whose pair has fewer than
    `min_history` other votes are skipped (the skip depends only on others' votes, so validity is kept)."""
    obs = np.asarray(outcomes, dtype=np.int64)
    counts = np.array(history, dtype=np.int64, ndmin=2).reshape(obs.shape[0], -1)
    usable = counts.sum(axis=1) >= min_history
    p = conformal_p_values(obs[usable], counts[usable], rng)
    return fisher_checkpoints(p, checkpoints, alpha)


@dataclass(frozen=True)
class VoteRecord:
    """One vote as the detector sees it. Times are seconds on one clock; `ready_at` is when the voter could
    first see both answers (the first streamed text, not the end of streaming); `text_chars` is the length of
    what there was to read (both answers)."""

    model_a: str
    model_b: str
    outcome: Outcome
    voted_at: float
    ready_at: float | None = None
    text_chars: int = 0
    client_address: str | None = None


def pair_key(model_a: str, model_b: str) -> tuple[str, str]:
    """The canonical (sorted) pair; counts are [first wins, second wins, tie, both bad] in this order."""
    return (model_a, model_b) if model_a <= model_b else (model_b, model_a)


def oriented_outcome(vote: VoteRecord) -> int:
    """The vote's outcome index relative to `pair_key` (model_a's win becomes a win for its sorted place)."""
    index = OUTCOMES.index(Outcome(vote.outcome))
    swapped = vote.model_a > vote.model_b
    return {0: 1, 1: 0}.get(index, index) if swapped else index


def count_pairs(votes: Sequence[VoteRecord]) -> dict[tuple[str, str], NDArray[np.int64]]:
    """Per-pair outcome counts (the sufficient statistics) of `votes`."""
    counts: dict[tuple[str, str], NDArray[np.int64]] = {}
    for vote in votes:
        row = counts.setdefault(pair_key(vote.model_a, vote.model_b), np.zeros(len(OUTCOMES), dtype=np.int64))
        row[oriented_outcome(vote)] += 1
    return counts


def history_arrays(
    votes: Sequence[VoteRecord], pair_counts: PairCounts, *, includes_voter: bool = True
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(outcomes, history) for `sequential_anomaly_test`: each vote's pair counts minus this voter's."""
    own = count_pairs(votes) if includes_voter else {}
    outcomes = np.array([oriented_outcome(v) for v in votes], dtype=np.int64)
    history = np.zeros((len(votes), len(OUTCOMES)), dtype=np.int64)
    for i, vote in enumerate(votes):
        key = pair_key(vote.model_a, vote.model_b)
        if key in pair_counts:  # a pair missing from the counts simply has no history
            history[i] = np.asarray(pair_counts[key], dtype=np.int64) - own.get(key, 0)
    if np.any(history < 0):
        raise ValueError(
            "pair counts are smaller than this voter's own votes: pass includes_voter=False "
            "if the counts already exclude them"
        )
    return outcomes, history


def fast_votes(votes: Sequence[VoteRecord], min_read_s: float, read_chars_per_s: float) -> tuple[int, int]:
    """(votes faster than `min_read_s + text_chars / read_chars_per_s`, votes with a ready time)."""
    timed = [v for v in votes if v.ready_at is not None]
    fast = sum(1 for v in timed if v.voted_at - (v.ready_at or 0.0) < min_read_s + v.text_chars / read_chars_per_s)
    return fast, len(timed)


def one_sided_burst(
    votes: Sequence[VoteRecord], window_s: float, min_votes: int, min_share: float
) -> tuple[str, int] | None:
    """A window of at most `window_s` seconds with at least `min_votes` votes of which at least `min_share`
    give the same outcome (side, tie or both-bad) or the same winning model; returns (what, votes) or None.

    For each candidate value, with x_i = [vote i has it] - min_share, a qualifying window [l, r] is one with
    a non-negative sum of x, found from the minimum prefix sum over each window's admissible starts.
    """
    ordered = sorted(votes, key=lambda v: v.voted_at)
    times = np.array([v.voted_at for v in ordered], dtype=np.float64)
    labels: dict[str, NDArray[np.bool_]] = {}
    for outcome in OUTCOMES:
        labels[f"outcome:{outcome.value}"] = np.array([Outcome(v.outcome) is outcome for v in ordered])
    winners = [_winner(v) for v in ordered]
    for model in {w for w in winners if w is not None}:
        labels[f"model:{model}"] = np.array([w == model for w in winners])
    for label, hits in labels.items():
        if hits.sum() < min_share * min_votes:
            continue
        prefix = np.concatenate([[0.0], np.cumsum(hits - min_share)])
        found = _window_with_share(times, prefix, window_s, min_votes)
        if found:
            return label, found
    return None


def _winner(vote: VoteRecord) -> str | None:
    outcome = Outcome(vote.outcome)
    return vote.model_a if outcome is Outcome.MODEL_A else vote.model_b if outcome is Outcome.MODEL_B else None


def _window_with_share(times: NDArray[np.float64], prefix: NDArray[np.float64], window_s: float, min_votes: int) -> int:
    """Size of a window with prefix[r+1] - prefix[l] >= 0, r-l+1 >= min_votes and t_r - t_l <= window_s."""
    left = 0
    for right in range(min_votes - 1, times.shape[0]):
        while times[right] - times[left] > window_s:
            left += 1
        last = right - min_votes + 1
        if last < left:
            continue
        candidates = prefix[left : last + 1]
        best = int(np.argmin(candidates))
        if prefix[right + 1] - candidates[best] >= -1e-9:
            return right - (left + best) + 1
    return 0


class AnomalyReason(StrEnum):
    """Machine-readable reasons for quarantining a voter's votes."""

    SEQUENTIAL_TEST = "sequential_test"
    TOO_FAST = "too_fast"
    ONE_SIDED_BURST = "one_sided_burst"
    SHARED_ADDRESS = "shared_address"


@dataclass(frozen=True)
class AnomalyVerdict:
    """Whether to quarantine a voter's votes, why, and the sequential test's adjusted p-value."""

    quarantine: bool
    reasons: list[AnomalyReason]
    p_value: float | None
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def reason(self) -> AnomalyReason | None:
        """The first reason, or None for a clean voter."""
        return self.reasons[0] if self.reasons else None


@dataclass(frozen=True)
class AnomalyConfig:
    """Thresholds; every one is a config key of the same name (see docs/integrity.md)."""

    alpha: float = 0.01
    checkpoints: tuple[int, ...] = DEFAULT_CHECKPOINTS
    min_history: int = 10
    randomized: bool = True
    seed: int = 0
    min_read_s: float = 1.0
    read_chars_per_s: float = 100.0
    fast_min_votes: int = 3
    fast_min_share: float = 0.5
    burst_window_s: float = 600.0
    burst_min_votes: int = 10
    burst_min_share: float = 1.0
    max_voters_per_address: int | None = 20

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> AnomalyConfig:
        """Validated construction from a config table; unknown keys raise ConfigError."""
        names = {f.name for f in fields(cls)}
        unknown = set(mapping) - names
        if unknown:
            raise ConfigError(f"anomaly config: unknown key(s) {sorted(unknown)}; allowed: {sorted(names)}")
        values = dict(mapping)
        if "checkpoints" in values:
            values["checkpoints"] = tuple(int(c) for c in values["checkpoints"])
        config = cls(**values)
        if not 0 < config.alpha < 1 or not config.checkpoints or min(config.checkpoints) < 1:
            raise ConfigError("anomaly config: alpha must be in (0, 1) and checkpoints positive integers")
        if not 0 < config.burst_min_share <= 1 or not 0 < config.fast_min_share <= 1:
            raise ConfigError("anomaly config: burst_min_share and fast_min_share must be in (0, 1]")
        return config


class AnomalyDetector:
    """Assesses one voter from their votes and the per-pair outcome counts (pure; no I/O)."""

    def __init__(self, config: AnomalyConfig | None = None) -> None:
        self.config = config or AnomalyConfig()

    def assess(
        self,
        voter_history: Sequence[VoteRecord],
        pair_history: PairCounts,
        *,
        voter_id: str = "",
        voters_per_address: Mapping[str, int] | None = None,
        pair_history_includes_voter: bool = True,
        rng: np.random.Generator | None = None,
    ) -> AnomalyVerdict:
        """All signals for one voter.

        `pair_history` maps `pair_key` -> [first wins, second wins, tie, both bad] counts over all voters
        (this voter's votes are subtracted unless `pair_history_includes_voter` is False).
        `voters_per_address` maps a client address to the number of distinct voters seen from it (over the
        window the caller chooses). The default randomness is seeded from `seed` and `voter_id`.
        """
        cfg = self.config
        votes = sorted(voter_history, key=lambda v: v.voted_at)
        if rng is None and cfg.randomized:
            rng = np.random.default_rng([cfg.seed, zlib.crc32(voter_id.encode("utf-8"))])
        outcomes, history = history_arrays(votes, pair_history, includes_voter=pair_history_includes_voter)
        result = sequential_anomaly_test(
            outcomes,
            history,
            checkpoints=cfg.checkpoints,
            alpha=cfg.alpha,
            min_history=cfg.min_history,
            rng=rng if cfg.randomized else None,
        )
        found: list[tuple[AnomalyReason, str, dict[str, Any]]] = []
        if result.flagged:
            note = (
                f"votes deviate from other voters' outcomes on the same pairs (adjusted p = "
                f"{result.p_value:.2g} after {result.checkpoint} votes)"
            )
            found.append((AnomalyReason.SEQUENTIAL_TEST, note, {"checkpoint": result.checkpoint}))
        found += self._simple_signals(votes, voters_per_address or {})
        details: dict[str, Any] = {"votes": len(votes), "votes_tested": result.votes_used}
        for _, _, extra in found:
            details.update(extra)
        message = "; ".join(note for _, note, _ in found) or "no anomaly found"
        return AnomalyVerdict(bool(found), [r for r, _, _ in found], result.p_value, message, details)

    def _simple_signals(
        self, votes: Sequence[VoteRecord], voters_per_address: Mapping[str, int]
    ) -> list[tuple[AnomalyReason, str, dict[str, Any]]]:
        """Reading speed, one-sided bursts and crowded addresses: (reason, note, details) for each that fires."""
        cfg = self.config
        found: list[tuple[AnomalyReason, str, dict[str, Any]]] = []
        fast, timed = fast_votes(votes, cfg.min_read_s, cfg.read_chars_per_s)
        if fast >= cfg.fast_min_votes and fast >= cfg.fast_min_share * timed:
            note = f"{fast} of {timed} votes came faster than the answers can be read"
            found.append((AnomalyReason.TOO_FAST, note, {"fast_votes": fast}))
        burst = one_sided_burst(votes, cfg.burst_window_s, cfg.burst_min_votes, cfg.burst_min_share)
        if burst is not None:
            note = f"{burst[1]} votes within {cfg.burst_window_s:g} s with the same {burst[0].split(':')[0]}"
            found.append((AnomalyReason.ONE_SIDED_BURST, note, {"burst": {"label": burst[0], "votes": burst[1]}}))
        crowded = self._crowded_addresses(votes, voters_per_address)
        if crowded:
            note = f"votes came from an address shared by {crowded} voters"
            found.append((AnomalyReason.SHARED_ADDRESS, note, {"voters_at_address": crowded}))
        return found

    def _crowded_addresses(self, votes: Sequence[VoteRecord], voters_per_address: Mapping[str, int]) -> int:
        limit = self.config.max_voters_per_address
        if limit is None:
            return 0
        seen = [voters_per_address.get(v.client_address, 0) for v in votes if v.client_address is not None]
        most = max(seen, default=0)
        return most if most > limit else 0
