"""Engine and session factory; SQLite pragmas (WAL, foreign keys, busy timeout) on every connection."""

from __future__ import annotations

import logging
import select
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from arena.errors import ConfigError, StorageError, UnavailableError

log = logging.getLogger(__name__)

DEFAULT_BUSY_TIMEOUT_S = 10.0
_WRITE_LOCK = "arena_sqlite_write_lock"

# SQLSTATEs that mean "not now" rather than "never" (class 08 connection exceptions count as unreachable too).
_PG_UNREACHABLE = frozenset({"57P01", "57P02", "57P03", "53300"})  # admin/crash shutdown, starting up, too many
_PG_BUSY = frozenset({"40001", "40P01", "55P03"})  # serialization failure, deadlock, lock not available
_SQLITE_BUSY_CODES = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED (primary codes of the extended ones)
_UNAVAILABLE = {
    "unreachable": "the database cannot be reached right now; please try again in a few seconds",
    "busy": "the database is busy; please try again in a few seconds",
}


SQLITE_MMAP_BYTES = 1 << 30  # address space only; the OS pages the database file in as it is read


@contextmanager
def sqlite_mapped(session: Session) -> Iterator[None]:
    """Within the block, `session`'s SQLite connection reads the database through a memory map.

    For scans that look up rows all over the file (the full recount: a million index lookups for 1M votes),
    where every page outside SQLite's 2 MB cache would otherwise cost a read() call: 4.5 -> 3.3 s for that
    query. Not the default, because mapped pages count in a process's resident memory (a release build
    reading 1M battles would show about 0.4 GB more per process). No-op on other databases.
    """
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    session.execute(text(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}"))
    try:
        yield
    finally:
        session.execute(text("PRAGMA mmap_size=0"))


def _sqlite_pragmas(busy_timeout_s: float) -> Callable[[Any, Any], None]:
    def connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (the pysqlite recipe), so writes can take the lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return connect


def _sqlite_begin(conn: Connection) -> None:
    # A deferred transaction that reads and then writes fails at once with SQLITE_BUSY when another
    # writer got in between (the busy timeout does not apply); writers therefore start IMMEDIATE.
    if conn.get_execution_options().get("sqlite_immediate"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


def _pg_checkout_check(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Discard a pooled PostgreSQL connection the server has already closed, without a round trip.

    An idle connection has nothing to read unless the server ended it: a shutdown or pg_terminate_backend
    sends a FATAL notice and closes, and a server process that died leaves an end-of-file; either makes
    the socket readable. A zero-timeout poll finds that in microseconds, where a pre-ping (SELECT 1) costs a
    round trip and ~0.1 ms of CPU on every checkout. The pool answers DisconnectionError by connecting
    afresh. A silent loss (a cut line, a host that rebooted) sends nothing: the first statement on such a
    connection fails as a disconnect, that request gets the retryable 503, and the pool is invalidated.
    """
    if dbapi_connection.closed or dbapi_connection.broken:
        raise DisconnectionError("connection already closed")
    poller = select.poll()  # poll, not select: a busy process has descriptors past select's limit of 1024
    try:
        poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLPRI)
        ready = poller.poll(0)
    except (OSError, ValueError) as exc:
        raise DisconnectionError(f"connection socket unusable: {exc}") from exc
    if ready:
        raise DisconnectionError("the server closed this idle connection")


def _transient_reason(ctx: ExceptionContext) -> str | None:
    """'unreachable' or 'busy' when the error is worth retrying in a moment; None for a real error."""
    original = ctx.original_exception
    if ctx.dialect.name == "sqlite":
        code = getattr(original, "sqlite_errorcode", None)
        return "busy" if isinstance(code, int) and code & 0xFF in _SQLITE_BUSY_CODES else None
    if ctx.is_disconnect:
        return "unreachable"
    if not isinstance(original, ctx.dialect.loaded_dbapi.OperationalError):
        return None
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate is None or sqlstate.startswith("08") or sqlstate in _PG_UNREACHABLE:
        return "unreachable"  # psycopg has no SQLSTATE when no server answered (refused, reset, timed out)
    return "busy" if sqlstate in _PG_BUSY else None


def _translate_transient(ctx: ExceptionContext) -> BaseException | None:
    # A lost or locked database is an outage for the caller, not a bug: a typed 503 with a retry hint.
    reason = _transient_reason(ctx)
    if reason is None:
        return None
    log.warning("database %s: %s", reason, ctx.original_exception)
    return UnavailableError(_UNAVAILABLE[reason])


def make_engine(url: str) -> Engine:
    """Create the engine for `url`; SQLite gets its folder created and the pragmas installed.

    SQLite waits `?timeout=` seconds (default 10) for another writer's lock before giving up. Outages and lock
    timeouts surface as UnavailableError (HTTP 503) on both backends; a pooled PostgreSQL connection the server
    closed is found at checkout (`_pg_checkout_check`), so the first request after the server is back
    reconnects instead of failing.
    """
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        busy_s = _busy_timeout(parsed.query.get("timeout"))
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": busy_s}, pool_size=32, max_overflow=32
        )
        event.listen(engine, "connect", _sqlite_pragmas(busy_s))
        event.listen(engine, "begin", _sqlite_begin)
    elif backend == "postgresql":
        engine = create_engine(url, pool_size=32, max_overflow=32)
        event.listen(engine, "checkout", _pg_checkout_check)
    else:
        raise ConfigError(f"unsupported database {backend!r}; use sqlite:/// or postgresql+psycopg://")
    event.listen(engine, "handle_error", _translate_transient)
    return engine


def _busy_timeout(value: str | tuple[str, ...] | None) -> float:
    if value is None:
        return DEFAULT_BUSY_TIMEOUT_S
    raw = value if isinstance(value, str) else value[-1]
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 3600:
        raise ConfigError(f"database URL: timeout={raw!r} must be seconds between 0 and 3600 (e.g. ?timeout=10)")
    return seconds


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes after commit (services return plain values anyway).

    On SQLite the factory also carries a writer lock: SQLite admits one writer at a time, and threads that
    meet a held write lock fall into its busy handler, which polls with sleeps of up to 100 ms, so a burst
    of votes would queue behind sleeping threads. Writers of this process wait on the lock instead and run
    back to back; other processes are still covered by the busy timeout.
    """
    info: dict[str, Any] = {}
    if engine.dialect.name == "sqlite":
        info[_WRITE_LOCK] = (threading.Lock(), _busy_timeout_of(engine))
    return sessionmaker(engine, expire_on_commit=False, info=info)


@contextmanager
def write_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose transaction takes the write lock at BEGIN on SQLite; commits on success."""
    with _writer_turn(factory), factory() as session:
        session.connection(execution_options={"sqlite_immediate": True})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def bound_engine(factory: sessionmaker[Session]) -> Engine:
    """The engine a session factory was made for (Core reads and writes go to the same database)."""
    engine: Engine = factory.kw["bind"]
    return engine


@contextmanager
def write_connection(factory: sessionmaker[Session]) -> Iterator[Connection]:
    """`write_session` without the ORM: a Core connection in a write transaction (the vote path's hot loop)."""
    with _writer_turn(factory), bound_engine(factory).connect() as conn:
        conn.execution_options(sqlite_immediate=True)
        with conn.begin():
            yield conn


@contextmanager
def _writer_turn(factory: sessionmaker[Session]) -> Iterator[None]:
    held = factory.kw.get("info", {}).get(_WRITE_LOCK)
    if held is None:
        yield
        return
    lock, timeout_s = held
    if not lock.acquire(timeout=timeout_s):
        log.warning("database busy: no write turn within %.1f s", timeout_s)
        raise UnavailableError(_UNAVAILABLE["busy"])
    try:
        yield
    finally:
        lock.release()


def _busy_timeout_of(engine: Engine) -> float:
    return _busy_timeout(engine.url.query.get("timeout"))


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
