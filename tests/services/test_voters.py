"""Voter consent: terms with a one-time withdrawal token (only its hash stored), withdrawal, deletion."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from arena.db.schema import Feedback, Output, Turn, Vote, Voter
from arena.errors import ConflictError, NotFoundError, ValidationError
from arena.release_files import read_rows
from arena.services.releases import ReleaseService
from arena.services.voters import VoterService
from tests.services.release_seed import T0, TERMS, Seed, insert, spread, voter_id


def _voters(services: Any) -> VoterService:
    return VoterService(services.sessions, services.settings)


def test_accepting_terms_stores_version_and_only_the_token_hash(make_services: Any) -> None:
    services = make_services()
    voters = _voters(services)
    assert voters.status(voter_id(1))["terms_version"] is None
    first = voters.accept_terms(voter_id(1))
    token = first.token
    assert token.startswith("wd_") and len(token) > 30 and not first.replaced
    with services.sessions() as session:
        row = session.get(Voter, voter_id(1))
        assert row is not None and row.terms_version == TERMS and row.terms_accepted_at is not None
        assert row.withdraw_token_sha256 == hashlib.sha256(token.encode()).hexdigest()
        assert token not in repr([getattr(row, c.key) for c in Voter.__table__.columns])
    again = voters.accept_terms(voter_id(1))
    assert again.token != token and again.replaced
    with pytest.raises(NotFoundError, match="only the token shown last works"):
        voters.withdraw(token)  # accepting again replaced the old token, and the answer said so
    assert voters.withdraw(again.token)["withdrawn"]
    assert voters.status(voter_id(1)) == {"terms_version": TERMS, "current_terms_version": TERMS,
                                          "withdrawn": True, "deleted": False}


def test_bad_voter_ids_and_tokens_are_rejected(make_services: Any) -> None:
    voters = _voters(make_services())
    with pytest.raises(ValidationError):
        voters.accept_terms("198.51.100.23")
    with pytest.raises(ValidationError):
        voters.withdraw("not-a-token")
    with pytest.raises(ValidationError, match="20-80 characters"):
        voters.withdraw("wd_nope")
    with pytest.raises(NotFoundError):
        voters.withdraw("wd_" + "x" * 32)


def test_withdrawal_is_idempotent_and_final(make_services: Any) -> None:
    services = make_services()
    voters = _voters(services)
    token = voters.accept_terms(voter_id(1)).token
    first = voters.withdraw(token)
    assert first["withdrawn"] and voters.withdraw(token)["withdrawn_at"] == first["withdrawn_at"]
    assert voters.status(voter_id(1))["withdrawn"]
    with pytest.raises(ConflictError, match="withdrawn"):
        voters.accept_terms(voter_id(1))


def test_deletion_erases_free_text_keeps_votes_and_leaves_releases(make_services: Any) -> None:
    services = make_services()
    voters = _voters(services)
    gone, kept = voter_id(1), voter_id(2)
    token = voters.accept_terms(gone).token
    voters.accept_terms(kept)
    seeds = spread([
        Seed(voter=gone, prompts=["my secret plan", "more"], responses=[("answer a", "answer b"), ("c", "d")],
             feedback=[("overall", "A was kind")],
             citations=[([{"url": "https://example.org/x", "title": "t", "snippet": "s"}], [])]),
        Seed(voter=kept, prompts=["keep me"], feedback=[("a", "fine")]),
    ])
    insert(services, seeds)
    result = voters.request_deletion(token)
    assert result["erased"] == {"prompts": 2, "outputs": 4, "feedback": 1, "lyrics": 0}
    with services.sessions() as session:
        prompts = dict(session.execute(select(Turn.battle_id, Turn.prompt).where(Turn.idx == 0)).all())
        assert prompts == {seeds[0].battle_id: "", seeds[1].battle_id: "keep me"}
        gone_outputs = session.scalars(select(Output).join(Turn).where(Turn.battle_id == seeds[0].battle_id)).all()
        assert all(o.text == "" and o.citations == [] for o in gone_outputs)
        assert [f.text for f in session.scalars(select(Feedback))] == ["fine"]
        assert session.scalar(select(Vote.counted).where(Vote.battle_id == seeds[0].battle_id)) is True
    assert voters.status(gone)["deleted"] and voters.status(gone)["withdrawn"]
    releases = ReleaseService(services.sessions, services.settings, services.catalog, services.media)
    summary = releases.build(until=T0 + timedelta(days=30))
    assert summary["excluded"] == {"deleted": 1}
    assert [r["turns"][0]["prompt"] for r in read_rows(Path(summary["path"]))] == ["keep me"]
