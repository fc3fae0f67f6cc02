"""The battle hot path in Core (arena.db.battle_queries): creating, reading a turn's context and storing a turn,
on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from arena.db import battle_queries
from arena.db.engine import bound_engine, write_session
from arena.db.schema import Battle, Output, Voter, utcnow
from arena.domain import BattleStatus, Message
from arena.errors import ConflictError, NotFoundError
from tests.services.helpers import VOTER_1, ready_battle


@pytest.fixture(params=["sqlite", "postgres"])
def services(request: pytest.FixtureRequest, make_services: Any) -> Any:
    """Services on SQLite, then on a throwaway PostgreSQL database."""
    if request.param == "sqlite":
        return make_services()
    return make_services(database_url=request.getfixturevalue("pg_url"))


def test_each_side_sees_its_own_earlier_answers(services: Any) -> None:
    first = ready_battle(services, prompt="What is a dog?")
    turn = asyncio.run(services.battles.follow_up(first.battle_id, "And a wolf?", VOTER_1))
    ctx = services.battles._context(first.battle_id, turn)
    for request, side in zip(ctx.requests, (first.a, first.b), strict=True):
        assert request.messages == (Message("user", "What is a dog?"), Message("assistant", side.text),
                                    Message("user", "And a wolf?"))
    assert (ctx.turn, ctx.prompt) == (1, "And a wolf?")
    with bound_engine(services.sessions).connect() as conn:
        battle = battle_queries.battle_turns(conn, first.battle_id)
    assert battle is not None and [t.idx for t in battle.turns] == [0, 1]
    assert dict(battle.turns[0].answers) == {"a": first.a.text, "b": first.b.text} and not battle.turns[1].answers
    with pytest.raises(ConflictError, match="already generated"):  # the first turn has its answers
        services.battles._context(first.battle_id, 0)
    with pytest.raises(ConflictError, match="not waiting"):  # no third turn yet
        services.battles._context(first.battle_id, 2)


def test_missing_battles_and_generated_turns_are_refused(services: Any) -> None:
    with pytest.raises(NotFoundError):
        services.battles._context("0" * 32, 0)
    with bound_engine(services.sessions).connect() as conn:
        assert battle_queries.battle_turns(conn, "x" * 100) is None  # an id that cannot exist is not looked up
    view = ready_battle(services)
    with write_session(services.sessions) as session:  # as if a second run of the same turn had started
        session.execute(Battle.__table__.update().where(Battle.id == view.battle_id).values(status="generating"))
    with pytest.raises(ConflictError, match="already generated"):
        services.battles._context(view.battle_id, 0)


def test_a_failed_turn_keeps_the_last_ready_time_and_voters_are_created_once(services: Any) -> None:
    first = ready_battle(services, prompt="What is a dog?")
    second = ready_battle(services, prompt="What is a cat?")  # the same voter again
    with services.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Voter).where(Voter.id == VOTER_1)) == 1
        ready_at = s.get(Battle, first.battle_id).ready_at  # type: ignore[union-attr]
        assert ready_at is not None and s.get(Battle, second.battle_id) is not None
    turn = asyncio.run(services.battles.follow_up(first.battle_id, "And a wolf?", VOTER_1))
    ctx = services.battles._context(first.battle_id, turn)
    rows = [{"turn_id": ctx.turn_id, "side": side, "model_id": services.models.model_id(spec.name), "text": "",
             "error_code": "timeout", "error_message": "too slow", "style": {}, "citations": [], "trace": []}
            for side, spec in zip("ab", ctx.specs, strict=True)]
    with write_session(services.sessions) as session:
        battle_queries.save_turn(session.connection(), first.battle_id, rows, BattleStatus.FAILED, utcnow())
    with services.sessions() as s:
        battle = s.get(Battle, first.battle_id)
        assert battle is not None and battle.status == "failed" and battle.ended_at is not None
        assert battle.ready_at == ready_at
        stored = s.scalars(select(Output).where(Output.turn_id == ctx.turn_id).order_by(Output.side)).all()
        assert [(o.side, o.error_code, o.listened_s) for o in stored] == [("a", "timeout", 0.0), ("b", "timeout", 0.0)]
        assert all(o.created_at is not None for o in stored)
