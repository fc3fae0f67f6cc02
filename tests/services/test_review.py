"""Rigging: a one-sided burst from one voter is quarantined and the board returns to its value without it."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from sqlalchemy import select

from arena.db.schema import Vote
from tests.services.seed import ready_battles

MODELS = ("ngram-storyteller", "wordnet-librarian", "tiny-transformer")
STRENGTH = {"ngram-storyteller": 0.0, "wordnet-librarian": 1.0, "tiny-transformer": -1.0}


def _honest_votes(services: Any, rng: np.random.Generator, voters: int, per_voter: int) -> None:
    for v in range(voters):
        voter = f"honest-voter-{v:03d}"
        pairs = []
        for _ in range(per_voter):
            i, j = rng.choice(3, size=2, replace=False)
            pairs.append((MODELS[i], MODELS[j]))
        for (a, b), battle_id in zip(pairs, ready_battles(services, pairs, voter), strict=True):
            p_a = 1 / (1 + np.exp(STRENGTH[b] - STRENGTH[a]))
            outcome = "model_a" if rng.random() < p_a else "model_b"
            services.votes.vote(battle_id, outcome, voter)


def _rows(board: dict[str, Any]) -> list[tuple[str, float, int]]:
    return [(r["model"], r["rating"], r["votes"]) for r in board["rows"]]


def test_one_sided_burst_is_quarantined_and_board_restored(make_services: Any) -> None:
    services = make_services()
    rng = np.random.default_rng(5)
    _honest_votes(services, rng, voters=20, per_voter=15)
    assert services.review.scan() == []  # honest voters are left alone
    before = services.leaderboard.board("text")
    rigger = "rigging-voter-0001"
    pairs = [("tiny-transformer", "wordnet-librarian") if k % 2 else ("wordnet-librarian", "tiny-transformer")
             for k in range(24)]
    for k, battle_id in enumerate(ready_battles(services, pairs, rigger)):
        time.sleep(0.01)
        services.votes.vote(battle_id, "model_a" if k % 2 else "model_b", rigger)  # always the weakest model
    rigged = services.leaderboard.board("text")
    assert _rows(rigged) != _rows(before)
    verdicts = services.review.scan()
    assert [v["voter"] for v in verdicts] == [rigger]
    with services.sessions() as s:
        votes = s.scalars(select(Vote).where(Vote.voter_id == rigger)).all()
    assert len(votes) == 24 and all(not v.counted and "quarantined" in v.flags for v in votes)  # kept, not deleted
    after = services.leaderboard.board("text")
    assert _rows(after) == _rows(before)
    assert after["manifest"]["payload_sha256"] == before["manifest"]["payload_sha256"]
    flagged = services.review.flagged()
    assert len(flagged) == 24
    services.review.release(flagged[0]["vote"])
    assert services.leaderboard.board("text")["total_votes"] == before["total_votes"] + 1


def test_rescan_after_quarantine_sees_the_same_evidence(make_services: Any) -> None:
    # Quarantined votes left the counts but stay in the evidence: a scan must neither crash nor quarantine
    # anything new (the fuzzer found a maintainer quarantine followed by a scan answering 500).
    services = make_services()
    voter = "lonely-voter-0001"
    pair = ("ngram-storyteller", "wordnet-librarian")  # nobody else votes on this pair
    for battle_id in ready_battles(services, [pair] * 3, voter):
        services.votes.vote(battle_id, "model_a", voter)
    with services.sessions() as s:
        ids = list(s.scalars(select(Vote.id).where(Vote.voter_id == voter)))
    assert services.review.quarantine(ids[:2], ["maintainer"]) == 2
    assert services.review.scan() == []
    with services.sessions() as s:
        counted = s.scalars(select(Vote.counted).where(Vote.voter_id == voter)).all()
    assert sorted(counted) == [False, False, True]
