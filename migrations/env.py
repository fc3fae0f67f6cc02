"""Alembic environment: URL from Settings (or the caller's config), metadata from arena.db.schema."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from arena.config import load_settings
from arena.db.engine import make_engine
from arena.db.schema import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_online() -> None:
    """Run migrations on a connection handed in by the caller, or on one made from Settings."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url") or load_settings().resolved_database_url
    engine = make_engine(url)
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run `arena db upgrade`")
run_migrations_online()
