"""JSON API routes (/api): battles, turns, votes, models, leaderboards, health — thin over the services."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import text
from starlette.exceptions import HTTPException as StarletteHTTPException

from arena import __version__
from arena.categories import OVERALL
from arena.domain import Modality
from arena.errors import ArenaError
from arena.services.container import Services

ArenaName = Literal["text", "search", "image", "music"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BattleIn(_Strict):
    """Start a battle: anonymous by default, named when `models` lists two model names."""

    arena: ArenaName = "text"
    prompt: str = Field(max_length=1_000_000)
    voter: str = Field(max_length=200)
    models: list[str] | None = Field(default=None, min_length=2, max_length=2)
    lyrics: str | None = Field(default=None, max_length=10_000)


class TurnIn(_Strict):
    """A follow-up prompt in the same battle."""

    prompt: str = Field(max_length=1_000_000)
    voter: str = Field(max_length=200)


class VoteIn(_Strict):
    """A vote: outcome is model_a, model_b, tie or tie_bothbad."""

    outcome: str = Field(max_length=64)
    voter: str = Field(max_length=200)
    client_token: str | None = Field(default=None, max_length=64)


class ListenIn(_Strict):
    """A music telemetry event: which clip, what happened, where in the clip."""

    voter: str = Field(max_length=200)
    side: Literal["a", "b"]
    event: Literal["play", "pause", "seek", "progress", "ended"]
    position_s: float = Field(ge=0, le=3600)


class FeedbackIn(_Strict):
    """Optional feedback after the vote."""

    voter: str = Field(max_length=200)
    a: str = Field(default="", max_length=2000)
    b: str = Field(default="", max_length=2000)
    overall: str = Field(default="", max_length=2000)


class ActorIn(_Strict):
    """Who asks (for regenerate/abandon)."""

    voter: str = Field(max_length=200)


def _error(status: int, message: str, **detail: Any) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"message": message, **detail}})


def arena_error_response(exc: ArenaError) -> JSONResponse:
    """The JSON answer to an ArenaError: its status, message, type and detail (+ Retry-After when it has one)."""
    response = _error(exc.status_code, exc.message, type=type(exc).__name__, **exc.detail)
    if "retry_after" in exc.detail:
        response.headers["Retry-After"] = str(int(exc.detail["retry_after"]) + 1)
    return response


def install_error_handlers(app: FastAPI) -> None:
    """Every rejection is a clear 4xx with {"error": {"message": ...}}; never an HTML error page."""

    @app.exception_handler(ArenaError)
    async def _arena_error(_request: Request, exc: ArenaError) -> JSONResponse:
        return arena_error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        messages = {404: "no such endpoint or resource", 405: "method not allowed on this endpoint",
                    400: "the request body could not be parsed (send JSON)"}
        detail = exc.detail if isinstance(exc.detail, str) else ""
        return _error(exc.status_code, detail if detail and detail not in ("Not Found", "Method Not Allowed")
                      else messages.get(exc.status_code, "request rejected"), type="HTTPError")

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [_problem(err) for err in exc.errors()]
        return _error(422, "invalid request: " + "; ".join(problems), type="ValidationError")


def _problem(err: Mapping[str, Any]) -> str:
    """One validation error as "field: what is wrong" (a body that is not JSON says where it breaks)."""
    loc = tuple(err.get("loc", ()))
    if err.get("type") == "json_invalid":
        where = f" at character {loc[-1]}" if len(loc) > 1 and isinstance(loc[-1], int) else ""
        reason = (err.get("ctx") or {}).get("error", "")
        return f"the body is not valid JSON{where}" + (f" ({reason})" if reason else "")
    return f"{'.'.join(str(p) for p in loc[1:]) or 'body'}: {err.get('msg', 'invalid')}"


def admit_client(services: Services, action: str, voter: str, peer: str | None, headers: Mapping[str, str]) -> None:
    """Take a rate-limit token for `action` from the voter's and the client address's buckets (or raise 429)."""
    services.guard.admit(action, voter, services.guard.client_address(peer, dict(headers)))


def cast_vote(services: Services, battle_id: str, body: VoteIn, peer: str | None,
              headers: Mapping[str, str]) -> dict[str, Any]:
    """Admit and store one vote; the reveal as JSON (a plain dict: no re-encoding by FastAPI)."""
    admit_client(services, "votes", body.voter, peer, headers)
    return services.votes.vote(battle_id, body.outcome, body.voter, body.client_token).to_json()


def build_api(services: Services) -> APIRouter:
    """The /api router bound to one Services graph."""
    api = APIRouter(prefix="/api")

    @api.get("/health")
    def health() -> dict[str, Any]:
        with services.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__, "database": services.engine.dialect.name}

    @api.get("/models")
    def models() -> dict[str, Any]:
        return {"models": [
            {"name": m.name, "label": m.label, "modality": m.modality.value, "organization": m.organization,
             "license": m.license, "local_demo": m.local_demo, "status": m.status.value,
             "publish_outputs": m.publish_outputs,
             "capabilities": {"lyrics": m.capabilities.lyrics, "max_duration_s": m.capabilities.max_duration_s,
                              "multi_turn": m.capabilities.multi_turn}}
            for m in services.models.catalog.models
        ]}

    def admit(request: Request, action: str, voter: str) -> None:
        peer = request.client.host if request.client else None
        admit_client(services, action, voter, peer, request.headers)

    @api.post("/battles")
    async def create_battle(body: BattleIn, request: Request) -> dict[str, Any]:
        admit(request, "battles", body.voter)
        started = await services.battles.start(
            arena=Modality(body.arena), prompt=body.prompt, voter_id=body.voter,
            models=(body.models[0], body.models[1]) if body.models else None, lyrics=body.lyrics)
        view = await services.battles.run_turn(started.battle_id, started.turn)
        return view.to_json()

    @api.post("/battles/{battle_id}/turns")
    async def follow_up(battle_id: str, body: TurnIn, request: Request) -> dict[str, Any]:
        admit(request, "battles", body.voter)
        turn = await services.battles.follow_up(battle_id, body.prompt, body.voter)
        view = await services.battles.run_turn(battle_id, turn)
        return view.to_json()

    @api.post("/battles/{battle_id}/regenerate")
    async def regenerate(battle_id: str, body: ActorIn, request: Request) -> dict[str, Any]:
        admit(request, "battles", body.voter)
        started = await services.battles.regenerate(battle_id, body.voter)
        view = await services.battles.run_turn(started.battle_id, started.turn)
        return view.to_json()

    @api.post("/battles/{battle_id}/vote", response_model=dict[str, Any])
    def vote(battle_id: str, body: VoteIn, request: Request) -> JSONResponse:
        # The busiest route: arena.vote_route answers it ahead of this router; this one documents it in the
        # OpenAPI schema and serves whatever the fast path hands on (e.g. a body that fails validation).
        peer = request.client.host if request.client else None
        return JSONResponse(cast_vote(services, battle_id, body, peer, request.headers))

    @api.post("/battles/{battle_id}/listen")
    def listen(battle_id: str, body: ListenIn) -> dict[str, Any]:
        status = services.music.record(battle_id, body.voter, body.side, body.event, body.position_s)
        return {"listened_a": round(status.listened_a, 3), "listened_b": round(status.listened_b, 3),
                "required_s": max(status.required_a, status.required_b), "vote_open": status.enough}

    @api.post("/battles/{battle_id}/feedback")
    def feedback(battle_id: str, body: FeedbackIn) -> dict[str, Any]:
        kept = services.music.feedback(battle_id, body.voter, {"a": body.a, "b": body.b, "overall": body.overall})
        return {"stored": kept}

    @api.get("/leaderboard/{arena}")
    def leaderboard(arena: ArenaName, category: str = OVERALL, method: str = "bt") -> dict[str, Any]:
        return services.leaderboard.board(arena, category, method)

    @api.get("/media/{sha256}", include_in_schema=False)
    def media_alias(sha256: str) -> Response:
        return media_response(services, sha256)

    return api


def media_response(services: Services, sha256: str) -> Response:
    """Stream a stored media file from whichever store (proxied, so media keeps the app's origin and no store
    URL or signature reaches the browser); bytes are content-addressed, so they may be cached forever."""
    try:
        blob = services.media.open(sha256)
    except ArenaError as exc:
        return _error(exc.status_code, exc.message, type=type(exc).__name__, **exc.detail)
    return StreamingResponse(
        blob.chunks,
        media_type=blob.mime,
        headers={
            "Cache-Control": "public, max-age=31536000, immutable",
            "Content-Length": str(blob.size),
            "ETag": f'"{blob.sha256}"',
        },
    )


def corpus_page(services: Services, synset_id: str) -> HTMLResponse:
    """The built-in search corpus entry a citation links to (offline WordNet 3.0 glosses)."""
    entry = services.corpus.lookup(synset_id)
    if entry is None:
        return HTMLResponse(f"<h1>Not found</h1><p>No corpus entry {html.escape(synset_id)}.</p>", status_code=404)
    examples = "".join(f"<li>{html.escape(e)}</li>" for e in entry.examples)
    return HTMLResponse(
        f"<!doctype html><title>{html.escape(', '.join(entry.lemmas))} — WordNet</title>"
        f"<h1>{html.escape(', '.join(entry.lemmas))}</h1><p>{html.escape(entry.definition)}</p>"
        f"<ul>{examples}</ul><p><small>WordNet 3.0, Princeton University (WordNet licence). "
        f"Served offline by Arena's built-in search corpus.</small></p>"
    )
