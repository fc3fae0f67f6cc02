"""Music listening telemetry (play, pause, seek, progress, end) and post-vote feedback; the vote gate for music."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from arena.db import repo
from arena.db.engine import write_session
from arena.db.schema import Battle, Feedback, ListeningEvent, utcnow
from arena.db.vote_queries import VoteTarget
from arena.domain import BattleStatus, Modality
from arena.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError

EVENTS = ("play", "pause", "seek", "progress", "ended")
_PLAYING = ("play", "progress")
MAX_FEEDBACK_CHARS = 2000


@dataclass(frozen=True)
class ListeningStatus:
    """Seconds listened per clip and whether the vote is open."""

    listened_a: float
    listened_b: float
    required_a: float
    required_b: float

    @property
    def enough(self) -> bool:
        """Both clips were played for at least the required time."""
        return self.listened_a + 1e-6 >= self.required_a and self.listened_b + 1e-6 >= self.required_b

    def message(self) -> str:
        """What the voter still has to do."""
        return (f"listen to both clips for at least {max(self.required_a, self.required_b):.0f} s before voting "
                f"(so far: A {self.listened_a:.1f} s, B {self.listened_b:.1f} s)")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class MusicService:
    """Records what was actually heard; the server, not the page, decides when a music vote may be cast."""

    def __init__(self, sessions: sessionmaker[Session], min_listen_s: float = 5.0) -> None:
        self._sessions = sessions
        self.min_listen_s = min_listen_s

    def record(self, battle_id: str, voter_id: str, side: str, event: str, position_s: float) -> ListeningStatus:
        """Store one telemetry event; the total grows only by positions actually played in wall-clock time."""
        if side not in ("a", "b"):
            raise ValidationError("side must be 'a' or 'b'")
        if event not in EVENTS:
            raise ValidationError(f"unknown listening event {event!r}; use one of {', '.join(EVENTS)}")
        if not (0.0 <= position_s <= 3600.0):
            raise ValidationError("position_s must be between 0 and 3600 seconds")
        with write_session(self._sessions) as session:
            battle = self._music_battle(session, battle_id, voter_id)
            output = next(o for o in battle.turns[-1].outputs if o.side == side)
            now = utcnow()
            last = repo.last_listening_event(session, battle_id, side)
            gained = 0.0
            if last is not None and last.event in _PLAYING and event in ("progress", "pause", "ended", "seek"):
                wall = (now - _aware(last.at)).total_seconds()
                gained = max(0.0, min(position_s - last.position_s, wall + 0.25))
            duration = float(_duration(battle, side))
            total = min(output.listened_s + gained, duration) if duration else output.listened_s + gained
            repo.add_listening(session, ListeningEvent(battle_id=battle_id, side=side, event=event,
                                                       position_s=position_s, at=now), output.id, total)
            return self._status(battle, overrides={side: total})

    def status(self, battle_id: str) -> ListeningStatus:
        """Current listening totals of a battle's last turn."""
        with self._sessions() as session:
            battle = repo.get_battle(session, battle_id)
            if battle is None:
                raise NotFoundError(f"battle {battle_id!r} not found")
            return self._status(battle)

    def _status(self, battle: Battle, overrides: Mapping[str, float] | None = None) -> ListeningStatus:
        heard = {o.side: o.listened_s for o in battle.turns[-1].outputs}
        heard.update(overrides or {})
        need = {side: min(self.min_listen_s, _duration(battle, side) or self.min_listen_s) for side in ("a", "b")}
        return ListeningStatus(heard.get("a", 0.0), heard.get("b", 0.0), need["a"], need["b"])

    def check_vote(self, conn: Connection, target: VoteTarget) -> None:
        """Raise ConflictError unless both clips were heard long enough (called inside the vote transaction)."""
        if target.arena != Modality.MUSIC.value:
            return
        with Session(bind=conn) as session:  # joins the vote's transaction; reads only
            battle = repo.get_battle(session, target.id)
            if battle is None:
                raise NotFoundError(f"battle {target.id!r} not found")
            status = self._status(battle)
        if not status.enough:
            raise ConflictError(status.message(), detail={
                "listened_a": round(status.listened_a, 2), "listened_b": round(status.listened_b, 2)})

    def feedback(self, battle_id: str, voter_id: str, texts: Mapping[str, str]) -> int:
        """Store optional feedback per side and overall, after the vote; returns how many texts were kept."""
        rows = []
        for target, text in texts.items():
            if target not in ("a", "b", "overall"):
                raise ValidationError("feedback targets are 'a', 'b' and 'overall'")
            text = (text or "").strip()
            if len(text) > MAX_FEEDBACK_CHARS:
                raise ValidationError(f"feedback is limited to {MAX_FEEDBACK_CHARS} characters")
            if text:
                rows.append(Feedback(battle_id=battle_id, voter_id=voter_id, target=target, text=text))
        with write_session(self._sessions) as session:
            battle = repo.get_battle(session, battle_id)
            if battle is None:
                raise NotFoundError(f"battle {battle_id!r} not found")
            if battle.voter_id != voter_id:
                raise ForbiddenError("only the voter of this battle can leave feedback on it")
            if battle.status != BattleStatus.VOTED.value:
                raise ConflictError("feedback opens after your vote")
            repo.add_feedback(session, rows)
        return len(rows)

    def _music_battle(self, session: Session, battle_id: str, voter_id: str) -> Battle:
        battle = repo.get_battle(session, battle_id)
        if battle is None:
            raise NotFoundError(f"battle {battle_id!r} not found")
        if battle.voter_id != voter_id:
            raise ForbiddenError("only the voter of this battle can report listening")
        if battle.arena != Modality.MUSIC.value:
            raise ConflictError("listening events are for music battles")
        if battle.status not in (BattleStatus.READY.value, BattleStatus.VOTED.value) or not battle.turns[-1].outputs:
            raise ConflictError("the clips are not ready yet")
        return battle


def _duration(battle: Battle, side: str) -> float:
    output = next((o for o in battle.turns[-1].outputs if o.side == side), None)
    if output is None or output.media_sha256 is None:
        return 0.0
    return float(output.style.get("duration_s") or battle.routing.get("duration_s") or 0.0)
