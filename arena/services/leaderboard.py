"""Maintained pair counts -> rating -> stored snapshot with a manifest (same votes, same bytes)."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

import rating
from arena import __version__
from arena.catalog import Catalog
from arena.categories import OVERALL
from arena.config import LeaderboardSettings
from arena.db import repo
from arena.db.engine import write_session
from arena.db.schema import LeaderboardSnapshot, Model, PairCount
from arena.errors import ValidationError
from rating.data import PairCounts

log = logging.getLogger(__name__)

METHODS = ("bt",)
TIES = ("half", "drop-bothbad", "davidson")


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


def counts_to_arrays(rows: list[PairCount]) -> tuple[list[int], PairCounts]:
    """Integer-index the models that appear in the counts (sorted by id) and build PairCounts."""
    ids = sorted({r.lo_id for r in rows} | {r.hi_id for r in rows})
    index = {model_id: i for i, model_id in enumerate(ids)}
    pairs = np.array([[index[r.lo_id], index[r.hi_id]] for r in rows], dtype=np.int64).reshape(-1, 2)
    cells = np.array([[r.wins_lo, r.wins_hi, r.ties, r.bothbad] for r in rows], dtype=np.float64).reshape(-1, 4)
    return ids, PairCounts(n_models=len(ids), pairs=pairs, counts=cells)


def _canonical(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class LeaderboardService:
    """Computes boards from the maintained counts; a cheap hash check decides whether to recompute."""

    def __init__(self, *, sessions: sessionmaker[Session], catalog: Catalog, settings: LeaderboardSettings) -> None:
        self._sessions = sessions
        self._catalog = catalog
        self._settings = settings
        self._lock = threading.Lock()

    def params(self, method: str = "bt", ties: str = "half") -> BoardParams:
        """The board parameters from settings, validated."""
        if method not in METHODS:
            raise ValidationError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
        if ties not in TIES:
            raise ValidationError(f"unknown tie policy {ties!r}; use one of {', '.join(TIES)}")
        s = self._settings
        return BoardParams(method, ties, s.bootstrap_rounds, s.seed, s.anchor_model, s.anchor_rating,
                           s.min_votes, s.provisional_votes)

    def mark_dirty(self, arena: str) -> None:
        """Called after a counted vote; boards are recomputed lazily when their counts hash changed."""
        log.debug("board %s has new votes", arena)

    def refresh_all(self) -> int:
        """Recompute every board whose counts changed (the scheduled job); returns how many boards exist."""
        with self._sessions() as session:
            boards = [(arena, cat) for arena in ("text", "search", "image", "music")
                      for cat in repo.categories(session, arena)]
        for arena, category in boards:
            self.board(arena, category)
        return len(boards)

    def board(self, arena: str, category: str = OVERALL, method: str = "bt") -> dict[str, Any]:
        """The current board (from the stored snapshot when the counts have not changed)."""
        params = self.params(method)
        with self._sessions() as session:
            rows = repo.pair_counts(session, arena, category)
            digest = _params_hash(repo.counts_hash(rows), params)
            snapshot = repo.latest_snapshot(session, arena, category, method)
            if snapshot is not None and snapshot.vote_set_hash == digest:
                return {**json.loads(snapshot.payload), "manifest": snapshot.manifest}
            models = {m.id: m for m in repo.list_models(session)}
        with self._lock:
            payload = self._compute(arena, category, params, rows, models)
            text = _canonical(payload)
            manifest = {
                "vote_set_hash": repo.counts_hash(rows),
                "board_hash": digest,
                "payload_sha256": hashlib.sha256(text.encode()).hexdigest(),
                "code_version": __version__,
                "method": method,
                "params": asdict(params),
                "seed": params.seed,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            with write_session(self._sessions) as session:
                repo.insert_snapshot(session, LeaderboardSnapshot(
                    arena=arena, category=category, method=method, vote_set_hash=digest,
                    payload_sha256=manifest["payload_sha256"], manifest=manifest, payload=text))
        return {**payload, "manifest": manifest}

    def _compute(self, arena: str, category: str, params: BoardParams, rows: list[PairCount],
                 models: dict[int, Model]) -> dict[str, Any]:
        ids, counts = counts_to_arrays(rows)
        base = {"arena": arena, "category": category, "method": params.method, "ties": params.ties,
                "total_votes": int(counts.counts.sum()), "rows": [], "components": 0}
        if counts.n_models < 2:
            return base
        anchor = None
        if params.anchor_model:
            anchor_ids = [i for i, mid in enumerate(ids) if models[mid].name == params.anchor_model]
            anchor = (anchor_ids[0], params.anchor_rating) if anchor_ids else None
        report = rating.rate(counts, ties=params.ties, bootstrap_rounds=params.bootstrap_rounds,
                             seed=params.seed, anchor=anchor)
        out = []
        for i, model_id in enumerate(ids):
            model = models[model_id]
            votes = int(report.votes[i])
            if model.status == "retired" or votes < params.min_votes:
                continue
            out.append({
                "model": model.name,
                "label": model.display_name or model.name,
                "organization": model.organization,
                "license": model.license,
                "rank_ub": int(report.rank_ub[i]),
                "rating": round(float(report.rating[i]), 4),
                "ci_low": round(float(report.ci_low[i]), 4),
                "ci_high": round(float(report.ci_high[i]), 4),
                "votes": votes,
                "provisional": bool(report.provisional[i]) or votes < params.provisional_votes,
                "component": int(report.component[i]),
            })
        out.sort(key=lambda r: (r["component"], r["rank_ub"], -r["rating"], r["model"]))
        return {**base, "rows": out, "components": int(report.n_components)}


def _params_hash(counts_digest: str, params: BoardParams) -> str:
    return hashlib.sha256(f"{counts_digest}|{_canonical(asdict(params))}|{__version__}".encode()).hexdigest()
