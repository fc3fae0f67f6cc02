"""THE schema: every table as a SQLAlchemy 2 typed model; nothing else defines tables (Alembic mirrors this)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Timezone-aware now, the only clock the schema uses by default."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations get stable constraint names."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


def _enum_check(column: str, values: tuple[str, ...]) -> CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=f"{column}_valid")


MODALITIES = ("text", "search", "image", "music")
OUTCOMES = ("model_a", "model_b", "tie", "tie_bothbad")
STATUSES = ("generating", "ready", "failed", "voted", "abandoned")
MODES = ("anonymous", "named")


class Model(Base):
    """A catalogue model as last synced from the config; kept forever so past battles keep their names."""

    __tablename__ = "models"
    __table_args__ = (_enum_check("modality", MODALITIES), _enum_check("status", ("active", "paused", "retired")))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    modality: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    organization: Mapped[str] = mapped_column(String(200), default="")
    license: Mapped[str] = mapped_column(String(200), default="")
    publish_outputs: Mapped[bool] = mapped_column(Boolean, default=True)
    local_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ModelEvent(Base):
    """Change log of the catalogue: added, paused, retired, reactivated (AC-08 asks for it)."""

    __tablename__ = "model_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"), index=True)
    event: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Voter(Base):
    """A pseudonymous voter: a random id kept in the browser. Never an IP address."""

    __tablename__ = "voters"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    terms_version: Mapped[str | None] = mapped_column(String(32), nullable=True)
    terms_accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    withdraw_token_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Battle(Base):
    """One battle: two models, one conversation, at most one vote."""

    __tablename__ = "battles"
    __table_args__ = (
        _enum_check("arena", MODALITIES),
        _enum_check("mode", MODES),
        _enum_check("status", STATUSES),
        CheckConstraint("model_a_id <> model_b_id", name="distinct_models"),
        CheckConstraint("pair_probability > 0 AND pair_probability <= 1", name="probability_range"),
        Index("ix_battles_arena_status", "arena", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    arena: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(16))
    voter_id: Mapped[str] = mapped_column(ForeignKey("voters.id"), index=True)
    session_id: Mapped[str] = mapped_column(String(64), default="")
    model_a_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    model_b_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    pair_probability: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="generating")
    routing: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    flags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    moderation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    turns: Mapped[list[Turn]] = relationship(back_populates="battle", order_by="Turn.idx")
    model_a: Mapped[Model] = relationship(foreign_keys=[model_a_id])
    model_b: Mapped[Model] = relationship(foreign_keys=[model_b_id])


class Turn(Base):
    """One user prompt within a battle, answered by both sides."""

    __tablename__ = "turns"
    __table_args__ = (UniqueConstraint("battle_id", "idx", name="uq_turns_battle_idx"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    battle_id: Mapped[str] = mapped_column(ForeignKey("battles.id", ondelete="CASCADE"), index=True)
    idx: Mapped[int] = mapped_column(Integer)
    prompt: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    battle: Mapped[Battle] = relationship(back_populates="turns")
    outputs: Mapped[list[Output]] = relationship(back_populates="turn", order_by="Output.side")


class Media(Base):
    """A content-addressed media file (image or audio); the bytes live in the media store under sha256."""

    __tablename__ = "media"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    mime: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Output(Base):
    """One side's answer to one turn, with timings, token counts and a typed error code on failure."""

    __tablename__ = "outputs"
    __table_args__ = (
        UniqueConstraint("turn_id", "side", name="uq_outputs_turn_side"),
        _enum_check("side", ("a", "b")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    turn_id: Mapped[int] = mapped_column(ForeignKey("turns.id", ondelete="CASCADE"), index=True)
    side: Mapped[str] = mapped_column(String(1))
    model_id: Mapped[int] = mapped_column(ForeignKey("models.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    latency_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    first_chunk_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    prompt_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    completion_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)
    finish_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    style: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    citations: Mapped[list[Any]] = mapped_column(JSON, default=list)
    trace: Mapped[list[Any]] = mapped_column(JSON, default=list)
    media_sha256: Mapped[str | None] = mapped_column(ForeignKey("media.sha256"), nullable=True)
    listened_s: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    turn: Mapped[Turn] = relationship(back_populates="outputs")


class Vote(Base):
    """Exactly one vote per battle (unique battle_id); flags say why a vote is kept out of the board."""

    __tablename__ = "votes"
    __table_args__ = (_enum_check("outcome", OUTCOMES), _enum_check("mode", MODES))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    battle_id: Mapped[str] = mapped_column(ForeignKey("battles.id"), unique=True)
    voter_id: Mapped[str] = mapped_column(ForeignKey("voters.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(16))
    seconds_to_vote: Mapped[float | None] = mapped_column(Float, nullable=True)
    client_token: Mapped[str | None] = mapped_column(String(64), nullable=True)
    counted: Mapped[bool] = mapped_column(Boolean, default=True)
    flags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    categories: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class PairCount(Base):
    """Sufficient statistics of the board: outcome counts per (arena, category, unordered model pair).

    `lo_id < hi_id`; wins_lo counts votes for the model with the smaller id. Updated in the vote's transaction.
    """

    __tablename__ = "pair_counts"
    __table_args__ = (CheckConstraint("lo_id < hi_id", name="ordered_pair"),)

    arena: Mapped[str] = mapped_column(String(16), primary_key=True)
    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    lo_id: Mapped[int] = mapped_column(ForeignKey("models.id"), primary_key=True)
    hi_id: Mapped[int] = mapped_column(ForeignKey("models.id"), primary_key=True)
    wins_lo: Mapped[int] = mapped_column(Integer, default=0)
    wins_hi: Mapped[int] = mapped_column(Integer, default=0)
    ties: Mapped[int] = mapped_column(Integer, default=0)
    bothbad: Mapped[int] = mapped_column(Integer, default=0)


class LeaderboardSnapshot(Base):
    """A computed board with the manifest that makes it reproducible (same votes -> same bytes)."""

    __tablename__ = "leaderboard_snapshots"
    __table_args__ = (Index("ix_snapshots_lookup", "arena", "category", "method", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    arena: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(32))
    vote_set_hash: Mapped[str] = mapped_column(String(64))
    payload_sha256: Mapped[str] = mapped_column(String(64))
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class JobLock(Base):
    """A lease that lets one process at a time run a scheduled job (several app processes share one database)."""

    __tablename__ = "job_locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ListeningEvent(Base):
    """Music telemetry: play, pause, seek, progress and end events per clip, with the clip position."""

    __tablename__ = "listening_events"
    __table_args__ = (
        _enum_check("event", ("play", "pause", "seek", "progress", "ended")),
        _enum_check("side", ("a", "b")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    battle_id: Mapped[str] = mapped_column(ForeignKey("battles.id", ondelete="CASCADE"), index=True)
    side: Mapped[str] = mapped_column(String(1))
    event: Mapped[str] = mapped_column(String(16))
    position_s: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Feedback(Base):
    """Optional free-text feedback after a vote, per side or overall."""

    __tablename__ = "feedback"
    __table_args__ = (_enum_check("target", ("a", "b", "overall")),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    battle_id: Mapped[str] = mapped_column(ForeignKey("battles.id", ondelete="CASCADE"), index=True)
    voter_id: Mapped[str] = mapped_column(ForeignKey("voters.id"))
    target: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Release(Base):
    """A published data release: its window, where its files are, its manifest and its private pseudonym key."""

    __tablename__ = "releases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    window_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    key_hex: Mapped[str] = mapped_column(String(128))
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
