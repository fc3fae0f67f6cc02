"""Every query the application makes; services call these with a Session they own."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, Text, cast, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from arena.db.engine import sqlite_mapped
from arena.db.schema import (
    Battle,
    Feedback,
    JobLock,
    LeaderboardSnapshot,
    ListeningEvent,
    Media,
    Model,
    ModelEvent,
    Output,
    PairCount,
    Turn,
    Vote,
    Voter,
    utcnow,
)
from arena.db.vote_queries import COUNT_COLUMNS, count_cell, plausible_id
from arena.domain import BattleStatus, ModelSpec, Outcome

# --- models -----------------------------------------------------------------------------------------------


def sync_models(session: Session, specs: Sequence[ModelSpec]) -> dict[str, int]:
    """Upsert catalogue models; log status changes; return name -> id. Models missing from the catalogue stay."""
    existing = {m.name: m for m in session.scalars(select(Model))}
    for spec in specs:
        row = existing.get(spec.name)
        if row is None:
            row = Model(name=spec.name, modality=spec.modality.value, provider=spec.provider,
                        status=spec.status.value)
            session.add(row)
            session.flush()
            session.add(ModelEvent(model_id=row.id, event="added", note=f"status {spec.status.value}"))
            existing[spec.name] = row
        elif row.status != spec.status.value:
            session.add(ModelEvent(model_id=row.id, event=spec.status.value, note=f"was {row.status}"))
            row.status = spec.status.value
            row.updated_at = utcnow()
        row.modality, row.provider = spec.modality.value, spec.provider
        row.display_name, row.organization, row.license = spec.display_name, spec.organization, spec.license
        row.publish_outputs, row.local_demo = spec.publish_outputs, spec.local_demo
    session.flush()
    return {name: row.id for name, row in existing.items()}


def set_model_status(session: Session, name: str, status: str, note: str = "") -> bool:
    """Change one model's status, logging the change; False if the model is unknown."""
    row = session.scalar(select(Model).where(Model.name == name))
    if row is None:
        return False
    if row.status != status:
        session.add(ModelEvent(model_id=row.id, event=status, note=note or f"was {row.status}"))
        row.status = status
        row.updated_at = utcnow()
    return True


def list_models(session: Session) -> list[Model]:
    """All models ever synced, by id."""
    return list(session.scalars(select(Model).order_by(Model.id)))


def model_names(session: Session) -> dict[int, str]:
    """Every model's name by id, in one query (looking ids up one by one with session.get reloads rows: the
    identity map holds them weakly; that was 70% of a 20 CPU-s anomaly scan)."""
    return {int(model_id): str(name) for model_id, name in session.execute(select(Model.id, Model.name))}


def model_events(session: Session, model_id: int) -> list[ModelEvent]:
    """The change log of one model, oldest first."""
    return list(session.scalars(select(ModelEvent).where(ModelEvent.model_id == model_id).order_by(ModelEvent.id)))


# --- voters and battles ------------------------------------------------------------------------------------


def ensure_voter(session: Session, voter_id: str) -> Voter:
    """The voter row, created on first sight."""
    voter = session.get(Voter, voter_id)
    if voter is None:
        voter = Voter(id=voter_id)
        session.add(voter)
        session.flush()
    return voter


def insert_battle(session: Session, battle: Battle, prompt: str) -> Turn:
    """Store a new battle with its first turn."""
    session.add(battle)
    turn = Turn(battle_id=battle.id, idx=0, prompt=prompt)
    session.add(turn)
    session.flush()
    return turn


def add_turn(session: Session, battle_id: str, idx: int, prompt: str) -> Turn:
    """Append a follow-up turn."""
    turn = Turn(battle_id=battle_id, idx=idx, prompt=prompt)
    session.add(turn)
    session.flush()
    return turn


def get_battle(session: Session, battle_id: str, *, for_update: bool = False) -> Battle | None:
    """A battle with its turns, outputs and models loaded (None for an id that cannot exist)."""
    if not plausible_id(battle_id):
        return None
    stmt: Select[Battle] = (
        select(Battle)
        .where(Battle.id == battle_id)
        .options(selectinload(Battle.turns).selectinload(Turn.outputs),
                 selectinload(Battle.model_a), selectinload(Battle.model_b))
    )
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalar(stmt)


def get_turn(session: Session, battle_id: str, idx: int) -> Turn | None:
    """One turn of a battle."""
    return session.scalar(select(Turn).where(Turn.battle_id == battle_id, Turn.idx == idx))


def save_outputs(session: Session, outputs: Iterable[Output]) -> None:
    """Persist both sides' outputs of a turn."""
    session.add_all(list(outputs))
    session.flush()


def set_battle_status(session: Session, battle_id: str, status: BattleStatus, **times: datetime | None) -> None:
    """Move a battle to a new status, setting ready_at/ended_at when given."""
    session.execute(update(Battle).where(Battle.id == battle_id).values(status=status.value, **times))


def flag_battle(session: Session, battle_id: str, flag: str, checks: dict[str, Any]) -> None:
    """Add a flag (e.g. leaked_identity) and its evidence to a battle."""
    battle = session.get(Battle, battle_id)
    if battle is None:
        return
    if flag not in battle.flags:
        battle.flags = [*battle.flags, flag]
    battle.moderation = {**battle.moderation, **checks}


def fail_stale_battles(session: Session, older_than: datetime) -> int:
    """Battles left `generating` by a dead process become failed; returns how many."""
    result = session.execute(
        update(Battle)
        .where(Battle.status == BattleStatus.GENERATING.value, Battle.created_at < older_than)
        .values(status=BattleStatus.FAILED.value, ended_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- media ---------------------------------------------------------------------------------------------------


def upsert_media(session: Session, sha256: str, mime: str, size: int, meta: dict[str, Any]) -> None:
    """Record a content-addressed media file once."""
    if session.get(Media, sha256) is None:
        session.add(Media(sha256=sha256, mime=mime, size_bytes=size, meta=meta))
        session.flush()


def get_media(session: Session, sha256: str) -> Media | None:
    """A media row by hash."""
    return session.get(Media, sha256)


# --- votes and counts ----------------------------------------------------------------------------------------


def _upsert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def pair_counts(session: Session, arena: str, category: str) -> list[Row[Any]]:
    """The maintained counts of one board, in a stable order, as plain rows (lo_id, hi_id, wins_lo, wins_hi, ties,
    bothbad): a board reads thousands of them on every refresh, and ORM objects cost ten times as much."""
    stmt = (
        select(PairCount.lo_id, PairCount.hi_id, PairCount.wins_lo, PairCount.wins_hi, PairCount.ties,
               PairCount.bothbad)
        .where(PairCount.arena == arena, PairCount.category == category)
        .order_by(PairCount.lo_id, PairCount.hi_id)
    )
    return list(session.execute(stmt))


def categories(session: Session, arena: str) -> list[str]:
    """Categories that have counts in an arena."""
    return list(session.scalars(select(PairCount.category).where(PairCount.arena == arena).distinct()))


def counts_hash(rows: Sequence[Row[Any]]) -> str:
    """A hash of the vote set a board is computed from (the counts are its sufficient statistics)."""
    text = "".join(f"{r.lo_id},{r.hi_id},{r.wins_lo},{r.wins_hi},{r.ties},{r.bothbad};" for r in rows)
    return hashlib.sha256(text.encode()).hexdigest()


def votes_by_voter(session: Session, voter_id: str, arena: str) -> list[tuple[int, int, str]]:
    """(model_a_id, model_b_id, outcome) of a voter's counted anonymous votes in one arena."""
    stmt = (
        select(Battle.model_a_id, Battle.model_b_id, Vote.outcome)
        .join(Vote, Vote.battle_id == Battle.id)
        .where(Vote.voter_id == voter_id, Battle.arena == arena, Vote.counted.is_(True))
        .order_by(Vote.id)
    )
    return [(a, b, o) for a, b, o in session.execute(stmt)]


def count_votes(session: Session, battle_id: str | None = None) -> int:
    """Number of vote rows (for one battle when given)."""
    stmt = select(func.count(Vote.id))
    if battle_id is not None:
        stmt = stmt.where(Vote.battle_id == battle_id)
    return int(session.scalar(stmt) or 0)


# --- snapshots ---------------------------------------------------------------------------------------------


def latest_snapshot(session: Session, arena: str, category: str, method: str) -> LeaderboardSnapshot | None:
    """The newest stored board for (arena, category, method)."""
    return session.scalar(
        select(LeaderboardSnapshot)
        .where(LeaderboardSnapshot.arena == arena, LeaderboardSnapshot.category == category,
               LeaderboardSnapshot.method == method)
        .order_by(LeaderboardSnapshot.id.desc())
        .limit(1)
    )


def insert_snapshot(session: Session, snapshot: LeaderboardSnapshot) -> None:
    """Store a computed board."""
    session.add(snapshot)
    session.flush()


# --- job locks ---------------------------------------------------------------------------------------------


def try_lock(session: Session, name: str, holder: str, now: datetime, expires_at: datetime) -> bool:
    """Take or renew the lease `name` for `holder` unless another holder's lease is still valid."""
    insert = _upsert(session)
    stmt = insert(JobLock).values(name=name, holder=holder, expires_at=expires_at)
    stmt = stmt.on_conflict_do_update(
        index_elements=["name"],
        set_={"holder": holder, "expires_at": expires_at},
        where=(JobLock.holder == holder) | (JobLock.expires_at < now),
    )
    session.execute(stmt)
    row = session.get(JobLock, name, populate_existing=True)
    return row is not None and row.holder == holder


def release_lock(session: Session, name: str, holder: str) -> None:
    """Give up a lease early (only the holder can)."""
    session.execute(delete(JobLock).where(JobLock.name == name, JobLock.holder == holder))


# --- music listening and feedback ----------------------------------------------------------------------------


def last_listening_event(session: Session, battle_id: str, side: str) -> ListeningEvent | None:
    """The newest telemetry event of one clip."""
    return session.scalar(
        select(ListeningEvent)
        .where(ListeningEvent.battle_id == battle_id, ListeningEvent.side == side)
        .order_by(ListeningEvent.id.desc())
        .limit(1)
    )


def add_listening(session: Session, event: ListeningEvent, output_id: int, listened_s: float) -> None:
    """Store a telemetry event and the clip's new listening total."""
    session.add(event)
    session.execute(update(Output).where(Output.id == output_id).values(listened_s=listened_s))


def add_feedback(session: Session, rows: Sequence[Feedback]) -> None:
    """Store post-vote feedback texts."""
    session.add_all(list(rows))


def model_speed(session: Session, modality: str) -> dict[int, float]:
    """Median-free average real-time factor (generation seconds per second of audio) per model."""
    stmt = (
        select(Output.model_id, Output.latency_ms, Media.meta)
        .join(Media, Media.sha256 == Output.media_sha256)
        .join(Model, Model.id == Output.model_id)
        .where(Model.modality == modality, Output.error_code.is_(None))
    )
    sums: dict[int, list[float]] = {}
    for model_id, latency_ms, meta in session.execute(stmt):
        duration = float((meta or {}).get("duration_s") or 0.0)
        if latency_ms is not None and duration > 0:
            sums.setdefault(model_id, []).append(latency_ms / 1000.0 / duration)
    return {model_id: sum(v) / len(v) for model_id, v in sums.items()}


# --- review (quarantine and release) -----------------------------------------------------------------------


def voters_with_votes_since(session: Session, since: datetime) -> list[tuple[str, str]]:
    """(voter_id, arena) pairs with counted anonymous votes after `since`."""
    stmt = (
        select(Vote.voter_id, Battle.arena)
        .join(Battle, Battle.id == Vote.battle_id)
        .where(Vote.created_at > since, Vote.counted.is_(True))
        .distinct()
    )
    return [(v, a) for v, a in session.execute(stmt)]


def voter_history(session: Session, voter_id: str, arena: str) -> list[tuple[Vote, Battle, int]]:
    """A voter's anonymous votes in one arena with their battles and the length of what there was to read."""
    # The length is summed in SQL: loading every turn and output of every battle (the answers' whole text) to
    # count characters was most of the anomaly scan's CPU, and the scan runs every 30 s in the app process.
    chars = (
        select(func.coalesce(func.sum(func.length(Output.text)), 0))
        .join(Turn, Turn.id == Output.turn_id)
        .where(Turn.battle_id == Battle.id)
        .correlate(Battle)
        .scalar_subquery()
    )
    stmt = (
        select(Vote, Battle, chars)
        .join(Battle, Battle.id == Vote.battle_id)
        .where(Vote.voter_id == voter_id, Battle.arena == arena, Vote.mode == "anonymous")
        .options(selectinload(Battle.model_a), selectinload(Battle.model_b))
        .order_by(Vote.id)
    )
    return [(vote, battle, int(length)) for vote, battle, length in session.execute(stmt)]


def flagged_votes(session: Session, limit: int = 500) -> list[tuple[Vote, Battle]]:
    """Votes kept out of the board (flags or not counted), newest first."""
    stmt = (
        select(Vote, Battle)
        .join(Battle, Battle.id == Vote.battle_id)
        .where(Vote.mode == "anonymous", Vote.counted.is_(False))
        .options(selectinload(Battle.model_a), selectinload(Battle.model_b))
        .order_by(Vote.id.desc())
        .limit(limit)
    )
    return [(v, b) for v, b in session.execute(stmt)]


def style_rows(
    session: Session, arena: str, category: str
) -> list[tuple[int, int, str, dict[str, Any], dict[str, Any]]]:
    """Counted votes of a board with each side's style features summed over the battle's turns."""
    stmt = (
        select(Vote.outcome, Vote.categories, Battle)
        .join(Battle, Battle.id == Vote.battle_id)
        .where(Battle.arena == arena, Vote.counted.is_(True))
        .options(selectinload(Battle.turns).selectinload(Turn.outputs))
        .order_by(Vote.id)
    )
    out = []
    for outcome, cats, battle in session.execute(stmt):
        if category not in (cats or []):
            continue
        sums: dict[str, dict[str, Any]] = {"a": {}, "b": {}}
        for turn in battle.turns:
            for output in turn.outputs:
                for key, value in (output.style or {}).items():
                    if isinstance(value, int | float) and not isinstance(value, bool):
                        sums[output.side][key] = sums[output.side].get(key, 0) + value
        out.append((battle.model_a_id, battle.model_b_id, outcome, sums["a"], sums["b"]))
    return out


def rebuild_pair_counts(session: Session) -> int:
    """Recompute pair_counts from the votes table; returns the number of counted votes.

    The database does the counting: counted votes are grouped by (arena, pair, outcome, category list as
    text), of which there are a few thousand, and Python only spreads each group over its categories.
    """
    session.execute(delete(PairCount))
    with sqlite_mapped(session):
        groups = list(session.execute(_recount_groups()))
    cells: dict[tuple[str, str, int, int], list[int]] = {}
    total = 0
    for arena, a_id, b_id, outcome, cats, n in groups:
        lo, hi, name = count_cell(a_id, b_id, Outcome(outcome))
        column = COUNT_COLUMNS.index(name)
        for category in dict.fromkeys(json.loads(cats) if cats else ()):
            cells.setdefault((arena, str(category), lo, hi), [0, 0, 0, 0])[column] += int(n)
        total += int(n)
    if cells:
        session.execute(
            insert(PairCount),
            [{"arena": k[0], "category": k[1], "lo_id": k[2], "hi_id": k[3], "wins_lo": v[0], "wins_hi": v[1],
              "ties": v[2], "bothbad": v[3]} for k, v in cells.items()],
        )
    return total


def _recount_groups() -> Select[str, int, int, str, str, int]:
    """Counted votes grouped by (arena, model a, model b, outcome, category list as text), with their number."""
    categories = cast(Vote.categories, Text)
    return (
        select(Battle.arena, Battle.model_a_id, Battle.model_b_id, Vote.outcome, categories, func.count())
        .join(Battle, Battle.id == Vote.battle_id)
        .where(Vote.counted.is_(True))
        .group_by(Battle.arena, Battle.model_a_id, Battle.model_b_id, Vote.outcome, categories)
    )


def ensure_models(session: Session, names: Sequence[str], modality: str) -> dict[str, int]:
    """Ids of models by name, creating rows (provider "import", paused: never sampled) for unknown names."""
    existing = {m.name: m for m in session.scalars(select(Model).where(Model.name.in_(list(names))))}
    for name in names:
        if name not in existing:
            row = Model(name=name, modality=modality, provider="import", status="paused")
            session.add(row)
            existing[name] = row
    session.flush()
    return {name: existing[name].id for name in names}
