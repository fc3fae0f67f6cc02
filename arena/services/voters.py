"""Voter consent for data releases: accept the terms (get a withdrawal token), withdraw, request deletion.

The withdrawal token is shown to the voter once; the database keeps only its SHA-256 (a token has 192
random bits, so a fast hash is enough and a stolen database does not reveal tokens). Withdrawing
excludes the voter from every release built afterwards; a deletion request also erases their free
text (prompts, answers, citations, feedback, lyrics) from the database. Their votes stay as they are
in the live leaderboard (a vote is a comparison between two models and carries no content), so
published boards remain reproducible; they are never released again. Policy: docs/releases.md.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from arena.config import Settings
from arena.db import release_queries as rq
from arena.db import repo
from arena.db.engine import write_session
from arena.db.schema import Voter, utcnow
from arena.errors import ConflictError, NotFoundError, ValidationError
from arena.services.battles import validate_voter

log = logging.getLogger(__name__)

TOKEN_BYTES = 24
TOKEN_PREFIX = "wd_"


def token_sha256(token: str) -> str:
    """The stored form of a withdrawal token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_token(token: str) -> str:
    token = (token or "").strip()
    if not token.startswith(TOKEN_PREFIX) or not 20 <= len(token) <= 80:
        raise ValidationError("that is not a withdrawal token: a token starts with 'wd_', is 20-80 characters "
                              "long and was shown when you accepted the data terms")
    return token


@dataclass(frozen=True)
class Acceptance:
    """The answer to accepting the terms: the new withdrawal token, and whether it replaced an earlier one."""

    token: str
    replaced: bool  # the voter had accepted before: their earlier token no longer works


@dataclass(frozen=True)
class VoterService:
    """Consent, withdrawal and deletion; the UI and the JSON API both call these."""

    sessions: sessionmaker[Session]
    settings: Settings

    def accept_terms(self, voter_id: str) -> Acceptance:
        """Record acceptance of the current terms; returns a fresh withdrawal token (shown once, not stored).

        Accepting again replaces the previous token (only its hash is kept, so it cannot be shown again);
        the answer says so, for the UI and the API to tell the voter. A voter who withdrew stays
        withdrawn: a new browser id starts afresh.
        """
        voter_id = validate_voter(voter_id)
        token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
        with write_session(self.sessions) as session:
            voter = repo.ensure_voter(session, voter_id)
            if voter.withdrawn_at is not None or voter.deleted_at is not None:
                raise ConflictError("this voter id has withdrawn from data releases; that cannot be undone "
                                    "(clear this site's storage to start with a new id)")
            replaced = voter.withdraw_token_sha256 is not None
            rq.record_terms(session, voter, self.settings.release.terms_version, token_sha256(token), utcnow())
        return Acceptance(token, replaced)

    def status(self, voter_id: str) -> dict[str, Any]:
        """Whether the voter accepted (which version), withdrew or was deleted."""
        voter_id = validate_voter(voter_id)
        with self.sessions() as session:
            voter = session.get(Voter, voter_id)
            current = self.settings.release.terms_version
            if voter is None:
                return {"terms_version": None, "current_terms_version": current, "withdrawn": False,
                        "deleted": False}
            return {"terms_version": voter.terms_version, "current_terms_version": current,
                    "withdrawn": voter.withdrawn_at is not None, "deleted": voter.deleted_at is not None}

    def withdraw(self, token: str) -> dict[str, Any]:
        """Exclude the token's voter from every later release (idempotent)."""
        digest = token_sha256(_check_token(token))
        with write_session(self.sessions) as session:
            voter = self._voter(session, digest)
            rq.mark_voter(session, voter, withdrawn_at=utcnow())
            log.info("a voter withdrew from data releases")
            moment = rq.aware(voter.withdrawn_at) if voter.withdrawn_at is not None else None
            return {"withdrawn": True, "withdrawn_at": moment.isoformat() if moment else None}

    def request_deletion(self, token: str) -> dict[str, Any]:
        """Withdraw and erase the voter's free text from the database; returns what was erased."""
        digest = token_sha256(_check_token(token))
        with write_session(self.sessions) as session:
            voter = self._voter(session, digest)
            now = utcnow()
            erased = rq.erase_voter_content(session, voter.id)
            rq.mark_voter(session, voter, withdrawn_at=now, deleted_at=now)
            log.info("a voter's content was erased: %s", erased)
            return {"withdrawn": True, "deleted": True, "erased": erased}

    @staticmethod
    def _voter(session: Session, digest: str) -> Voter:
        voter = rq.voter_by_token(session, digest)
        if voter is None:
            raise NotFoundError("unknown withdrawal token: check that you copied all of it; if you accepted the data "
                                "terms more than once, only the token shown last works")
        return voter
