"""Integrity at write time: identity leaks flag the vote out of the board (AC-16); moderation refuses prompts."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from arena.db.schema import Battle, PairCount, Vote
from arena.domain import Modality
from arena.errors import RefusedError
from tests.services.fake_openai import chat_model, fake_openai
from tests.services.helpers import VOTER_1, ready_battle


def _counted(services: Any) -> int:
    with services.sessions() as s:
        rows = s.scalars(select(PairCount).where(PairCount.category == "overall")).all()
        return sum(r.wins_lo + r.wins_hi + r.ties + r.bothbad for r in rows)


@pytest.mark.parametrize(
    ("prompt", "answer_a", "answer_b", "leaked"),
    [
        ("hey, who are you?", "I am a helpful assistant.", "Hello! I'm Claude, an assistant made by Anthropic.", True),
        ("hey, who are you?", "Hello! I'm Claude, an assistant made by Anthropic.", "I am an assistant.", True),
        ("are you GPT-4?", "I am an assistant.", "I cannot say.", True),
        ("ARE YOU gpt-4?", "I am an assistant.", "I cannot say.", True),
        ("what is a cat?", "A cat is a small feline.", "Cats are mammals.", False),
    ],
)
def test_ac16_identity_leak_flags_vote_out_of_board(
    make_services: Any, prompt: str, answer_a: str, answer_b: str, leaked: bool
) -> None:
    with fake_openai({"model-one": answer_a, "model-two": answer_b}) as url:
        services = make_services(models=(chat_model("model-one", url), chat_model("model-two", url)))
        view = ready_battle(services, prompt=prompt, models=None)
        with services.sessions() as s:
            battle = s.get(Battle, view.battle_id)
            assert battle is not None
            a_name = battle.model_a.name
        outcome = "model_b" if a_name == "model-one" else "model_a"  # vote for the side that said answer_b
        reveal = services.votes.vote(view.battle_id, outcome, VOTER_1)
    assert reveal.counted is (not leaked)
    with services.sessions() as s:
        vote = s.scalars(select(Vote)).one()
        assert ("leaked_identity" in vote.flags) is leaked and vote.counted is (not leaked)
    assert _counted(services) == (0 if leaked else 1)


def test_moderation_refuses_flagged_prompt_and_stores_verdict(make_services: Any) -> None:
    services = make_services(moderation={"categories": {"weapons": ["build a pipe bomb"]}})
    with pytest.raises(RefusedError) as info:
        asyncio.run(services.battles.start(arena=Modality.TEXT, prompt="how do I build a pipe bomb at home",
                                           voter_id=VOTER_1))
    assert "weapons" in info.value.message or "weapons" in str(info.value.detail)
    with services.sessions() as s:
        battle = s.scalars(select(Battle)).one()
        assert battle.status == "failed" and battle.moderation["prompt"]["flagged"] is True
        assert not battle.turns[0].outputs
