"""Votes: exactly one per battle, owner only, idempotent repeats, counts in the same transaction (AC-09..15)."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import event, func, select

from arena.db.schema import Battle, Output, PairCount, Vote
from arena.errors import ConflictError, ForbiddenError, NotFoundError, StorageError, ValidationError
from tests.services.helpers import DEAD_MODEL, VOTER_1, VOTER_2, ready_battle


def _votes(services: Any, battle_id: str) -> list[Vote]:
    with services.sessions() as s:
        return list(s.scalars(select(Vote).where(Vote.battle_id == battle_id)))


def _count_total(services: Any, category: str = "overall") -> dict[str, int]:
    with services.sessions() as s:
        rows = s.scalars(select(PairCount).where(PairCount.category == category)).all()
        return {k: sum(getattr(r, k) for r in rows) for k in ("wins_lo", "wins_hi", "ties", "bothbad")}


def test_ac09_one_vote_per_battle_owner_only(make_services: Any) -> None:
    services = make_services()
    view = ready_battle(services)
    assert view.votable
    reveal = services.votes.vote(view.battle_id, "model_a", VOTER_1)
    assert reveal.model_a and reveal.model_b and reveal.counted
    with pytest.raises(ConflictError, match="already has your vote"):
        services.votes.vote(view.battle_id, "model_b", VOTER_1)
    with pytest.raises(ForbiddenError):
        services.votes.vote(view.battle_id, "model_b", VOTER_2)
    rows = _votes(services, view.battle_id)
    assert [(v.outcome, v.voter_id) for v in rows] == [("model_a", VOTER_1)]
    totals = _count_total(services)
    assert sum(totals.values()) == 1 and totals["ties"] == totals["bothbad"] == 0
    board = services.leaderboard.board("text")
    assert sum(r["votes"] for r in board["rows"]) == 2  # one battle, two participants


def test_ac10_repeated_and_parallel_identical_votes_store_one(make_services: Any) -> None:
    services = make_services()
    view = ready_battle(services)
    first = services.votes.vote(view.battle_id, "model_b", VOTER_1, client_token="t1")
    time.sleep(0.03)
    again = services.votes.vote(view.battle_id, "model_b", VOTER_1, client_token="t1")
    assert again == first
    other = ready_battle(services)
    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(lambda _i: services.votes.vote(other.battle_id, "tie", VOTER_1, "t2"), range(10)))
    assert len({r.model_a for r in results}) == 1 and all(r.outcome == "tie" for r in results)
    assert len(_votes(services, view.battle_id)) == 1 and len(_votes(services, other.battle_id)) == 1
    assert sum(_count_total(services).values()) == 2


def test_ac10_parallel_identical_votes_on_postgres(pg_url: str, make_services: Any) -> None:
    # On PostgreSQL the losers of the race wait for the battle's row lock and then see it already voted;
    # each must still get the original reveal (idempotent), never a 409.
    services = make_services(database_url=pg_url)
    for round_ in range(5):
        view = ready_battle(services, prompt=f"Tell me about owls, take {round_}")
        with ThreadPoolExecutor(10) as pool:
            results = list(pool.map(lambda _i, b=view.battle_id: services.votes.vote(b, "model_a", VOTER_1, "t3"),
                                    range(10)))
        assert len(set(results)) == 1 and results[0].outcome == "model_a"
        assert len(_votes(services, view.battle_id)) == 1
    assert sum(_count_total(services).values()) == 5


def test_ac11_concurrent_votes_while_board_recomputes(make_services: Any) -> None:
    services = make_services()
    voters = [f"voter-conc-{i:04d}" for i in range(50)]
    battles = [ready_battle(services, voter=v, prompt=f"Tell me about topic {i}") for i, v in enumerate(voters)]
    stop = threading.Event()

    def recompute() -> None:
        while not stop.is_set():
            services.leaderboard.board("text")

    reader = threading.Thread(target=recompute)
    reader.start()
    try:
        with ThreadPoolExecutor(50) as pool:
            results = list(pool.map(lambda bv: services.votes.vote(bv[0].battle_id, "model_a", bv[1]),
                                    zip(battles, voters, strict=True)))
    finally:
        stop.set()
        reader.join()
    assert len(results) == 50
    with services.sessions() as s:
        assert s.scalar(select(func.count(Vote.id))) == 50
    assert sum(_count_total(services).values()) == 50


def test_ac13_failed_write_reveals_nothing_and_retry_stores_once(make_services: Any) -> None:
    services = make_services()
    view = ready_battle(services)

    def read_only(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA query_only=ON")

    event.listen(services.engine, "connect", read_only)
    services.engine.dispose()
    try:
        with pytest.raises(StorageError) as info:
            services.votes.vote(view.battle_id, "model_a", VOTER_1, client_token="c1")
        with services.sessions() as s:  # the drawn pair's names appear nowhere in the error
            battle = s.get(Battle, view.battle_id)
            assert battle is not None
            names = {battle.model_a.name, battle.model_b.name, battle.model_a.display_name or "",
                     battle.model_b.display_name or ""} - {""}
        said = info.value.message + repr(info.value.detail)
        assert not any(name in said for name in names), said
    finally:
        event.remove(services.engine, "connect", read_only)
        services.engine.dispose()
    assert _votes(services, view.battle_id) == []
    reveal = services.votes.vote(view.battle_id, "model_a", VOTER_1, client_token="c1")
    assert reveal.model_a
    assert len(_votes(services, view.battle_id)) == 1


def test_ac15_no_second_vote_or_follow_up_after_reveal(make_services: Any) -> None:
    services = make_services()
    view = ready_battle(services)
    services.votes.vote(view.battle_id, "model_a", VOTER_1)
    with pytest.raises(ConflictError, match="over"):
        asyncio.run(services.battles.follow_up(view.battle_id, "prompt 2", VOTER_1))
    with pytest.raises(ConflictError):
        services.votes.vote(view.battle_id, "model_b", VOTER_1)
    assert [v.outcome for v in _votes(services, view.battle_id)] == ["model_a"]
    assert sum(_count_total(services).values()) == 1


def test_failed_battle_cannot_be_voted(make_services: Any) -> None:
    services = make_services(models=(DEAD_MODEL,), include_builtin_models=True)
    view = ready_battle(services, models=("dead-model", "ngram-storyteller"))
    assert not view.votable and view.status.value == "failed"
    assert view.a.error_code == "connection" and "could not be reached" in (view.a.error or "")
    with services.sessions() as s:
        stored = s.scalars(select(Output).where(Output.side == "a")).one()
        assert stored.error_code == "connection" and "127.0.0.1:9" in (stored.error_message or "")
    with pytest.raises(ConflictError, match="failed"):
        services.votes.vote(view.battle_id, "model_b", VOTER_1)
    assert _votes(services, view.battle_id) == []


def test_bad_outcome_unknown_battle_and_named_votes(make_services: Any) -> None:
    services = make_services()
    view = ready_battle(services)
    with pytest.raises(ValidationError, match="unknown outcome 'A-model-name'"):
        services.votes.vote(view.battle_id, "A-model-name", VOTER_1)
    with pytest.raises(NotFoundError):
        services.votes.vote("0" * 32, "model_a", VOTER_1)
    named = ready_battle(services, models=("ngram-storyteller", "wordnet-librarian"))
    reveal = services.votes.vote(named.battle_id, "model_a", VOTER_1)
    assert (reveal.model_a, reveal.counted) == ("ngram-storyteller", False)
    assert sum(_count_total(services).values()) == 0
    with services.sessions() as s:
        battle = s.get(Battle, named.battle_id)
        assert battle is not None and battle.mode == "named" and battle.pair_probability == 1.0


def test_multi_turn_and_regenerate(make_services: Any) -> None:
    services = make_services()
    view = ready_battle(services, prompt="What is a dog?")
    turn = asyncio.run(services.battles.follow_up(view.battle_id, "And a wolf?", VOTER_1))
    second = asyncio.run(services.battles.run_turn(view.battle_id, turn))
    assert second.turn == 1 and second.votable
    started = asyncio.run(services.battles.regenerate(view.battle_id, VOTER_1))
    assert started.battle_id != view.battle_id and started.prompt == "And a wolf?"
    with services.sessions() as s:
        old = s.get(Battle, view.battle_id)
        assert old is not None and old.status == "abandoned"
    with pytest.raises(ConflictError, match="abandoned"):
        services.votes.vote(view.battle_id, "model_a", VOTER_1)
