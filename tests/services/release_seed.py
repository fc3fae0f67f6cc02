"""Test helpers for releases: insert voted battles (with voters, turns, outputs, feedback) through the ORM."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from arena.config import ReleaseSettings
from arena.db.engine import write_session
from arena.db.schema import Battle, Feedback, Model, Output, Turn, Vote, Voter

# Far enough in the past that the default 7-day embargo never hides these votes.
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TERMS = ReleaseSettings().terms_version


@dataclass
class Seed:
    """One voted battle to insert."""

    voter: str
    model_a: str = "ngram-storyteller"
    model_b: str = "wordnet-librarian"
    prompts: Sequence[str] = ("What is a cat?",)
    responses: Sequence[tuple[str, str]] = (("A small feline.", "A domestic animal."),)
    outcome: str = "model_a"
    voted_at: datetime = T0
    arena: str = "text"
    mode: str = "anonymous"
    counted: bool | None = None
    battle_flags: list[str] = field(default_factory=list)
    vote_flags: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=lambda: ["overall", "lang:en"])
    feedback: Sequence[tuple[str, str]] = ()
    routing: dict[str, Any] = field(default_factory=dict)
    citations: Sequence[tuple[list[dict[str, str]], list[dict[str, str]]]] = ()
    media: Sequence[tuple[str | None, str | None]] = ()
    listened: tuple[float, float] = (0.0, 0.0)
    pair_probability: float = 1 / 3
    battle_id: str = field(default_factory=lambda: uuid.uuid4().hex)


def voter_id(n: int) -> str:
    """A valid random-looking voter id."""
    return f"voter-{n:08d}"


def add_voter(services: Any, voter: str, terms: str | None = TERMS, *, withdrawn: bool = False) -> None:
    """A voter row (accepting `terms` unless None)."""
    with write_session(services.sessions) as session:
        if session.get(Voter, voter) is None:
            session.add(Voter(id=voter, terms_version=terms, terms_accepted_at=T0 if terms else None,
                              withdrawn_at=T0 if withdrawn else None))


def model_ids(services: Any) -> dict[str, int]:
    with services.sessions() as session:
        return {m.name: m.id for m in session.scalars(select(Model))}


def insert(services: Any, seeds: Sequence[Seed]) -> list[str]:
    """Insert the battles (their voters must exist or are created with the current terms); returns ids."""
    ids = model_ids(services)
    for voter in {s.voter for s in seeds}:
        add_voter(services, voter)
    with write_session(services.sessions) as session:
        for seed in seeds:
            _insert_one(session, seed, ids)
    return [s.battle_id for s in seeds]


def _insert_one(session: Any, s: Seed, ids: dict[str, int]) -> None:
    created = s.voted_at - timedelta(minutes=1)
    counted = s.counted if s.counted is not None else (s.mode == "anonymous" and not s.vote_flags)
    session.add(Battle(id=s.battle_id, arena=s.arena, mode=s.mode, voter_id=s.voter, model_a_id=ids[s.model_a],
                       model_b_id=ids[s.model_b], pair_probability=s.pair_probability, status="voted",
                       routing=s.routing, flags=list(s.battle_flags), created_at=created, ended_at=s.voted_at))
    session.flush()
    for idx, prompt in enumerate(s.prompts):
        turn = Turn(battle_id=s.battle_id, idx=idx, prompt=prompt, created_at=created)
        session.add(turn)
        session.flush()
        a, b = s.responses[idx] if idx < len(s.responses) else ("", "")
        cites = s.citations[idx] if idx < len(s.citations) else ([], [])
        media = s.media[idx] if idx < len(s.media) else (None, None)
        for side, text, model, cite, sha, heard in (("a", a, s.model_a, cites[0], media[0], s.listened[0]),
                                                    ("b", b, s.model_b, cites[1], media[1], s.listened[1])):
            session.add(Output(turn_id=turn.id, side=side, model_id=ids[model], text=text, citations=cite,
                               media_sha256=sha, listened_s=heard if idx == 0 else 0.0))
    session.add(Vote(battle_id=s.battle_id, voter_id=s.voter, outcome=s.outcome, mode=s.mode, counted=counted,
                     flags=list(s.vote_flags), categories=list(s.categories), created_at=s.voted_at))
    for target, text in s.feedback:
        session.add(Feedback(battle_id=s.battle_id, voter_id=s.voter, target=target, text=text,
                             created_at=s.voted_at))


def spread(seeds: Sequence[Seed], start: datetime = T0, step: timedelta = timedelta(minutes=1)) -> list[Seed]:
    """Copies of `seeds` voted one `step` apart from `start`."""
    return [replace(s, voted_at=start + i * step) for i, s in enumerate(seeds)]
