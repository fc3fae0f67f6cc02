"""`arena import FILE`: battle rows from a file into the database as counted votes, idempotently."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from arena.battlefiles import BadRow, read_battle_file
from arena.categories import OVERALL
from arena.db import repo, vote_queries
from arena.db.engine import write_session
from arena.db.schema import Battle, Vote, utcnow
from arena.domain import Outcome
from arena.errors import ValidationError

OUTCOMES = (Outcome.MODEL_A, Outcome.MODEL_B, Outcome.TIE, Outcome.TIE_BOTHBAD)
IMPORT_VOTER = "imported-battles"


@dataclass(frozen=True)
class ImportResult:
    """What an import did."""

    added: int
    skipped: int
    bad_rows: tuple[BadRow, ...]


def import_battles(sessions: sessionmaker[Session], path: Path, arena: str = "text",
                   batch: int = 5000) -> ImportResult:
    """Load battle rows (not a counts file) as imported anonymous votes; re-running adds nothing twice.

    Each row's battle id hashes the file name, the row's position among accepted rows and its content, so a
    re-import (or an import of the same file with rows appended) skips what is already there.
    """
    data = read_battle_file(path)
    if data.a_idx is None or data.b_idx is None or data.outcomes is None:
        raise ValidationError(f"{path} holds per-pair counts, not battle rows; `arena import` needs rows")
    with write_session(sessions) as session:
        ids = repo.ensure_models(session, data.models, arena)
        repo.ensure_voter(session, IMPORT_VOTER)
    added = skipped = 0
    rows = list(zip(data.a_idx.tolist(), data.b_idx.tolist(), data.outcomes.tolist(), strict=True))
    for start in range(0, len(rows), batch):
        chunk = rows[start:start + batch]
        with write_session(sessions) as session:
            for k, (a, b, code) in enumerate(chunk, start=start):
                name_a, name_b = data.models[a], data.models[b]
                key = f"{path.name}|{k}|{name_a}|{name_b}|{code}".encode()
                battle_id = hashlib.sha256(key).hexdigest()[:32]
                if session.get(Battle, battle_id) is not None:
                    skipped += 1
                    continue
                now = utcnow()
                session.add(Battle(id=battle_id, arena=arena, mode="anonymous", voter_id=IMPORT_VOTER,
                                   model_a_id=ids[name_a], model_b_id=ids[name_b], pair_probability=1.0,
                                   status="voted", routing={"imported_from": path.name}, ready_at=now, ended_at=now))
                session.flush()
                outcome = OUTCOMES[code]
                session.add(Vote(battle_id=battle_id, voter_id=IMPORT_VOTER, outcome=outcome.value,
                                 mode="anonymous", counted=True, flags=["imported"], categories=[OVERALL]))
                vote_queries.bump_pair_counts(session.connection(), arena, [OVERALL], ids[name_a], ids[name_b], outcome)
                added += 1
    return ImportResult(added, skipped, data.bad_rows)
