"""Validate and store a vote (exactly one per battle), update the pair counts, and only then reveal."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from arena.categories import categorize
from arena.db import vote_queries
from arena.db.engine import bound_engine, write_connection
from arena.db.schema import utcnow
from arena.db.vote_queries import CastVote, VoteTarget
from arena.domain import BattleMode, BattleStatus, Outcome
from arena.errors import ConflictError, ForbiddenError, NotFoundError, StorageError, ValidationError
from arena.services.battles import validate_voter
from arena.services.views import Reveal

log = logging.getLogger(__name__)

# A flagger looks at a battle about to be voted on and returns reasons to keep its vote out of the board.
Flagger = Callable[[VoteTarget, Outcome], Sequence[str]]
# A gate raises ConflictError when a battle may not be voted on yet (e.g. music not listened to long enough);
# it runs inside the vote's transaction, with its session.
Gate = Callable[[Connection, VoteTarget], None]


def parse_outcome(value: str) -> Outcome:
    """The outcome, or a ValidationError listing the accepted labels (never mapped to a tie)."""
    try:
        return Outcome(value)
    except ValueError as exc:
        allowed = ", ".join(o.value for o in Outcome)
        raise ValidationError(f"unknown outcome {value!r}; use one of: {allowed}") from exc


@dataclass(frozen=True)
class VoteService:
    """The one write path for votes; the UI and the API both call `vote`."""

    sessions: sessionmaker[Session]
    flaggers: tuple[Flagger, ...] = ()
    gates: tuple[Gate, ...] = ()
    on_counted: Callable[[str], None] = lambda _arena: None

    def vote(self, battle_id: str, outcome: str, voter_id: str, client_token: str | None = None) -> Reveal:
        """Store the vote and return the reveal; idempotent for a repeat of the same vote by the same voter."""
        parsed = parse_outcome(outcome)
        voter_id = validate_voter(voter_id)
        try:
            reveal = self._store(battle_id, parsed, voter_id, client_token)
        except IntegrityError:
            # A concurrent duplicate won the race for the unique battle_id: answer as for a repeat.
            reveal = self._existing(battle_id, parsed, voter_id)
        except OperationalError as exc:
            log.warning("vote on %s could not be stored: %s", battle_id, exc)
            raise StorageError("your vote could not be saved right now; please press the button again") from exc
        except SQLAlchemyError as exc:
            log.exception("vote on %s failed", battle_id)
            raise StorageError("your vote could not be saved; please try again") from exc
        if reveal.counted:
            self.on_counted(reveal.arena)
        return reveal

    def _store(self, battle_id: str, outcome: Outcome, voter_id: str, client_token: str | None) -> Reveal:
        with write_connection(self.sessions) as conn:
            battle = vote_queries.vote_target(conn, battle_id, for_update=True)
            if battle is None:
                raise NotFoundError(f"battle {battle_id!r} not found")
            if battle.voter_id != voter_id:
                raise ForbiddenError("only the voter who started this battle can vote on it")
            vote = battle.vote
            if vote is None and battle.status == BattleStatus.VOTED.value:
                vote = vote_queries.vote_of(conn, battle_id)  # voted by a concurrent request we waited for
            if vote is not None:
                return _repeat(battle, vote, outcome)
            _check_votable(battle)
            for gate in self.gates:
                gate(conn, battle)
            flags = [*battle.flags, *(f for flagger in self.flaggers for f in flagger(battle, outcome))]
            counted = battle.mode == BattleMode.ANONYMOUS.value and not flags
            cats = categorize(battle.prompts, battle.routing.get("board"))
            now = utcnow()
            seconds = None if battle.ready_at is None else max(0.0, (now - _aware(battle.ready_at)).total_seconds())
            vote_queries.record_vote(conn, {
                "battle_id": battle_id, "voter_id": voter_id, "outcome": outcome.value, "mode": battle.mode,
                "seconds_to_vote": seconds, "client_token": client_token, "counted": counted, "flags": flags,
                "categories": cats, "created_at": now,
            }, battle.arena, battle.model_a_id, battle.model_b_id)
            return _reveal(battle, outcome.value, counted, flags)

    def _existing(self, battle_id: str, outcome: Outcome, voter_id: str) -> Reveal:
        with bound_engine(self.sessions).connect() as conn:
            battle = vote_queries.vote_target(conn, battle_id)
        if battle is None or battle.vote is None:
            raise StorageError("your vote could not be saved; please try again")
        if battle.vote.voter_id != voter_id:
            raise ForbiddenError("only the voter who started this battle can vote on it")
        return _repeat(battle, battle.vote, outcome)


def _repeat(battle: VoteTarget, vote: CastVote, outcome: Outcome) -> Reveal:
    if vote.outcome != outcome.value:
        raise ConflictError(
            f"this battle already has your vote ({vote.outcome}); a battle takes exactly one vote",
            detail={"first_vote": vote.outcome},
        )
    return _reveal(battle, vote.outcome, vote.counted, list(vote.flags))


def _check_votable(battle: VoteTarget) -> None:
    if battle.status == BattleStatus.READY.value:
        return
    reasons = {
        BattleStatus.GENERATING.value: "both answers are not finished yet; wait for them, then vote",
        BattleStatus.FAILED.value: "a model failed in this battle, so it cannot be voted on; start a new round",
        BattleStatus.ABANDONED.value: "this battle was abandoned (regenerated); vote on the new one",
    }
    raise ConflictError(reasons.get(battle.status, f"battle status {battle.status} does not take votes"))


def _reveal(battle: VoteTarget, outcome: str, counted: bool, flags: Sequence[str]) -> Reveal:
    return Reveal(
        battle_id=battle.id,
        arena=battle.arena,
        outcome=outcome,
        model_a=battle.model_a,
        model_b=battle.model_b,
        model_a_label=battle.model_a_label,
        model_b_label=battle.model_b_label,
        counted=counted,
        flags=tuple(flags),
    )


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes (stored as UTC); make them comparable with aware ones."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
