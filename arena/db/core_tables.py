"""The tables as SQLAlchemy Core objects, for the hot paths that read plain rows (`vote_queries`, `battle_queries`).

`BATTLE_AND_MODELS` is the join both paths start from: a battle with its two models (aliases `model_a`,
`model_b`); each path adds its own outer joins (turns, outputs, the vote).
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from arena.db.schema import Battle, Model, Output, PairCount, Turn, Vote, Voter

BATTLES = cast(Table, Battle.__table__)
MODEL_A = cast(Table, Model.__table__).alias("model_a")
MODEL_B = cast(Table, Model.__table__).alias("model_b")
TURNS = cast(Table, Turn.__table__)
OUTPUTS = cast(Table, Output.__table__)
VOTES = cast(Table, Vote.__table__)
VOTERS = cast(Table, Voter.__table__)
PAIR_COUNTS = cast(Table, PairCount.__table__)
BATTLE_AND_MODELS = BATTLES.join(MODEL_A, MODEL_A.c.id == BATTLES.c.model_a_id).join(
    MODEL_B, MODEL_B.c.id == BATTLES.c.model_b_id
)
