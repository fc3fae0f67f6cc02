"""Start a battle, stream both sides at once, persist outputs and status in one transaction per turn."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from arena import routing
from arena.config import Settings
from arena.db import battle_queries, repo
from arena.db.battle_queries import BattleTurns
from arena.db.engine import bound_engine, write_session
from arena.db.schema import Battle, utcnow
from arena.domain import (
    BattleMode,
    BattleStatus,
    ErrorCode,
    GenerationRequest,
    MediaChunk,
    Message,
    Modality,
    ModelSpec,
    ModelStatus,
    Side,
)
from arena.errors import (
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ProviderError,
    RefusedError,
    StorageError,
    ValidationError,
)
from arena.integrity.identity import IdentityLeakDetector
from arena.integrity.moderation import ModerationPolicy
from arena.media import MediaStore
from arena.sampling import DrawnPair, draw_pair
from arena.services.models import ModelDirectory
from arena.services.outputs import END, OutputRecorder, SideRecording
from arena.services.prompts import validate_prompt
from arena.services.views import SideView, StartedBattle, TurnView

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TurnContext:
    """Everything needed to generate one turn, read from the database up front."""

    battle_id: str
    arena: Modality
    turn: int
    turn_id: int
    prompt: str
    specs: tuple[ModelSpec, ModelSpec]
    requests: tuple[GenerationRequest, GenerationRequest]


class BattleService:
    """Battles from prompt to ready/failed; the UI and the JSON API both call this."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        models: ModelDirectory,
        media: MediaStore,
        settings: Settings,
        rng: np.random.Generator,
        recorder: OutputRecorder,
        leak_detector: IdentityLeakDetector | None = None,
        moderation: ModerationPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._models = models
        self._media = media
        self._settings = settings
        self._rng = rng
        self._rng_lock = threading.Lock()
        self._recorder = recorder
        self._leaks = leak_detector
        self._moderation = moderation
        self._clock = clock

    # --- starting ---------------------------------------------------------------------------------------

    async def start(
        self,
        *,
        arena: Modality,
        prompt: str,
        voter_id: str,
        session_id: str = "",
        models: tuple[str, str] | None = None,
        lyrics: str | None = None,
    ) -> StartedBattle:
        """Validate and moderate the prompt, route it, draw (or take) the pair, store the battle and first turn."""
        prompt = validate_prompt(prompt, self._settings.max_prompt_chars)
        voter_id = validate_voter(voter_id)
        verdict = await self._moderate(prompt)
        return await asyncio.to_thread(self._create, arena, prompt, voter_id, session_id, models, lyrics, verdict)

    async def _moderate(self, prompt: str) -> dict[str, object]:
        if self._moderation is None:
            return {"checked": False}
        verdict = await self._moderation.check(prompt)
        return {"checked": verdict.checked, "flagged": verdict.flagged, "categories": list(verdict.categories),
                "reason": verdict.reason.value if verdict.reason else None, "message": verdict.message}

    def _create(self, arena: Modality, prompt: str, voter_id: str, session_id: str,
                models: tuple[str, str] | None, lyrics: str | None, verdict: dict[str, object]) -> StartedBattle:
        route = routing.route(arena, prompt, lyrics)
        pair = self._named_pair(arena, models) if models else self._draw(arena, route)
        now = utcnow()
        flagged = bool(verdict.get("flagged"))
        battle_id = uuid.uuid4().hex
        battle: dict[str, Any] = {
            "id": battle_id,
            "arena": arena.value,
            "mode": (BattleMode.NAMED if models else BattleMode.ANONYMOUS).value,
            "voter_id": voter_id,
            "session_id": session_id[:64],
            "model_a_id": self._models.model_id(pair.model_a.name),
            "model_b_id": self._models.model_id(pair.model_b.name),
            "pair_probability": pair.probability,
            "status": (BattleStatus.FAILED if flagged else BattleStatus.GENERATING).value,
            "routing": dict(route.options, board=route.board) if route.board else dict(route.options),
            "flags": [],
            "moderation": {"prompt": verdict},
            "ended_at": now if flagged else None,
        }
        with write_session(self._sessions) as session:
            battle_queries.create_battle(session.connection(), battle, prompt, now)
        if flagged:
            raise RefusedError(str(verdict.get("message") or "this prompt was refused by the moderation policy"),
                               detail={"categories": verdict.get("categories", [])})
        return StartedBattle(battle_id, 0, arena, prompt)

    def _draw(self, arena: Modality, route: routing.Route) -> DrawnPair:
        candidates = routing.eligible(self._models.catalog.for_modality(arena), route)
        if len(candidates) < 2:
            need = route.board or arena.value
            raise ConflictError(
                f"no two active models can serve this {need} prompt (found {len(candidates)}); "
                "try another prompt or ask a maintainer to add capable models"
            )
        with self._rng_lock:
            return draw_pair(candidates, self._rng)

    def _named_pair(self, arena: Modality, names: tuple[str, str]) -> DrawnPair:
        a, b = (self._models.catalog.get(name) for name in names)
        if a.name == b.name:
            raise ValidationError("pick two different models for a side-by-side battle")
        for spec in (a, b):
            if spec.status == ModelStatus.RETIRED:
                raise ConflictError(f"model {spec.name!r} is retired and no longer answers")
            if spec.modality != arena:
                raise ValidationError(f"model {spec.name!r} is a {spec.modality.value} model, not {arena.value}")
        return DrawnPair(a, b, 1.0)

    async def follow_up(self, battle_id: str, prompt: str, voter_id: str) -> int:
        """Moderate and add a follow-up prompt to a ready battle; returns the new turn index."""
        prompt = validate_prompt(prompt, self._settings.max_prompt_chars)
        verdict = await self._moderate(prompt)
        if verdict.get("flagged"):
            raise RefusedError(str(verdict.get("message") or "this prompt was refused by the moderation policy"),
                               detail={"categories": verdict.get("categories", [])})
        return await asyncio.to_thread(self._add_turn, battle_id, prompt, voter_id)

    def _add_turn(self, battle_id: str, prompt: str, voter_id: str) -> int:
        with write_session(self._sessions) as session:
            battle = self._owned(session, battle_id, voter_id)
            if battle.status != BattleStatus.READY.value:
                raise ConflictError(_status_message(battle.status, "continue"))
            if Modality(battle.arena) in (Modality.IMAGE, Modality.MUSIC):
                raise ConflictError(f"{battle.arena} battles are single-turn; start a new round")
            if len(battle.turns) >= self._settings.max_turns:
                raise ConflictError(f"this battle reached {self._settings.max_turns} turns; vote or start a new round")
            idx = len(battle.turns)
            repo.add_turn(session, battle_id, idx, prompt)
            repo.set_battle_status(session, battle_id, BattleStatus.GENERATING)
        return idx

    def abandon(self, battle_id: str, voter_id: str) -> str:
        """Leave a battle without a vote (regenerate / new round); returns its last prompt."""
        with write_session(self._sessions) as session:
            battle = self._owned(session, battle_id, voter_id)
            if battle.status == BattleStatus.VOTED.value:
                raise ConflictError("this battle already has its vote; start a new round instead")
            if battle.status != BattleStatus.ABANDONED.value:
                repo.set_battle_status(session, battle_id, BattleStatus.ABANDONED, ended_at=utcnow())
            return battle.turns[-1].prompt

    async def regenerate(self, battle_id: str, voter_id: str, session_id: str = "") -> StartedBattle:
        """Abandon the battle (no vote) and ask the same prompt of a newly drawn pair."""
        arena, lyrics, prompt = await asyncio.to_thread(self._abandon_for_regenerate, battle_id, voter_id)
        return await self.start(arena=arena, prompt=prompt, voter_id=voter_id, session_id=session_id, lyrics=lyrics)

    def _abandon_for_regenerate(self, battle_id: str, voter_id: str) -> tuple[Modality, str | None, str]:
        with self._sessions() as session:
            battle = repo.get_battle(session, battle_id)
            if battle is None:
                raise NotFoundError(f"battle {battle_id!r} not found")
            arena = Modality(battle.arena)
            lyrics = battle.routing.get("lyrics")
        return arena, lyrics, self.abandon(battle_id, voter_id)

    def _owned(self, session: Session, battle_id: str, voter_id: str) -> Battle:
        battle = repo.get_battle(session, battle_id)
        if battle is None:
            raise NotFoundError(f"battle {battle_id!r} not found; start a new battle")
        if battle.voter_id != voter_id:
            raise ForbiddenError("this battle belongs to another voter")
        return battle

    def fail_stale(self, older_than_s: float = 600.0) -> int:
        """Mark battles a dead process left generating as failed (run at startup)."""
        with write_session(self._sessions) as session:
            return repo.fail_stale_battles(session, utcnow() - timedelta(seconds=older_than_s))

    # --- generating ---------------------------------------------------------------------------------------

    def _context(self, battle_id: str, turn: int) -> TurnContext:
        with bound_engine(self._sessions).connect() as conn:
            battle = battle_queries.battle_turns(conn, battle_id)
        if battle is None:
            raise NotFoundError(f"battle {battle_id!r} not found")
        if battle.status != BattleStatus.GENERATING.value or turn >= len(battle.turns):
            raise ConflictError(f"turn {turn} of battle {battle_id} is not waiting to be generated")
        if any(t.answers for t in battle.turns[turn:]):
            raise ConflictError(f"turn {turn} of battle {battle_id} was already generated")
        specs = (self._models.catalog.get(battle.model_a), self._models.catalog.get(battle.model_b))
        requests = tuple(
            GenerationRequest(
                messages=_conversation(battle, turn, side),
                modality=Modality(battle.arena),
                options={k: v for k, v in battle.routing.items() if k != "board"},
                seed=int.from_bytes(bytes.fromhex(battle.id[:8]), "big") + turn,
            )
            for side in (Side.A, Side.B)
        )
        return TurnContext(battle.id, Modality(battle.arena), turn, battle.turns[turn].id,
                           battle.turns[turn].prompt, specs, (requests[0], requests[1]))

    async def stream_turn(self, battle_id: str, turn: int) -> AsyncIterator[TurnView]:
        """Generate both sides at once, yielding the growing views; persist when both are done."""
        ctx = await asyncio.to_thread(self._context, battle_id, turn)
        queue: asyncio.Queue[tuple[Side, object]] = asyncio.Queue()
        runs = {side: self._recorder.start(self._clock()) for side in (Side.A, Side.B)}
        tasks = [
            asyncio.create_task(self._run_side(side, ctx.specs[i].name, ctx.requests[i], queue))
            for i, side in enumerate((Side.A, Side.B))
        ]
        views = {Side.A: SideView(), Side.B: SideView()}
        persisted = False
        try:
            while not all(v.done for v in views.values()):
                side, item = await queue.get()
                views[side] = runs[side].apply(views[side], item, self._clock())
                yield self._view(ctx, views, BattleStatus.GENERATING)
            status = await asyncio.to_thread(self._persist, ctx, runs, views)
            persisted = True
            yield self._view(ctx, views, status)
        finally:
            for task in tasks:
                task.cancel()
            if not persisted:
                await asyncio.shield(asyncio.to_thread(self._persist_interrupted, ctx, runs, views))

    async def run_turn(self, battle_id: str, turn: int) -> TurnView:
        """Generate a turn to completion (the JSON API's non-streaming path)."""
        last: TurnView | None = None
        async for view in self.stream_turn(battle_id, turn):
            last = view
        assert last is not None
        return last

    async def _run_side(
        self, side: Side, model: str, request: GenerationRequest, queue: asyncio.Queue[tuple[Side, object]]
    ) -> None:
        provider = self._models.provider(model)
        try:
            async with asyncio.timeout(self._settings.generation_timeout_s):
                async for chunk in provider.generate(request):
                    item: object = chunk
                    if isinstance(chunk, MediaChunk):
                        item = await asyncio.to_thread(self._recorder.store_media, chunk)
                    await queue.put((side, item))
            await queue.put((side, END))
        except ProviderError as exc:
            log.info("model %s failed (%s): %s", model, exc.code.value, exc.message)
            await queue.put((side, exc))
        except StorageError as exc:
            # The model answered but its bytes could not be kept (disk full, object store down): fail this side.
            log.warning("the answer of %s could not be stored: %s", model, exc.message)
            await queue.put((side, ProviderError(ErrorCode.STORAGE, f"the answer could not be saved: {exc.message}")))
        except TimeoutError:
            await queue.put((side, ProviderError(
                ErrorCode.TIMEOUT, f"the model did not finish within {self._settings.generation_timeout_s:.0f} s")))
        except Exception:
            log.exception("provider %s crashed", model)
            await queue.put((side, ProviderError(ErrorCode.INTERNAL, "the model crashed while answering")))

    def _view(self, ctx: TurnContext, views: Mapping[Side, SideView], status: BattleStatus) -> TurnView:
        return TurnView(ctx.battle_id, ctx.arena, ctx.turn, ctx.prompt, views[Side.A], views[Side.B], status)

    def _persist(
        self, ctx: TurnContext, runs: Mapping[Side, SideRecording], views: Mapping[Side, SideView]
    ) -> BattleStatus:
        outputs = [
            runs[side].to_output(ctx.turn_id, side, self._models.model_id(ctx.specs[i].name), views[side])
            for i, side in enumerate((Side.A, Side.B))
        ]
        status = BattleStatus.READY if all(v.ok for v in views.values()) else BattleStatus.FAILED
        leak = self._leak_verdict(ctx, views)
        now = utcnow()
        with write_session(self._sessions) as session:
            if leak is not None:
                repo.flag_battle(session, ctx.battle_id, "leaked_identity", {"identity": leak})
            for run in runs.values():
                if run.media is not None:
                    repo.upsert_media(session, run.media.sha256, run.media.mime, run.media.size, dict(run.media.meta))
            battle_queries.save_turn(session.connection(), ctx.battle_id, outputs, status, now)
        return status

    def _leak_verdict(self, ctx: TurnContext, views: Mapping[Side, SideView]) -> dict[str, object] | None:
        if self._leaks is None:
            return None
        names = [n for spec in ctx.specs for n in (spec.name, spec.display_name) if n]
        orgs = [spec.organization for spec in ctx.specs if spec.organization and not spec.local_demo]
        verdict = self._leaks.check(ctx.prompt, [views[Side.A].text, views[Side.B].text], ctx.arena,
                                    model_names=names, organisations=orgs)
        if not verdict.leaked:
            return None
        return {"reason": verdict.reason.value if verdict.reason else "", "message": verdict.message,
                "matches": [m.text for m in verdict.matches[:5]]}

    def _persist_interrupted(
        self, ctx: TurnContext, runs: Mapping[Side, SideRecording], views: Mapping[Side, SideView]
    ) -> None:
        stopped = {
            side: view if view.done else replace(
                view, done=True, error_code=ErrorCode.INTERNAL.value, error="generation was interrupted")
            for side, view in views.items()
        }
        try:
            self._persist(ctx, runs, stopped)
        except Exception:
            log.exception("could not record the interrupted turn of battle %s", ctx.battle_id)


def _conversation(battle: BattleTurns, turn: int, side: Side) -> tuple[Message, ...]:
    """The messages one side sees: earlier prompts with its own earlier answers, then this turn's prompt."""
    messages: list[Message] = []
    for t in battle.turns[: turn + 1]:
        messages.append(Message("user", t.prompt))
        if t.idx < turn:
            messages.append(Message("assistant", t.answers.get(side.value, "")))
    return tuple(messages)


def _status_message(status: str, action: str) -> str:
    return {
        BattleStatus.VOTED.value: "this battle is over (the vote is in); press New round to start another",
        BattleStatus.FAILED.value: "this battle failed, so it cannot go on; press New round",
        BattleStatus.ABANDONED.value: "this battle was abandoned; press New round",
        BattleStatus.GENERATING.value: "both answers are still being generated; wait for them to finish",
    }.get(status, f"cannot {action} a battle in status {status}")


def validate_voter(voter_id: str) -> str:
    """Voter ids are opaque random strings from the browser: 8-64 characters of [A-Za-z0-9_-]."""
    voter_id = (voter_id or "").strip()
    if not (8 <= len(voter_id) <= 64) or not all(c.isalnum() or c in "-_" for c in voter_id):
        raise ValidationError("voter must be 8-64 characters of letters, digits, '-' or '_' (a random id)")
    return voter_id

