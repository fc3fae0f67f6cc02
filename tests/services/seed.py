"""Seed ready battles straight into the database (what generating them costs is not under test here)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from arena.db import repo
from arena.db.engine import write_session
from arena.db.schema import Battle, Output, utcnow


def ready_battles(services: Any, pairs: list[tuple[str, str]], voter: str, prompt: str = "hello there",
                  ready_seconds_ago: float = 120.0) -> list[str]:
    """Insert one READY anonymous text battle per (model_a, model_b) with stored outputs; returns their ids.

    The answers became readable `ready_seconds_ago`, so votes cast now look like a person's, not a bot's.
    """
    ids = []
    with write_session(services.sessions) as session:
        repo.ensure_voter(session, voter)
        for a, b in pairs:
            battle = Battle(id=uuid.uuid4().hex, arena="text", mode="anonymous", voter_id=voter,
                            model_a_id=services.models.model_id(a), model_b_id=services.models.model_id(b),
                            pair_probability=1 / 3, status="ready",
                            ready_at=utcnow() - timedelta(seconds=ready_seconds_ago))
            turn = repo.insert_battle(session, battle, prompt)
            repo.save_outputs(session, [
                Output(turn_id=turn.id, side="a", model_id=battle.model_a_id, text="answer a " * 20,
                       finish_reason="stop"),
                Output(turn_id=turn.id, side="b", model_id=battle.model_b_id, text="answer b " * 20,
                       finish_reason="stop"),
            ])
            ids.append(battle.id)
    return ids
