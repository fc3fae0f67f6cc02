"""Periodic jobs inside the server (leaderboard refresh; releases later), one runner at a time per job."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from arena.db import repo
from arena.db.engine import write_session

log = logging.getLogger(__name__)


class JobRunner:
    """Runs named jobs on intervals; each run first takes a lease in the database so replicas never overlap."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions
        self._holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._scheduler = BackgroundScheduler(timezone="UTC")

    def add(self, name: str, seconds: float, job: Callable[[], object], exclusive: bool = True) -> None:
        """Run `job` every `seconds` (first run right after start); exclusive jobs run under the lease `name`."""
        lease = max(seconds * 2, 60.0)

        def run() -> None:
            if not exclusive:
                job()
                return
            if not self.acquire(name, lease):
                log.debug("job %s is running elsewhere", name)
                return
            try:
                job()
            except Exception:
                log.exception("scheduled job %s failed", name)
            finally:
                self.release(name)

        self._scheduler.add_job(run, "interval", seconds=seconds, id=name, next_run_time=datetime.now(UTC),
                                max_instances=1, coalesce=True)

    def acquire(self, name: str, lease_seconds: float) -> bool:
        """Take the lease `name` for this process."""
        now = datetime.now(UTC)
        with write_session(self._sessions) as session:
            return repo.try_lock(session, name, self._holder, now, now + timedelta(seconds=lease_seconds))

    def release(self, name: str) -> None:
        """Give the lease back."""
        with write_session(self._sessions) as session:
            repo.release_lock(session, name, self._holder)

    def start(self) -> None:
        """Start the background thread."""
        self._scheduler.start()

    def shutdown(self) -> None:
        """Stop without waiting for running jobs."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
