"""Queries of the battle hot path in Core SQL: create a battle, read what a turn needs, store a finished turn.

A burst of battles runs on one process, and the ORM's unit of work and selectin loaders cost it more CPU than
the rows themselves (a py-spy profile of 200 battles at once: loading the turn context through the ORM 16%
of the app's CPU, persisting the outputs 13%). These read plain rows in one joined SELECT and write with a
few fixed statements, all in the caller's transaction; the statements are built once at import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from arena.db.core_tables import BATTLE_AND_MODELS, BATTLES, MODEL_A, MODEL_B, OUTPUTS, TURNS, VOTERS
from arena.db.vote_queries import plausible_id
from arena.domain import BattleStatus

# The battle, both models' names, and a row per (turn, output) - a turn without outputs yet gives one row.
_TURN_CONTEXT = (
    select(
        BATTLES.c.id, BATTLES.c.arena, BATTLES.c.status, BATTLES.c.routing,
        MODEL_A.c.name.label("a_name"), MODEL_B.c.name.label("b_name"),
        TURNS.c.id.label("turn_id"), TURNS.c.idx, TURNS.c.prompt, OUTPUTS.c.side, OUTPUTS.c.text,
    )
    .select_from(
        BATTLE_AND_MODELS.outerjoin(TURNS, TURNS.c.battle_id == BATTLES.c.id)
        .outerjoin(OUTPUTS, OUTPUTS.c.turn_id == TURNS.c.id)
    )
    .where(BATTLES.c.id == bindparam("battle_id"))
    .order_by(TURNS.c.idx, OUTPUTS.c.side)
)
_VOTER_ONCE = {
    "sqlite": sqlite.insert(VOTERS).on_conflict_do_nothing(index_elements=["id"]),
    "postgresql": postgresql.insert(VOTERS).on_conflict_do_nothing(index_elements=["id"]),
}
_INSERT_BATTLE = insert(BATTLES)
_INSERT_TURN = insert(TURNS)
_INSERT_OUTPUTS = insert(OUTPUTS)


def _set_status_at(column: str) -> Any:
    """The battle's status and one of its timestamps (`b_id`, `b_status`, `b_at`)."""
    return update(BATTLES).where(BATTLES.c.id == bindparam("b_id")).values(
        {"status": bindparam("b_status"), column: bindparam("b_at")})


# A ready turn moves ready_at (ended_at stays unset); a failed turn ends the battle and ready_at keeps the last
# good turn's time.
_SET_READY = _set_status_at("ready_at")
_SET_ENDED = _set_status_at("ended_at")


@dataclass(frozen=True, slots=True)
class TurnRow:
    """One turn of a battle: its row id, index, prompt and the answers stored for it so far, by side."""

    id: int
    idx: int
    prompt: str
    answers: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class BattleTurns:
    """What generating a turn needs of a battle: its facts, both models' names and its turns in order."""

    id: str
    arena: str
    status: str
    routing: dict[str, Any]
    model_a: str
    model_b: str
    turns: tuple[TurnRow, ...]


def battle_turns(conn: Connection, battle_id: str) -> BattleTurns | None:
    """The battle with its turns and their answers, or None when there is no such battle."""
    if not plausible_id(battle_id):
        return None
    rows = conn.execute(_TURN_CONTEXT, {"battle_id": battle_id}).all()
    if not rows:
        return None
    turns: list[tuple[int, int, str, dict[str, str]]] = []  # (id, idx, prompt, answers) in turn order
    for row in rows:
        if row.turn_id is None:
            continue
        if not turns or turns[-1][0] != row.turn_id:
            turns.append((row.turn_id, row.idx, row.prompt, {}))
        if row.side is not None:
            turns[-1][3][row.side] = row.text
    first = rows[0]
    return BattleTurns(first.id, first.arena, first.status, dict(first.routing or {}), first.a_name, first.b_name,
                       tuple(TurnRow(*turn) for turn in turns))


def create_battle(conn: Connection, battle: Mapping[str, Any], prompt: str, now: datetime) -> None:
    """Store a new battle (its voter row created on first sight) with its first turn."""
    conn.execute(_VOTER_ONCE[conn.dialect.name], {"id": battle["voter_id"], "created_at": now})
    conn.execute(_INSERT_BATTLE, {"created_at": now, **battle})
    conn.execute(_INSERT_TURN, {"battle_id": battle["id"], "idx": 0, "prompt": prompt, "created_at": now})


def save_turn(conn: Connection, battle_id: str, outputs: Sequence[Mapping[str, Any]], status: BattleStatus,
              now: datetime) -> None:
    """Store both sides' outputs of a turn (one INSERT) and move the battle to `status` (ready or failed)."""
    conn.execute(_INSERT_OUTPUTS, [{"created_at": now, "listened_s": 0.0, **row} for row in outputs])
    conn.execute(_SET_READY if status == BattleStatus.READY else _SET_ENDED,
                 {"b_id": battle_id, "b_status": status.value, "b_at": now})
