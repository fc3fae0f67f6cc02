"""Anomalous voters: scan recent voters, quarantine their votes (kept, never deleted), let maintainers release them."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from arena.categories import OVERALL
from arena.db import repo, vote_queries
from arena.db.engine import write_session
from arena.db.schema import Battle, Vote
from arena.domain import Outcome
from arena.errors import ConflictError, NotFoundError
from arena.integrity.anomaly import AnomalyDetector, VoteRecord, count_pairs, pair_key

log = logging.getLogger(__name__)
QUARANTINED = "quarantined"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class ReviewService:
    """Applies the anomaly detector to voters with new votes and keeps the board's counts consistent."""

    def __init__(self, sessions: sessionmaker[Session], detector: AnomalyDetector, lookback_s: float = 3600.0):
        self._sessions = sessions
        self._detector = detector
        self._lookback = timedelta(seconds=lookback_s)

    def scan(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Assess every voter with counted votes in the look-back window; quarantine the anomalous ones."""
        now = now or datetime.now(UTC)
        with self._sessions() as session:
            recent = repo.voters_with_votes_since(session, now - self._lookback)
        verdicts = []
        for voter_id, arena in recent:
            verdict = self.assess(voter_id, arena)
            if verdict is not None:
                verdicts.append(verdict)
        return verdicts

    def assess(self, voter_id: str, arena: str) -> dict[str, Any] | None:
        """Run the detector on one voter in one arena; quarantine their counted votes when it says so."""
        with self._sessions() as session:
            history = repo.voter_history(session, voter_id, arena)
            counts = {}
            names = repo.model_names(session)
            for r in repo.pair_counts(session, arena, OVERALL):
                lo, hi = names.get(r.lo_id, str(r.lo_id)), names.get(r.hi_id, str(r.hi_id))
                # pair_key orders by name, the table by id: orient the win columns to the name order.
                wins = [r.wins_lo, r.wins_hi] if pair_key(lo, hi) == (lo, hi) else [r.wins_hi, r.wins_lo]
                counts[pair_key(lo, hi)] = [*wins, r.ties, r.bothbad]
        records, held = [], []
        for vote, battle, chars in history:
            if not (vote.counted or QUARANTINED in vote.flags):
                continue
            record = VoteRecord(
                model_a=battle.model_a.name, model_b=battle.model_b.name, outcome=Outcome(vote.outcome),
                voted_at=_aware(vote.created_at).timestamp(),
                ready_at=_aware(battle.ready_at).timestamp() if battle.ready_at else None, text_chars=chars,
            )
            records.append(record)
            if not vote.counted:
                held.append(record)
        # Quarantined votes stay in the evidence but left the counts: add them back, so that the detector's
        # "counts include this voter's votes" holds and a re-scan sees the same history as the first scan.
        for key, cells in count_pairs(held).items():
            counts[key] = [int(c) + int(d) for c, d in zip(counts.get(key, [0, 0, 0, 0]), cells, strict=True)]
        verdict = self._detector.assess(records, counts, voter_id=voter_id)
        if not verdict.quarantine:
            return None
        reasons = [str(r) for r in verdict.reasons]
        ids = [vote.id for vote, _b, _c in history if vote.counted]
        self.quarantine(ids, reasons)
        log.warning("quarantined %d votes of voter %s in %s: %s", len(ids), voter_id, arena, reasons)
        return {"voter": voter_id, "arena": arena, "reasons": reasons, "votes": len(ids), "message": verdict.message}

    def quarantine(self, vote_ids: Sequence[int], reasons: Sequence[str]) -> int:
        """Take counted votes out of the board (counts decremented in the same transaction)."""
        done = 0
        with write_session(self._sessions) as session:
            for vote_id in vote_ids:
                vote, battle = self._load(session, vote_id)
                if not vote.counted:
                    continue
                vote.counted = False
                vote.flags = [*vote.flags, QUARANTINED, *(f"anomaly:{r}" for r in reasons)]
                vote_queries.bump_pair_counts(session.connection(), battle.arena, vote.categories, battle.model_a_id,
                                              battle.model_b_id, Outcome(vote.outcome), delta=-1)
                done += 1
        return done

    def release(self, vote_id: int) -> dict[str, Any]:
        """A maintainer's decision: count this vote after all (its flags are kept, with the release noted)."""
        with write_session(self._sessions) as session:
            vote, battle = self._load(session, vote_id)
            if vote.counted:
                raise ConflictError(f"vote {vote_id} is already counted")
            if battle.mode != "anonymous":
                raise ConflictError("side-by-side votes never count in the leaderboard")
            vote.counted = True
            vote.flags = [*vote.flags, "released_by_maintainer"]
            vote_queries.bump_pair_counts(session.connection(), battle.arena, vote.categories, battle.model_a_id,
                                          battle.model_b_id, Outcome(vote.outcome), delta=1)
            return {"vote": vote_id, "counted": True, "flags": list(vote.flags)}

    def flagged(self) -> list[dict[str, Any]]:
        """Votes kept out of the board, for the maintainer's review."""
        with self._sessions() as session:
            return [
                {"vote": v.id, "battle": b.id, "arena": b.arena, "voter": v.voter_id, "outcome": v.outcome,
                 "model_a": b.model_a.name, "model_b": b.model_b.name, "flags": list(v.flags),
                 "checks": b.moderation, "at": _aware(v.created_at).isoformat(timespec="seconds")}
                for v, b in repo.flagged_votes(session)
            ]

    @staticmethod
    def _load(session: Session, vote_id: int) -> tuple[Vote, Battle]:
        vote = session.get(Vote, vote_id)
        battle = session.get(Battle, vote.battle_id) if vote else None
        if vote is None or battle is None:
            raise NotFoundError(f"vote {vote_id} not found")
        return vote, battle

