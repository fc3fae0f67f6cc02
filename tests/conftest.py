"""Shared fixtures: fresh settings and services on a migrated temporary database per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import create_engine, text

from arena.config import LeaderboardSettings, Settings

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

PG_ADMIN_URL = os.environ.get("ARENA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on a fresh SQLite file with the built-in catalogue and a small bootstrap."""
    return Settings(data_dir=tmp_path / "data", leaderboard=LeaderboardSettings(bootstrap_rounds=50))


@pytest.fixture
def make_services(settings: Settings) -> Iterator[Callable[..., Any]]:
    """Factory for a Services graph (optionally with overridden settings); closed at teardown."""
    from arena.services.container import build_services

    built: list[Any] = []

    def factory(**overrides: Any) -> Any:
        services = build_services(replace(settings, **overrides), rng=np.random.default_rng(1234))
        built.append(services)
        return services

    yield factory
    import asyncio

    for services in built:
        asyncio.run(services.aclose())


def _pg_available() -> bool:
    try:
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A throwaway PostgreSQL database (created and dropped per test) on the server at ARENA_TEST_PG_URL."""
    if not _pg_available():
        if os.environ.get("ARENA_REQUIRE_PG"):
            pytest.fail(f"PostgreSQL is required (ARENA_REQUIRE_PG) but {PG_ADMIN_URL} is not reachable")
        pytest.skip(f"no PostgreSQL at {PG_ADMIN_URL}")
    name = f"arena_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
