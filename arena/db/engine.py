"""Engine and session factory; SQLite pragmas (WAL, foreign keys, busy timeout) on every connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from arena.errors import ConfigError, StorageError


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (the pysqlite recipe), so writes can take the lock up front.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # A deferred transaction that reads and then writes fails at once with SQLITE_BUSY when another
    # writer got in between (the busy timeout does not apply); writers therefore start IMMEDIATE.
    if conn.get_execution_options().get("sqlite_immediate"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


def make_engine(url: str) -> Engine:
    """Create the engine for `url`; SQLite gets its folder created and the pragmas installed."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 10}, pool_size=32, max_overflow=32
        )
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if backend == "postgresql":
        return create_engine(url, pool_size=32, max_overflow=32, pool_pre_ping=True)
    raise ConfigError(f"unsupported database {backend!r}; use sqlite:/// or postgresql+psycopg://")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes after commit (services return plain values anyway)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def write_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose transaction takes the write lock at BEGIN on SQLite; commits on success."""
    with factory() as session:
        session.connection(execution_options={"sqlite_immediate": True})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def check_integrity(engine: Engine) -> None:
    """Refuse to serve from a damaged SQLite file (AC-12) rather than start on garbage."""
    if engine.dialect.name != "sqlite":
        return
    try:
        with engine.connect() as conn:
            rows = [r[0] for r in conn.execute(text("PRAGMA integrity_check"))]
    except Exception as exc:  # the driver raises DatabaseError for a file that is not a database
        raise StorageError(
            f"the SQLite database {engine.url.database} cannot be opened ({exc}); "
            "restore it from a backup or move it aside before starting"
        ) from exc
    if rows != ["ok"]:
        raise StorageError(
            f"the SQLite database {engine.url.database} failed its integrity check ({rows[:3]}); "
            "restore it from a backup or move it aside before starting"
        )
