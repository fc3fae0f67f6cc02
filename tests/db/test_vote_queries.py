"""The vote's writes (record_vote: one CTE on PostgreSQL, three statements on SQLite) and the PostgreSQL pool's
checkout check, on both backends where both apply."""

from __future__ import annotations

import os
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import IntegrityError

from arena.db import vote_queries
from arena.db.engine import write_connection
from arena.db.schema import Battle, PairCount, Vote, utcnow
from arena.domain import Outcome
from tests.services.helpers import VOTER_1, ready_battle

CODING_PROMPT = "Write a Python function that returns the n-th Fibonacci number"


@pytest.fixture(params=["sqlite", "postgres"])
def services(request: pytest.FixtureRequest, make_services: Any) -> Any:
    """Services on SQLite, then on a throwaway PostgreSQL database."""
    if request.param == "sqlite":
        return make_services()
    return make_services(database_url=request.getfixturevalue("pg_url"))


def _cells(services: Any) -> dict[tuple[str, int, int], tuple[int, int, int, int]]:
    with services.sessions() as s:
        return {(c.category, c.lo_id, c.hi_id): (c.wins_lo, c.wins_hi, c.ties, c.bothbad)
                for c in s.scalars(select(PairCount))}


def test_counted_vote_writes_vote_status_and_every_cell_once(services: Any) -> None:
    view = ready_battle(services, prompt=CODING_PROMPT)
    reveal = services.votes.vote(view.battle_id, "model_b", VOTER_1, client_token="tok-1")
    assert reveal.counted
    with services.sessions() as s:
        battle = s.get(Battle, view.battle_id)
        vote = s.scalars(select(Vote).where(Vote.battle_id == view.battle_id)).one()
        assert battle is not None and battle.status == "voted" and battle.ended_at is not None
        assert (vote.voter_id, vote.outcome, vote.counted, vote.client_token) == (VOTER_1, "model_b", True, "tok-1")
        assert vote.flags == [] and "coding" in vote.categories and "overall" in vote.categories
        a_id, b_id = battle.model_a_id, battle.model_b_id
    lo, hi = sorted((a_id, b_id))
    win = (0, 1, 0, 0) if b_id == hi else (1, 0, 0, 0)  # model_b won: the cell of whichever id it has
    assert _cells(services) == {(cat, lo, hi): win for cat in vote.categories}

    second = ready_battle(services, prompt=CODING_PROMPT)
    services.votes.vote(second.battle_id, "tie_bothbad", VOTER_1)
    with services.sessions() as s:
        pair = s.get(Battle, second.battle_id)
        assert pair is not None
    cells = _cells(services)
    key = ("overall", *sorted((pair.model_a_id, pair.model_b_id)))
    assert cells[key][3] == 1  # bothbad added to whatever the cell held
    assert sum(sum(v) for k, v in cells.items() if k[0] == "overall") == 2


def test_uncounted_vote_touches_no_cell(services: Any) -> None:
    named = ready_battle(services, models=("ngram-storyteller", "wordnet-librarian"))
    reveal = services.votes.vote(named.battle_id, "tie", VOTER_1)
    assert not reveal.counted
    assert _cells(services) == {}
    with services.sessions() as s:
        battle = s.get(Battle, named.battle_id)
        assert battle is not None and battle.status == "voted"


def test_second_record_of_a_vote_fails_whole_and_writes_nothing(services: Any) -> None:
    view = ready_battle(services)
    with services.sessions() as s:
        battle = s.get(Battle, view.battle_id)
        assert battle is not None
        a_id, b_id = battle.model_a_id, battle.model_b_id

    def record(outcome: Outcome) -> None:
        values = {"battle_id": view.battle_id, "voter_id": VOTER_1, "outcome": outcome.value,
                  "mode": "anonymous", "seconds_to_vote": 1.0, "client_token": None, "counted": True,
                  "flags": [], "categories": ["overall", "overall", "lang:en"], "created_at": utcnow()}
        with write_connection(services.sessions) as conn:
            vote_queries.record_vote(conn, values, "text", a_id, b_id)

    record(Outcome.MODEL_A)
    before = _cells(services)
    assert sorted(k[0] for k in before) == ["lang:en", "overall"]  # a repeated category counts once
    with pytest.raises(IntegrityError):
        record(Outcome.MODEL_B)
    assert _cells(services) == before
    with services.sessions() as s:
        assert [v.outcome for v in s.scalars(select(Vote))] == ["model_a"]


def test_pool_replaces_a_connection_the_server_closed(pg_url: str, make_services: Any) -> None:
    services = make_services(database_url=pg_url)
    engine = services.engine
    with engine.connect() as first, engine.connect() as second:  # two pooled connections
        victim = first.execute(text("SELECT pg_backend_pid()")).scalar_one()
        second.execute(text("SELECT 1"))
    admin = create_engine(pg_url)
    try:
        with admin.connect() as conn:  # the server ends one of them while it sits idle in the pool
            conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": victim})
    finally:
        admin.dispose()
    for _ in range(3):  # whichever pooled connection comes back works, and the dead one never does
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != victim


def test_checkout_check_works_past_descriptor_1024(pg_url: str, make_services: Any) -> None:
    services = make_services(database_url=pg_url)
    engine = services.engine
    engine.dispose()
    spare = [os.dup(0) for _ in range(1100)]  # a busy server (1,024 outbound HTTP connections) gets there
    try:
        with engine.connect() as conn:
            fd = conn.connection.dbapi_connection.fileno()  # type: ignore[union-attr]
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        assert fd > 1024
        with engine.connect() as conn:  # checked at checkout, and kept: it is alive
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == pid
    finally:
        for descriptor in spare:
            os.close(descriptor)
        engine.dispose()
