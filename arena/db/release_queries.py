"""Queries of data releases and voter consent: windowed vote batches, battle details, release rows, erasure.

Everything a release reads is streamed: a window is cut into vote-id ranges (`window_id_range`), each
read on its own by `window_rows` (a primary-key range scan), so memory stays bounded by the batch size
however many battles the database holds; `battle_details` fetches the turns with their outputs, the
feedback and the listening totals of one batch with three queries.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, String, delete, func, or_, select, type_coerce, update
from sqlalchemy.orm import Session, aliased

from arena.db.schema import Battle, Feedback, ListeningEvent, Media, Model, Output, Release, Turn, Vote, Voter


class BattleRow(NamedTuple):
    """One voted battle of a window with its vote, voter facts and model facts (no text).

    Batch rows are named tuples, not frozen dataclasses: as immutable, and made in C (a frozen dataclass
    sets each of its 20 fields through `object.__setattr__`).
    """

    battle_id: str
    vote_id: int
    voted_at: datetime
    arena: str
    mode: str
    voter_id: str
    model_a: str
    model_b: str
    publish_a: bool
    publish_b: bool
    pair_probability: float
    routing: dict[str, Any]
    battle_flags: list[Any]
    outcome: str
    counted: bool
    vote_flags: list[Any]
    categories: list[Any]
    terms_version: str | None
    withdrawn: bool
    deleted: bool


class OutputRow(NamedTuple):
    """One side's answer to one turn, as a release needs it."""

    text: str
    citations: list[Any]
    media_sha256: str | None
    media_mime: str | None
    listened_s: float


@dataclass
class BattleDetail:
    """The free text and telemetry of one battle: turns in order, feedback in order, plays per side."""

    prompts: list[str] = field(default_factory=list)
    outputs: list[dict[str, OutputRow]] = field(default_factory=list)
    feedback: list[tuple[str, str]] = field(default_factory=list)
    plays: dict[str, int] = field(default_factory=dict)


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored as UTC); make them aware."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def json_decoder() -> Callable[[Any], Any]:
    """A decoder for JSON columns read as text (`_raw`): each distinct text is parsed once ("[]", "{}", tags).

    A driver that decodes JSON itself (psycopg) hands over objects, which pass through. Decoded values
    are shared by the rows of one batch, so callers copy them before changing them.
    """
    cache: dict[str, Any] = {}

    def decode(raw: Any) -> Any:
        if not isinstance(raw, str):
            return raw
        value = cache.get(raw, cache)
        if value is cache:
            value = cache[raw] = json.loads(raw)
        return value

    return decode


def _raw(column: Any) -> Any:
    """A JSON column selected as its stored text, without the column type's per-row decoding."""
    return type_coerce(column, String)


# --- windows and batches ---------------------------------------------------------------------------------


def first_vote_time(session: Session) -> datetime | None:
    """When the oldest vote was cast (the start of the first release window)."""
    value = session.scalar(select(func.min(Vote.created_at)))
    return None if value is None else aware(value)


def window_id_range(session: Session, start: datetime, end: datetime) -> tuple[int, int] | None:
    """The smallest and largest vote id of the votes cast in [start, end), or None when there are none."""
    stmt = select(func.min(Vote.id), func.max(Vote.id)).where(Vote.created_at >= start, Vote.created_at < end)
    lo, hi = session.execute(stmt).one()
    return None if lo is None else (int(lo), int(hi))


def window_rows(session: Session, start: datetime, end: datetime, lo: int, hi: int) -> list[BattleRow]:
    """Voted battles whose vote falls in [start, end) and has an id in [lo, hi), in vote id order.

    Paging by vote-id ranges (a primary-key range scan) keeps every batch query cheap however large
    the window, and lets worker processes read their batches independently.
    """
    model_a, model_b = aliased(Model), aliased(Model)
    stmt = (
        select(
            Battle.id, Vote.id, Vote.created_at, Battle.arena, Battle.mode, Battle.voter_id,
            model_a.name, model_b.name, model_a.publish_outputs, model_b.publish_outputs,
            Battle.pair_probability, _raw(Battle.routing), _raw(Battle.flags), Vote.outcome, Vote.counted,
            _raw(Vote.flags), _raw(Vote.categories), Voter.terms_version, Voter.withdrawn_at, Voter.deleted_at,
        )
        .join(Battle, Battle.id == Vote.battle_id)
        .join(Voter, Voter.id == Battle.voter_id)
        .join(model_a, model_a.id == Battle.model_a_id)
        .join(model_b, model_b.id == Battle.model_b_id)
        .where(Vote.id >= lo, Vote.id < hi, Vote.created_at >= start, Vote.created_at < end,
               Battle.status == "voted")
        .order_by(Vote.id)
    )
    js = json_decoder()
    return [
        BattleRow(r[0], r[1], aware(r[2]), r[3], r[4], r[5], r[6], r[7], bool(r[8]), bool(r[9]), float(r[10]),
                  dict(js(r[11]) or {}), list(js(r[12]) or []), r[13], bool(r[14]), list(js(r[15]) or []),
                  list(js(r[16]) or []), r[17], r[18] is not None, r[19] is not None)
        for r in session.connection().execute(stmt).fetchall()  # one fetch, not a fetch per row
    ]


def window_battle_ids(start: datetime, end: datetime, lo: int, hi: int) -> Select[Any]:
    """The ids of the battles `window_rows` returns for the same arguments, as a subquery (one vote per battle).

    Passing it to `battle_details` instead of the list of ids keeps each detail query to a handful of
    parameters (a list of thousands of bound ids costs more to compile and parse than to run).
    """
    return (
        select(Vote.battle_id)
        .join(Battle, Battle.id == Vote.battle_id)
        .where(Vote.id >= lo, Vote.id < hi, Vote.created_at >= start, Vote.created_at < end, Battle.status == "voted")
    )


def battle_details(session: Session, battle_ids: Sequence[str] | Select[Any]) -> dict[str, BattleDetail]:
    """Turns (with both outputs), feedback and play counts of the given battles, in three queries."""
    details: dict[str, BattleDetail] = defaultdict(BattleDetail)
    turn_slot: dict[int, int] = {}
    # Turns with their outputs in one query (one row per output; a turn without outputs comes once with
    # nulls), in turn order: the battle-id subquery and the turns are visited once, not once per table.
    turns = (
        select(Turn.id, Turn.battle_id, Turn.prompt, Output.side, Output.text, _raw(Output.citations),
               Output.media_sha256, Media.mime, Output.listened_s)
        .select_from(Turn)
        .outerjoin(Output, Output.turn_id == Turn.id)
        .outerjoin(Media, Media.sha256 == Output.media_sha256)
        .where(Turn.battle_id.in_(battle_ids))
        .order_by(Turn.battle_id, Turn.idx)
    )
    conn = session.connection()  # Core rows: no ORM bookkeeping on the hot path
    js = json_decoder()
    for turn_id, battle_id, prompt, side, text, citations, sha, mime, listened in conn.execute(turns).fetchall():
        detail = details[battle_id]
        idx = turn_slot.get(turn_id)
        if idx is None:
            idx = turn_slot[turn_id] = len(detail.prompts)
            detail.prompts.append(prompt)
            detail.outputs.append({})
        if side is not None:
            detail.outputs[idx][side] = OutputRow(text or "", list(js(citations) or []), sha, mime,
                                                  float(listened or 0.0))
    feedback = select(Feedback.battle_id, Feedback.target, Feedback.text).where(Feedback.battle_id.in_(battle_ids))
    for battle_id, target, text in conn.execute(feedback.order_by(Feedback.id)):
        details[battle_id].feedback.append((target, text))
    plays = (
        select(ListeningEvent.battle_id, ListeningEvent.side, func.count())
        .where(ListeningEvent.battle_id.in_(battle_ids), ListeningEvent.event == "play")
        .group_by(ListeningEvent.battle_id, ListeningEvent.side)
    )
    for battle_id, side, n in conn.execute(plays):
        details[battle_id].plays[side] = int(n)
    return dict(details)


# --- releases ----------------------------------------------------------------------------------------------


def latest_release(session: Session) -> Release | None:
    """The release with the latest window end."""
    return session.scalar(select(Release).order_by(Release.window_end.desc(), Release.id.desc()).limit(1))


def all_releases(session: Session) -> list[Release]:
    """Every release, newest window first."""
    return list(session.scalars(select(Release).order_by(Release.window_end.desc(), Release.id.desc())))


def release_by_name(session: Session, name: str) -> Release | None:
    """One release by name."""
    return session.scalar(select(Release).where(Release.name == name))


def insert_release(session: Session, release: Release) -> None:
    """Record a published release (with its private key)."""
    session.add(release)
    session.flush()


# --- voters: consent, withdrawal, erasure --------------------------------------------------------------------


def voter_by_token(session: Session, token_sha256: str) -> Voter | None:
    """The voter whose withdrawal token hashes to `token_sha256`."""
    return session.scalar(select(Voter).where(Voter.withdraw_token_sha256 == token_sha256))


def record_terms(session: Session, voter: Voter, version: str, token_sha256: str, now: datetime) -> None:
    """Store the voter's acceptance of terms `version` and the hash of their (new) withdrawal token."""
    voter.terms_version = version
    voter.terms_accepted_at = now
    voter.withdraw_token_sha256 = token_sha256
    session.flush()


def erase_voter_content(session: Session, voter_id: str) -> dict[str, int]:
    """Remove a voter's free text from the database: prompts, answers, citations, feedback, lyrics, media links.

    The battle, turn and vote rows stay (so counts and the live board stay reproducible) but hold no
    text any more; feedback rows are deleted. Returns how many rows of each kind were changed.
    """
    battle_ids = select(Battle.id).where(Battle.voter_id == voter_id).scalar_subquery()
    turn_ids = select(Turn.id).where(Turn.battle_id.in_(battle_ids)).scalar_subquery()
    turns = session.execute(update(Turn).where(Turn.battle_id.in_(battle_ids)).values(prompt=""))
    outputs = session.execute(
        update(Output).where(Output.turn_id.in_(turn_ids))
        .values(text="", citations=[], trace=[], error_message=None, media_sha256=None, style={})
    )
    feedback = session.execute(
        delete(Feedback).where(or_(Feedback.voter_id == voter_id, Feedback.battle_id.in_(battle_ids)))
    )
    lyrics = 0
    for battle in session.scalars(select(Battle).where(Battle.voter_id == voter_id)):
        if "lyrics" in (battle.routing or {}):
            battle.routing = {k: v for k, v in battle.routing.items() if k != "lyrics"}
            lyrics += 1
    session.flush()
    return {
        "prompts": int(turns.rowcount or 0),  # type: ignore[attr-defined]
        "outputs": int(outputs.rowcount or 0),  # type: ignore[attr-defined]
        "feedback": int(feedback.rowcount or 0),  # type: ignore[attr-defined]
        "lyrics": lyrics,
    }


def mark_voter(session: Session, voter: Voter, *, withdrawn_at: datetime | None = None,
               deleted_at: datetime | None = None) -> None:
    """Set the withdrawal and/or deletion time of a voter (an earlier time is kept)."""
    if withdrawn_at is not None and voter.withdrawn_at is None:
        voter.withdrawn_at = withdrawn_at
    if deleted_at is not None and voter.deleted_at is None:
        voter.deleted_at = deleted_at
    session.flush()
