"""Live board: from maintained counts, deterministic bytes, deprecation (AC-08), style control, personal board."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

from arena.db import repo
from arena.db.schema import PairCount
from tests.services.seed import ready_battles

A, B, C = "ngram-storyteller", "wordnet-librarian", "tiny-transformer"


def _vote_many(services: Any, voter: str, plan: list[tuple[str, str, str]]) -> None:
    ids = ready_battles(services, [(a, b) for a, b, _o in plan], voter)
    for battle_id, (_a, _b, outcome) in zip(ids, plan, strict=True):
        services.votes.vote(battle_id, outcome, voter)


def _ratings(board: dict[str, Any]) -> dict[str, float]:
    return {r["model"]: r["rating"] for r in board["rows"]}


def test_known_answer_deterministic_and_recount(make_services: Any) -> None:
    services = make_services()
    # AC-02 shape through the whole stack: A beats B 3-1, B beats C 3-1 -> gaps of 400*log10(3).
    plan = [(A, B, "model_a")] * 3 + [(B, A, "model_a")] + [(B, C, "model_a")] * 3 + [(C, B, "model_a")]
    _vote_many(services, "voter-known-0001", plan)
    board = services.leaderboard.board("text")
    ratings = _ratings(board)
    assert ratings[A] == pytest.approx(1190.85, abs=0.01)
    assert ratings[B] == pytest.approx(1000.00, abs=0.01)
    assert ratings[C] == pytest.approx(809.15, abs=0.01)
    again = services.leaderboard.board("text")
    assert again["manifest"]["payload_sha256"] == board["manifest"]["payload_sha256"]
    assert {"vote_set_hash", "code_version", "method", "params", "seed", "created_at"} <= set(board["manifest"])
    with services.sessions() as s:
        before = sorted((r.category, r.lo_id, r.hi_id, r.wins_lo, r.wins_hi) for r in s.scalars(select(PairCount)))
    assert services.leaderboard.recount() == 8
    with services.sessions() as s:
        after = sorted((r.category, r.lo_id, r.hi_id, r.wins_lo, r.wins_hi) for r in s.scalars(select(PairCount)))
    assert after == before


def test_ac08_retiring_a_model_hides_it_but_keeps_its_battles(make_services: Any) -> None:
    services = make_services(models=(
        {"name": "A", "provider": "builtin_ngram"}, {"name": "B", "provider": "builtin_ngram"},
        {"name": "C", "provider": "builtin_ngram"}, {"name": "D", "provider": "builtin_ngram"}))
    plan = ([("A", "D", "model_a")] * 6 + [("A", "D", "model_b")] * 4 + [("D", "B", "model_a")] * 5
            + [("D", "B", "model_b")] * 5 + [("B", "C", "model_a")] * 7 + [("B", "C", "model_b")] * 3)
    _vote_many(services, "voter-ac08-0001", plan)
    full = _ratings(services.leaderboard.board("text"))
    assert full == pytest.approx({"A": 1089.63, "B": 1019.19, "C": 872.00, "D": 1019.19}, abs=0.01)
    services.models.set_status("D", "retired", "AC-08")
    after = _ratings(services.leaderboard.board("text"))
    assert "D" not in after
    assert after == pytest.approx({"A": 1089.63, "B": 1019.19, "C": 872.00}, abs=0.01)
    with services.sessions() as s:  # the change log records the deprecation
        events = [(e.event, e.note) for e in repo.model_events(s, services.models.model_id("D"))]
    assert events[-1] == ("retired", "AC-08")


def test_style_control_and_personal_board(make_services: Any) -> None:
    services = make_services()
    rng = np.random.default_rng(3)
    plan = []
    for _ in range(40):
        a, b = rng.choice([A, B, C], size=2, replace=False)
        plan.append((str(a), str(b), "model_a" if rng.random() < 0.6 else "model_b"))
    _vote_many(services, "voter-style-0001", plan)
    styled = services.leaderboard.board("text", method="style")
    assert {r["model"] for r in styled["rows"]} == {A, B, C}
    assert all("raw_rating" in r for r in styled["rows"]) and styled["coef"][0]["feature"] == "tokens"
    personal = services.leaderboard.personal("voter-style-0001", "text")
    assert personal["voter_votes"] == 40 and len(personal["rows"]) == 3
    assert services.leaderboard.personal("nobody-voter-01", "text")["rows"] == []


def test_recount_matches_maintained_counts_on_postgres(pg_url: str, make_services: Any) -> None:
    services = make_services(database_url=pg_url)
    plan = [(A, B, "model_a")] * 3 + [(B, A, "tie")] + [(B, C, "tie_bothbad")] * 2 + [(C, A, "model_b")]
    _vote_many(services, "voter-recount-0001", plan)
    with services.sessions() as s:
        before = sorted((r.category, r.lo_id, r.hi_id, r.wins_lo, r.wins_hi, r.ties, r.bothbad)
                        for r in s.scalars(select(PairCount)))
    assert services.leaderboard.recount() == len(plan)
    with services.sessions() as s:
        after = sorted((r.category, r.lo_id, r.hi_id, r.wins_lo, r.wins_hi, r.ties, r.bothbad)
                       for r in s.scalars(select(PairCount)))
    assert after == before and sum(r[3] + r[4] + r[5] + r[6] for r in after if r[0] == "overall") == len(plan)
