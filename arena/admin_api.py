"""Maintainer routes (/api/admin): models, flagged and quarantined votes, refreshes — all behind ARENA_ADMIN_TOKEN."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path
from pydantic import BaseModel, ConfigDict, Field

from arena.errors import ForbiddenError
from arena.services.container import Services

# Vote ids are 32-bit integers in every database Arena supports; larger ones are a 422, not a 500.
VoteId = Annotated[int, Path(ge=1, le=2**31 - 1, description="a vote id from /api/admin/votes")]


class StatusIn(BaseModel):
    """A model's new status."""

    model_config = ConfigDict(extra="forbid")
    status: str = Field(max_length=16)
    note: str = Field(default="", max_length=500)


class QuarantineIn(BaseModel):
    """Why a maintainer takes a vote out of the board."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="maintainer", max_length=100)


def build_admin_api(services: Services) -> APIRouter:
    """Routes that need `Authorization: Bearer <ARENA_ADMIN_TOKEN>`; with no token configured, all refuse."""
    token = services.settings.admin_token

    def require_token(authorization: str = Header(default="")) -> None:
        if not token:
            raise ForbiddenError("maintainer tools are disabled: set ARENA_ADMIN_TOKEN on the server to enable them")
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
            raise ForbiddenError("maintainer token missing or wrong: send Authorization: Bearer <ARENA_ADMIN_TOKEN>")

    admin = APIRouter(prefix="/api/admin", dependencies=[Depends(require_token)], tags=["maintainer"])

    @admin.get("/models")
    def models() -> dict[str, Any]:
        return {"models": [{"name": m.name, "modality": m.modality.value, "status": m.status.value,
                            "provider": m.provider} for m in services.models.catalog.models]}

    @admin.post("/models")
    def add_model(table: dict[str, Any]) -> dict[str, Any]:
        spec = services.models.add(table)
        return {"name": spec.name, "status": spec.status.value}

    @admin.post("/models/{name}/status")
    def set_status(name: str, body: StatusIn) -> dict[str, Any]:
        spec = services.models.set_status(name, body.status, body.note)
        return {"name": spec.name, "status": spec.status.value}

    @admin.get("/votes/flagged")
    def flagged() -> dict[str, Any]:
        return {"votes": services.review.flagged()}

    @admin.post("/votes/{vote_id}/release")
    def release(vote_id: VoteId) -> dict[str, Any]:
        return services.review.release(vote_id)

    @admin.post("/votes/{vote_id}/quarantine")
    def quarantine(vote_id: VoteId, body: QuarantineIn) -> dict[str, Any]:
        return {"quarantined": services.review.quarantine([vote_id], [body.reason])}

    @admin.post("/anomalies/scan")
    def scan() -> dict[str, Any]:
        return {"quarantined": services.review.scan()}

    @admin.post("/releases/build")
    def build_release() -> dict[str, Any]:
        return services.releases.build()

    @admin.post("/leaderboard/refresh")
    def refresh() -> dict[str, Any]:
        return {"boards": services.leaderboard.refresh_all()}

    return admin
