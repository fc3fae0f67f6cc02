"""Job leases: one holder at a time across processes sharing a database; expired leases can be taken."""

from __future__ import annotations

import time
from typing import Any

from arena.scheduler import JobRunner


def test_only_one_runner_holds_a_lease(make_services: Any) -> None:
    services = make_services()
    first, second = JobRunner(services.sessions), JobRunner(services.sessions)
    assert first.acquire("release", 60)
    assert not second.acquire("release", 60)
    assert first.acquire("release", 60)  # renewal by the holder
    first.release("release")
    assert second.acquire("release", 60)


def test_expired_lease_is_taken_over(make_services: Any) -> None:
    services = make_services()
    first, second = JobRunner(services.sessions), JobRunner(services.sessions)
    assert first.acquire("refresh", 0.2)
    time.sleep(0.3)
    assert second.acquire("refresh", 60)
    assert not first.acquire("refresh", 60)
