"""Test helpers: run battles to completion through the real services."""

from __future__ import annotations

import asyncio
from typing import Any

from arena.domain import Modality
from arena.services.views import TurnView

VOTER_1 = "voter-one-0001"
VOTER_2 = "voter-two-0002"

# A real OpenAI-compatible provider pointed at a port nothing listens on: it fails with a connection error.
DEAD_MODEL = {
    "name": "dead-model",
    "modality": "text",
    "provider": "openai_chat",
    "options": {"base_url": "http://127.0.0.1:9/v1", "model": "x", "connect_timeout": 0.5},
}


def ready_battle(services: Any, voter: str = VOTER_1, prompt: str = "What is a cat?",
                 models: tuple[str, str] | None = None, arena: Modality = Modality.TEXT) -> TurnView:
    """Start a battle and generate its first turn."""
    async def run() -> TurnView:
        started = await services.battles.start(arena=arena, prompt=prompt, voter_id=voter, models=models)
        return await services.battles.run_turn(started.battle_id, 0)

    return asyncio.run(run())
