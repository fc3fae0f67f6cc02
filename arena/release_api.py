"""HTTP routes of data releases: the release list, release files under /releases, voter consent endpoints.

File serving is strict: the release must be one the database knows, every path segment must be a plain
name (letters, digits, '.', '_', '-', not starting with a dot, so no '..', no hidden or temporary
files), at most `media/<file>` deep, and the resolved path must be a regular file inside that release's
folder (no symlinks out). Anything else is a 404 that does not say which rule failed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from arena.errors import NotFoundError
from arena.services.releases import ReleaseService
from arena.services.voters import VoterService

_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_TYPES = {
    ".parquet": "application/vnd.apache.parquet",
    ".gz": "application/gzip",
    ".json": "application/json",
    ".md": "text/markdown; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".flac": "audio/flac",
    ".m4a": "audio/mp4",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TermsIn(_Strict):
    """Accept the data terms for a voter id (the browser's random id)."""

    voter: str = Field(max_length=200)


class TokenIn(_Strict):
    """A withdrawal token shown when the terms were accepted."""

    token: str = Field(max_length=200)


def safe_release_file(releases_dir: Path, name: str, file: str) -> Path:
    """The file `file` of release folder `name` under `releases_dir`, or NotFoundError."""
    missing = NotFoundError(f"no file {file!r} in release {name!r}; its manifest.json lists the files")
    parts = file.split("/")
    if not _SEGMENT.match(name) or not 1 <= len(parts) <= 2 or not all(_SEGMENT.match(p) for p in parts):
        raise missing
    if len(parts) == 2 and parts[0] != "media":
        raise missing
    root = (releases_dir / name).resolve()
    candidate = releases_dir / name / Path(*parts)
    if candidate.is_symlink():
        raise missing
    path = candidate.resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise missing
    return path


def _media_type(path: Path) -> str:
    return _TYPES.get(path.suffix.lower(), "text/plain; charset=utf-8")


def build_release_api(releases: ReleaseService, voters: VoterService, releases_dir: Path) -> APIRouter:
    """Routes: GET /api/releases, GET /releases/index.json, GET /releases/{name}/{file}, POST /api/voters/*."""
    router = APIRouter()

    @router.get("/api/releases")
    def list_releases() -> dict[str, Any]:
        return {"releases": releases.list_releases()}

    @router.get("/releases/index.json", include_in_schema=False)
    def index() -> dict[str, Any]:
        return {"releases": releases.list_releases()}

    @router.get("/releases/{name}/{file:path}", include_in_schema=False)
    def release_file(name: str, file: str) -> FileResponse:
        if not _SEGMENT.match(name):
            raise NotFoundError(f"no release called {name!r}; GET /api/releases lists them")
        releases.release_folder(name)  # known to the database, or 404
        path = safe_release_file(releases_dir, name, file)
        download = path.suffix in (".parquet", ".gz")
        return FileResponse(path, media_type=_media_type(path), filename=path.name if download else None)

    @router.post("/api/voters/terms")
    def accept_terms(body: TermsIn) -> dict[str, Any]:
        accepted = voters.accept_terms(body.voter)
        message = "Keep this token: it is shown once and lets you withdraw or delete your data later."
        if accepted.replaced:
            message += " It replaces the token you were given before, which no longer works."
        return {"token": accepted.token, "replaced_previous_token": accepted.replaced,
                "terms_version": voters.settings.release.terms_version, "message": message}

    @router.post("/api/voters/withdraw")
    def withdraw(body: TokenIn) -> dict[str, Any]:
        return voters.withdraw(body.token)

    @router.post("/api/voters/delete")
    def delete(body: TokenIn) -> dict[str, Any]:
        return voters.request_deletion(body.token)

    return router
