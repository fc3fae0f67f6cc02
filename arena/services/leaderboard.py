"""Maintained pair counts -> rating -> stored snapshot with a manifest (same votes, same bytes)."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import Row
from sqlalchemy.orm import Session, sessionmaker

from arena import __version__
from arena.categories import OVERALL
from arena.config import LeaderboardSettings
from arena.db import repo
from arena.db.engine import write_session
from arena.db.schema import LeaderboardSnapshot, Model
from arena.errors import ValidationError
from arena.tables import LeaderboardRow, leaderboard
from rating.data import PairCounts
from rating.style import fit_style, ratio_features

log = logging.getLogger(__name__)

METHODS = ("bt", "style")
ARENAS = ("text", "search", "image", "music")
PERSONAL_MIN_VOTES = 20
# Style features per arena (RATING.md): text length and markdown; search adds citations; media: size/duration.
STYLE_FEATURES = {
    "text": ("tokens", "headers", "list_items", "bold"),
    "search": ("tokens", "headers", "list_items", "bold", "citations"),
    "image": ("width", "height"),
    "music": ("duration_s",),
}


@dataclass(frozen=True)
class BoardParams:
    """Everything besides the votes that determines a board."""

    method: str
    ties: str
    bootstrap_rounds: int
    seed: int
    anchor_model: str
    anchor_rating: float
    min_votes: int
    provisional_votes: int


def counts_to_arrays(rows: Sequence[Row[Any]]) -> tuple[list[int], PairCounts]:
    """Integer-index the models that appear in the counts (sorted by id) and build PairCounts.

    `rows` are `repo.pair_counts` rows, whose columns come in this order: lo_id, hi_id, wins_lo, wins_hi,
    ties, bothbad.
    """
    table = np.array([tuple(r) for r in rows], dtype=np.int64).reshape(-1, 6)  # one C-level conversion
    ids, pairs = np.unique(table[:, :2], return_inverse=True)
    cells = table[:, 2:].astype(np.float64)
    return [int(i) for i in ids], PairCounts(n_models=len(ids), pairs=pairs.reshape(-1, 2), counts=cells)


def _canonical(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _row_json(row: LeaderboardRow, model: Model, provisional_votes: int) -> dict[str, Any]:
    return {
        "model": model.name, "label": model.display_name or model.name, "organization": model.organization,
        "license": model.license, "rank_ub": row.rank, "rating": round(row.rating, 4),
        "ci_low": round(row.ci_low, 4), "ci_high": round(row.ci_high, 4), "votes": int(row.votes),
        "rank_low": row.rank_low, "rank_high": row.rank_high, "se": round(row.se, 4),
        "provisional": bool(row.provisional) or row.votes < provisional_votes, "component": row.component,
        "fixed": row.fixed, "perfect_record": row.perfect_record,
    }


class LeaderboardService:
    """Computes boards from the maintained counts; a cheap hash check decides whether to recompute."""

    def __init__(self, *, sessions: sessionmaker[Session], settings: LeaderboardSettings) -> None:
        self._sessions = sessions
        self._settings = settings
        self._lock = threading.Lock()

    def params(self, method: str = "bt") -> BoardParams:
        """The board parameters from settings, validated."""
        if method not in METHODS:
            raise ValidationError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
        s = self._settings
        return BoardParams(method, "half", s.bootstrap_rounds, s.seed, s.anchor_model, s.anchor_rating,
                           s.min_votes, s.provisional_votes)

    def mark_dirty(self, arena: str) -> None:
        """Called after a counted vote; boards are recomputed lazily when their counts hash changed."""
        log.debug("board %s has new votes", arena)

    def categories(self, arena: str) -> list[str]:
        """Categories with counted votes in an arena (overall first)."""
        with self._sessions() as session:
            found = set(repo.categories(session, arena))
        return [OVERALL, *sorted(found - {OVERALL})]

    def refresh_all(self) -> int:
        """Recompute every board whose counts changed (the scheduled job); returns how many boards exist."""
        boards = [(arena, cat) for arena in ARENAS for cat in self.categories(arena)]
        for arena, category in boards:
            self.board(arena, category)
        return len(boards)

    def board(self, arena: str, category: str = OVERALL, method: str = "bt") -> dict[str, Any]:
        """The current board (from the stored snapshot when the counts have not changed)."""
        if arena not in ARENAS:
            raise ValidationError(f"unknown arena {arena!r}; use one of {', '.join(ARENAS)}")
        params = self.params(method)
        with self._sessions() as session:
            rows = repo.pair_counts(session, arena, category)
            models = {m.id: m for m in repo.list_models(session)}
            retired = sorted(m.name for m in models.values() if m.status == "retired")
            vote_set_hash = repo.counts_hash(rows)
            digest = _params_hash(vote_set_hash + "|retired:" + ",".join(retired), params)
            snapshot = repo.latest_snapshot(session, arena, category, method)
            if snapshot is not None and snapshot.vote_set_hash == digest:
                return {**json.loads(snapshot.payload), "manifest": snapshot.manifest}
            style_rows = repo.style_rows(session, arena, category) if method == "style" else []
        with self._lock:
            if method == "style":
                payload = self._style(arena, category, params, style_rows, models)
            else:
                payload = self._compute(arena, category, params, rows, models)
            return self._store(arena, category, method, params, vote_set_hash, digest, payload)

    def _store(self, arena: str, category: str, method: str, params: BoardParams, vote_set_hash: str,
               digest: str, payload: dict[str, Any]) -> dict[str, Any]:
        text = _canonical(payload)
        manifest = {
            "vote_set_hash": vote_set_hash, "board_hash": digest,
            "payload_sha256": hashlib.sha256(text.encode()).hexdigest(), "code_version": __version__,
            "method": method, "params": asdict(params), "seed": params.seed,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        with write_session(self._sessions) as session:
            repo.insert_snapshot(session, LeaderboardSnapshot(
                arena=arena, category=category, method=method, vote_set_hash=digest,
                payload_sha256=manifest["payload_sha256"], manifest=manifest, payload=text))
        return {**payload, "manifest": manifest}

    def _compute(self, arena: str, category: str, params: BoardParams, rows: Sequence[Row[Any]],
                 models: dict[int, Model]) -> dict[str, Any]:
        ids, counts = counts_to_arrays(rows)
        base: dict[str, Any] = {"arena": arena, "category": category, "method": params.method, "ties": params.ties,
                                "total_votes": int(counts.counts.sum()), "rows": [], "components": 0,
                                "models": [], "win_fraction": [], "battle_count": []}
        if counts.n_models < 2:
            return base
        names = [models[i].name for i in ids]
        anchor = (params.anchor_model, params.anchor_rating) if params.anchor_model in names else None
        hidden = [models[i].name for i in ids if models[i].status == "retired"]
        board = leaderboard(names, counts, ties="half", bootstrap_rounds=params.bootstrap_rounds, seed=params.seed,
                            anchor=anchor, min_votes=params.provisional_votes, hidden=hidden,
                            threads=self._settings.threads)
        by_name = {m.name: m for m in models.values()}
        out = [_row_json(r, by_name[r.model], params.provisional_votes) for r in board.rows
               if r.votes >= params.min_votes]
        report = board.report
        return {**base, "rows": out, "components": int(board.n_components), "models": names,
                "win_fraction": np.round(report.win_fraction, 4).tolist(),
                "battle_count": report.battle_count.astype(int).tolist()}

    def _style(self, arena: str, category: str, params: BoardParams, rows: Sequence[tuple[int, int, str, dict, dict]],
               models: dict[int, Model]) -> dict[str, Any]:
        features = STYLE_FEATURES[arena]
        base: dict[str, Any] = {"arena": arena, "category": category, "method": "style", "ties": params.ties,
                                "total_votes": len(rows), "rows": [], "features": list(features), "coef": []}
        ids = sorted({a for a, _b, *_ in rows} | {b for _a, b, *_ in rows})
        if len(ids) < 2:
            return base
        index = {mid: i for i, mid in enumerate(ids)}
        codes = {"model_a": 0, "model_b": 1, "tie": 2, "tie_bothbad": 3}
        a_idx = np.array([index[a] for a, *_ in rows])
        b_idx = np.array([index[b] for _a, b, *_ in rows])
        outcome = np.array([codes[o] for _a, _b, o, *_ in rows])
        feat_a = np.array([[float(sa.get(f, 0) or 0) for f in features] for *_x, sa, _sb in rows])
        feat_b = np.array([[float(sb.get(f, 0) or 0) for f in features] for *_x, _sa, sb in rows])
        fit = fit_style(a_idx, b_idx, outcome, len(ids), ratio_features(feat_a, feat_b), ties="half")
        out: list[dict[str, Any]] = []
        for i, mid in enumerate(ids):
            model = models[mid]
            if model.status == "retired" or fit.votes[i] < params.min_votes:
                continue
            out.append({"model": model.name, "label": model.display_name or model.name,
                        "organization": model.organization, "license": model.license,
                        "rating": round(float(fit.rating[i]), 4), "raw_rating": round(float(fit.raw_rating[i]), 4),
                        "ci_low": round(float(fit.ci_low[i]), 4), "ci_high": round(float(fit.ci_high[i]), 4),
                        "votes": int(fit.votes[i]), "component": int(fit.component[i]),
                        "provisional": int(fit.votes[i]) < params.provisional_votes})
        out.sort(key=lambda r: -r["rating"])
        for row in out:
            row["rank_ub"] = 1 + sum(1 for other in out if other["ci_low"] > row["ci_high"])
        coef = [{"feature": f, "beta": round(float(c), 6), "se": round(float(s), 6)}
                for f, c, s in zip(features, fit.coef, fit.coef_se, strict=True)]
        return {**base, "rows": out, "coef": coef}

    def personal(self, voter_id: str, arena: str = "text") -> dict[str, Any]:
        """The ranking implied by one voter's own counted votes (shown from 20 votes on)."""
        with self._sessions() as session:
            votes = repo.votes_by_voter(session, voter_id, arena)
            models = {m.id: m for m in repo.list_models(session)}
        if len(votes) < PERSONAL_MIN_VOTES:
            return {"voter_votes": len(votes), "needed": PERSONAL_MIN_VOTES, "rows": []}
        ids = sorted({a for a, _b, _o in votes} | {b for _a, b, _o in votes})
        index = {mid: i for i, mid in enumerate(ids)}
        codes = {"model_a": 0, "model_b": 1, "tie": 2, "tie_bothbad": 3}
        counts = PairCounts.from_battles(np.array([index[a] for a, _b, _o in votes]),
                                         np.array([index[b] for _a, b, _o in votes]),
                                         np.array([codes[o] for *_ab, o in votes]), len(ids))
        board = leaderboard([models[i].name for i in ids], counts, bootstrap_rounds=200, seed=0, min_votes=1)
        by_name = {m.name: m for m in models.values()}
        return {"voter_votes": len(votes), "needed": PERSONAL_MIN_VOTES,
                "rows": [_row_json(r, by_name[r.model], 0) for r in board.rows]}

    def recount(self) -> int:
        """Rebuild every pair count from the votes table (repair tool; the live path never needs it)."""
        with write_session(self._sessions) as session:
            return repo.rebuild_pair_counts(session)


def _params_hash(counts_digest: str, params: BoardParams) -> str:
    return hashlib.sha256(f"{counts_digest}|{_canonical(asdict(params))}|{__version__}".encode()).hexdigest()
