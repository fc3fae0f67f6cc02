"""Queries of the vote path: the battle facts a vote needs, the vote row, status and pair counts, in Core SQL.

A vote is the hottest write Arena has (a burst of voters on one process), so this path reads plain rows
instead of ORM objects: one joined SELECT for the battle, both models, its prompts and any earlier vote,
then the INSERT, the UPDATE and the upsert of the counts, all in the caller's transaction. The statements
are built once at import (SQLAlchemy statements are immutable) and take their values as bound parameters.

On PostgreSQL the three writes are one statement (`record_vote`: data-modifying CTEs), one round trip
instead of three: each statement costs the app's one busy core about 0.12 ms of driver CPU plus
SQLAlchemy's own, and the vote path is CPU-bound there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Connection, bindparam, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from arena.db.core_tables import BATTLE_AND_MODELS, BATTLES, MODEL_A, MODEL_B, PAIR_COUNTS, TURNS, VOTES
from arena.domain import BattleStatus, Outcome
from arena.errors import StorageError

# One round trip: the battle, both models, its turns' prompts (a row per turn) and its vote if it has one.
_TARGET = (
    select(
        BATTLES.c.id, BATTLES.c.arena, BATTLES.c.mode, BATTLES.c.voter_id, BATTLES.c.status,
        BATTLES.c.flags, BATTLES.c.routing, BATTLES.c.ready_at, BATTLES.c.model_a_id, BATTLES.c.model_b_id,
        MODEL_A.c.name.label("a_name"), MODEL_A.c.display_name.label("a_label"),
        MODEL_B.c.name.label("b_name"), MODEL_B.c.display_name.label("b_label"), TURNS.c.prompt,
        VOTES.c.voter_id.label("vote_voter_id"), VOTES.c.outcome.label("vote_outcome"),
        VOTES.c.counted.label("vote_counted"), VOTES.c.flags.label("vote_flags"),
    )
    .select_from(
        BATTLE_AND_MODELS.outerjoin(TURNS, TURNS.c.battle_id == BATTLES.c.id)
        .outerjoin(VOTES, VOTES.c.battle_id == BATTLES.c.id)
    )
    .where(BATTLES.c.id == bindparam("battle_id"))
    .order_by(TURNS.c.idx)
)
_TARGET_FOR_UPDATE = _TARGET.with_for_update(of=BATTLES)  # PostgreSQL locks the battle row only
_VOTE_OF = select(VOTES.c.voter_id, VOTES.c.outcome, VOTES.c.counted, VOTES.c.flags).where(
    VOTES.c.battle_id == bindparam("battle_id"))
_INSERT_VOTE = insert(VOTES)
_SET_STATUS = (
    update(BATTLES)
    .where(BATTLES.c.id == bindparam("b_id"))
    .values(status=bindparam("b_status"), ended_at=bindparam("b_ended_at"))
)
OUTCOME_COLUMN = {
    (Outcome.MODEL_A, True): "wins_lo",
    (Outcome.MODEL_A, False): "wins_hi",
    (Outcome.MODEL_B, True): "wins_hi",
    (Outcome.MODEL_B, False): "wins_lo",
    (Outcome.TIE, True): "ties",
    (Outcome.TIE, False): "ties",
    (Outcome.TIE_BOTHBAD, True): "bothbad",
    (Outcome.TIE_BOTHBAD, False): "bothbad",
}
COUNT_COLUMNS = ("wins_lo", "wins_hi", "ties", "bothbad")


def count_cell(a_id: int, b_id: int, outcome: Outcome) -> tuple[int, int, str]:
    """(lo_id, hi_id, column): the pair_counts cell a vote of `outcome` between models a and b adds to."""
    lo, hi = (a_id, b_id) if a_id < b_id else (b_id, a_id)
    return lo, hi, OUTCOME_COLUMN[(outcome, a_id == lo)]


def _bump_statement(dialect: Any, column: str) -> Any:
    stmt = dialect.insert(PAIR_COUNTS)
    return stmt.on_conflict_do_update(
        index_elements=["arena", "category", "lo_id", "hi_id"],
        set_={column: PAIR_COUNTS.c[column] + stmt.excluded[column]},
    )


_BUMPS = {
    (name, column): _bump_statement(dialect, column)
    for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))
    for column in COUNT_COLUMNS
}


@dataclass(frozen=True, slots=True)
class VoteTarget:
    """What the vote path needs of one battle: its facts, both models' names, and its prompts."""

    id: str
    arena: str
    mode: str
    voter_id: str
    status: str
    flags: tuple[str, ...]
    routing: dict[str, Any]
    ready_at: datetime | None
    model_a_id: int
    model_b_id: int
    model_a: str
    model_b: str
    model_a_label: str
    model_b_label: str
    prompts: tuple[str, ...]
    vote: CastVote | None


@dataclass(frozen=True, slots=True)
class CastVote:
    """The vote a battle already has."""

    voter_id: str
    outcome: str
    counted: bool
    flags: tuple[str, ...]


def plausible_id(value: str) -> bool:
    """Ids are short printable strings; anything else (NUL bytes, huge strings) is simply not found."""
    return 0 < len(value) <= 64 and value.isprintable()


def vote_target(conn: Connection, battle_id: str, *, for_update: bool = False) -> VoteTarget | None:
    """The battle a vote is for, or None when there is no such battle (locked for update on PostgreSQL)."""
    if not plausible_id(battle_id):
        return None
    rows = conn.execute(_TARGET_FOR_UPDATE if for_update else _TARGET, {"battle_id": battle_id}).all()
    if not rows:
        return None
    row = rows[0]
    vote = None
    if row.vote_outcome is not None:
        vote = CastVote(row.vote_voter_id, row.vote_outcome, bool(row.vote_counted), tuple(row.vote_flags or ()))
    return VoteTarget(
        id=row.id, arena=row.arena, mode=row.mode, voter_id=row.voter_id, status=row.status,
        flags=tuple(row.flags or ()), routing=dict(row.routing or {}), ready_at=row.ready_at,
        model_a_id=row.model_a_id, model_b_id=row.model_b_id, model_a=row.a_name, model_b=row.b_name,
        model_a_label=row.a_label or row.a_name, model_b_label=row.b_label or row.b_name,
        prompts=tuple(r.prompt for r in rows if r.prompt is not None), vote=vote,
    )


def vote_of(conn: Connection, battle_id: str) -> CastVote | None:
    """The battle's vote read on its own: after waiting for the battle's row lock, PostgreSQL re-reads the
    locked row but not the rows joined to it, so a vote committed meanwhile is only seen by a new query."""
    row = conn.execute(_VOTE_OF, {"battle_id": battle_id}).one_or_none()
    return None if row is None else CastVote(row.voter_id, row.outcome, bool(row.counted), tuple(row.flags or ()))


def insert_vote(conn: Connection, values: dict[str, Any]) -> None:
    """Insert a vote row; the unique constraint on battle_id rejects a second one (IntegrityError)."""
    conn.execute(_INSERT_VOTE, values)


def close_battle(conn: Connection, battle_id: str, status: BattleStatus, ended_at: datetime) -> None:
    """Move a battle to its final status."""
    conn.execute(_SET_STATUS, {"b_id": battle_id, "b_status": status.value, "b_ended_at": ended_at})


def bump_pair_counts(
    conn: Connection, arena: str, categories: Sequence[str], a_id: int, b_id: int, outcome: Outcome, delta: int = 1
) -> None:
    """Add `delta` to the outcome cell of (arena, category, pair) for every category, in the caller's transaction."""
    if not categories:
        return
    lo, hi, column = count_cell(a_id, b_id, outcome)
    rows = []
    for category in dict.fromkeys(categories):  # each cell once, whatever the caller passed
        row = {"arena": arena, "category": category, "lo_id": lo, "hi_id": hi,
               "wins_lo": 0, "wins_hi": 0, "ties": 0, "bothbad": 0}
        row[column] = delta
        rows.append(row)
    conn.execute(_BUMPS[(conn.dialect.name, column)], rows)


# PostgreSQL: the vote, the battle's new status and the count cells in one statement. Every data-modifying
# CTE runs exactly once and to completion; the UPDATE and the counts key off the vote INSERT's RETURNING, so
# a unique violation on votes.battle_id (a concurrent duplicate) fails the whole statement and writes nothing.
_RECORD_VOTE_PG = text("""
WITH v AS (
    INSERT INTO votes (battle_id, voter_id, outcome, mode, seconds_to_vote, client_token, counted, flags,
                       categories, created_at)
    VALUES (:battle_id, :voter_id, :outcome, :mode, :seconds_to_vote, :client_token, :counted, :flags,
            :categories, :created_at)
    RETURNING battle_id
), b AS (
    UPDATE battles SET status = :b_status, ended_at = :created_at
    WHERE id = (SELECT battle_id FROM v)
    RETURNING id
), c AS (
    INSERT INTO pair_counts (arena, category, lo_id, hi_id, wins_lo, wins_hi, ties, bothbad)
    SELECT :arena, cell.category, :lo_id, :hi_id, :d_wins_lo, :d_wins_hi, :d_ties, :d_bothbad
    FROM unnest(CAST(:cells AS varchar[])) AS cell(category)
    WHERE EXISTS (SELECT 1 FROM v)
    ON CONFLICT (arena, category, lo_id, hi_id) DO UPDATE SET
        wins_lo = pair_counts.wins_lo + excluded.wins_lo, wins_hi = pair_counts.wins_hi + excluded.wins_hi,
        ties = pair_counts.ties + excluded.ties, bothbad = pair_counts.bothbad + excluded.bothbad
    RETURNING 1
)
SELECT (SELECT count(*) FROM b) AS battles, (SELECT count(*) FROM c) AS cells
""").bindparams(bindparam("flags", type_=JSON), bindparam("categories", type_=JSON))


def record_vote(conn: Connection, values: dict[str, Any], arena: str, a_id: int, b_id: int) -> None:
    """Insert the vote (`values`: its columns), close its battle and (when the vote is counted) bump its
    count cells, in the caller's transaction: one statement on PostgreSQL, three elsewhere. A second vote
    on the battle raises IntegrityError and writes nothing."""
    outcome = Outcome(values["outcome"])
    categories: list[str] = list(values["categories"]) if values["counted"] else []
    if conn.dialect.name != "postgresql":
        insert_vote(conn, values)
        close_battle(conn, values["battle_id"], BattleStatus.VOTED, ended_at=values["created_at"])
        bump_pair_counts(conn, arena, categories, a_id, b_id, outcome)
        return
    lo, hi, column = count_cell(a_id, b_id, outcome)
    deltas = dict.fromkeys(COUNT_COLUMNS, 0)
    deltas[column] = 1
    row = conn.execute(_RECORD_VOTE_PG, {
        **values, "b_status": BattleStatus.VOTED.value, "arena": arena, "lo_id": lo, "hi_id": hi,
        "cells": list(dict.fromkeys(categories)),  # each cell once: ON CONFLICT may touch a row only once
        **{f"d_{column}": delta for column, delta in deltas.items()},
    }).one()
    if row.battles != 1:  # cannot happen under the caller's row lock; never leave a vote without its status
        raise StorageError("your vote could not be saved; please try again")
