"""What a voter may see of a battle: plain frozen values with no model identity before the vote."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from arena.domain import BattleStatus, Citation, Modality


@dataclass(frozen=True)
class SideView:
    """One pane's state: streamed text, citations, media and, on failure, a typed error and a message."""

    text: str = ""
    citations: tuple[Citation, ...] = ()
    searches: tuple[str, ...] = ()
    media_url: str | None = None
    media_mime: str | None = None
    media_meta: dict[str, Any] = field(default_factory=dict)
    done: bool = False
    error_code: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Finished without error."""
        return self.done and self.error_code is None

    def to_json(self) -> dict[str, Any]:
        """The API shape of a side (no model identity)."""
        return {
            "text": self.text,
            "citations": [{"n": i + 1, "url": c.url, "title": c.title, "snippet": c.snippet}
                          for i, c in enumerate(self.citations)],
            "searches": list(self.searches),
            "media_url": self.media_url,
            "media_mime": self.media_mime,
            "media_meta": dict(self.media_meta),
            "done": self.done,
            "error": None if self.error_code is None else {"code": self.error_code, "message": self.error},
        }

    def with_text(self, more: str) -> SideView:
        """A copy with more text appended."""
        return replace(self, text=self.text + more)


@dataclass(frozen=True)
class TurnView:
    """Both panes of one turn, and where the battle stands."""

    battle_id: str
    arena: Modality
    turn: int
    prompt: str
    a: SideView
    b: SideView
    status: BattleStatus

    @property
    def votable(self) -> bool:
        """Both sides finished without error and the battle awaits its vote."""
        return self.status == BattleStatus.READY and self.a.ok and self.b.ok

    def to_json(self) -> dict[str, Any]:
        """The API shape of a turn."""
        return {
            "battle_id": self.battle_id,
            "arena": self.arena.value,
            "turn": self.turn,
            "prompt": self.prompt,
            "status": self.status.value,
            "votable": self.votable,
            "responses": {"a": self.a.to_json(), "b": self.b.to_json()},
        }


@dataclass(frozen=True)
class StartedBattle:
    """A battle that was created and whose first turn is ready to be generated."""

    battle_id: str
    turn: int
    arena: Modality
    prompt: str


@dataclass(frozen=True)
class Reveal:
    """What a voter learns after the vote."""

    battle_id: str
    arena: str
    outcome: str
    model_a: str
    model_b: str
    model_a_label: str
    model_b_label: str
    counted: bool
    flags: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The API shape of a reveal."""
        return {
            "battle_id": self.battle_id,
            "arena": self.arena,
            "outcome": self.outcome,
            "model_a": self.model_a,
            "model_b": self.model_b,
            "model_a_label": self.model_a_label,
            "model_b_label": self.model_b_label,
            "counted": self.counted,
            "flags": list(self.flags),
        }
