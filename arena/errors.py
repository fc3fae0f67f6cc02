"""The exception tree; every message says what happened and what to do next.

    ArenaError
    ├── ConfigError            bad settings or catalogue (raised at boot, with a hint)
    ├── ValidationError        bad input from a voter or a file (HTTP 422)
    ├── NotFoundError          unknown battle, model, release (HTTP 404)
    ├── ForbiddenError         not yours / maintainer token missing (HTTP 403)
    ├── ConflictError          state does not allow it: second vote, vote on a failed battle (HTTP 409)
    ├── RefusedError           the moderation policy refused a prompt (HTTP 422, says why)
    ├── RateLimitedError       too many requests (HTTP 429)
    ├── StorageError           the database could not complete a write (HTTP 503)
    │   └── UnavailableError   the database is briefly unreachable or busy; retry (HTTP 503 + Retry-After)
    └── ProviderError          a model provider failed; carries a typed ErrorCode
"""

from __future__ import annotations

from typing import Any

from arena.domain import ErrorCode


class ArenaError(Exception):
    """Base of every error the application raises on purpose."""

    status_code = 500

    def __init__(self, message: str, *, detail: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail or {}


class ConfigError(ArenaError):
    """The settings or the catalogue are invalid; raised at startup."""


class ValidationError(ArenaError):
    """Input was rejected; nothing was written."""

    status_code = 422


class NotFoundError(ArenaError):
    """The thing asked for does not exist."""

    status_code = 404


class ForbiddenError(ArenaError):
    """The caller may not do this."""

    status_code = 403


class ConflictError(ArenaError):
    """The request conflicts with the current state (e.g. the battle already has a vote)."""

    status_code = 409


class RefusedError(ArenaError):
    """The moderation policy refused the prompt; the message says why."""

    status_code = 422


class RateLimitedError(ArenaError):
    """Too many requests; retry after the given number of seconds."""

    status_code = 429

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, detail={"retry_after": round(retry_after, 2)})
        self.retry_after = retry_after


class StorageError(ArenaError):
    """The database refused or failed a write; the caller may retry."""

    status_code = 503


class UnavailableError(StorageError):
    """The database is unreachable or locked by another writer for now; the request did not complete, retry it.

    A retry is safe: votes are idempotent per battle and voter, and a battle is written in one transaction.
    """

    def __init__(self, message: str, *, retry_after: float = 2.0) -> None:
        super().__init__(message, detail={"retry_after": round(retry_after, 2)})
        self.retry_after = retry_after


class ProviderError(ArenaError):
    """A provider failed; `code` is the typed reason stored with the output."""

    status_code = 502

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message, detail={"code": code.value})
        self.code = code
