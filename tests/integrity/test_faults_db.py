"""The database briefly unavailable: PostgreSQL behind a TCP proxy that is cut, SQLite held by another writer.

Each fault must end in a typed 503 {"error": {"message": ...}} with Retry-After, nothing half-written, and the
same request succeeding once the database is back (a vote counted exactly once).
"""

from __future__ import annotations

import contextlib
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from arena.db.engine import make_engine
from arena.errors import ConfigError, UnavailableError
from arena.server import create_app
from tests.services.helpers import VOTER_1

PG_PORT = 5432


class CuttableProxy:
    """A loopback TCP forwarder to PostgreSQL that can be cut (every connection closed, new ones dropped).

    `cut_on_commit(forward)` arms a trigger: the next client message containing COMMIT cuts the proxy, either
    before the COMMIT reaches the server (`forward=False`: the transaction is lost) or right after it
    (`forward=True`: the server commits but the client never hears back).
    """

    def __init__(self, upstream_port: int) -> None:
        self._upstream = ("127.0.0.1", upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._down = threading.Event()
        self._closing = False
        self._armed: bool | None = None
        self.fired = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._down.is_set():
                _drop(client)
                continue
            try:
                server = socket.create_connection(self._upstream, timeout=5)
            except OSError:
                _drop(client)
                continue
            server.settimeout(None)
            with self._lock:
                self._open.update((client, server))
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, to_server: bool) -> None:
        try:
            while data := src.recv(65536):
                if to_server and self._armed is not None and b"COMMIT" in data:
                    forward, self._armed = self._armed, None
                    if forward:
                        self._down.set()  # from here on nothing goes back to the client
                        dst.sendall(data)
                        time.sleep(0.2)  # let the server read and apply the COMMIT before the line goes dead
                    self.cut()
                    self.fired.set()  # only now: a `restore` before the cut would be undone by it
                    return
                if self._down.is_set():
                    return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                _drop(sock)

    def cut(self) -> None:
        """Close every open connection and drop new ones until `restore`."""
        self._down.set()
        with self._lock:
            socks, self._open = list(self._open), set()
        for sock in socks:
            _drop(sock)

    def restore(self) -> None:
        self._down.clear()

    def cut_on_commit(self, *, forward: bool) -> None:
        self.fired.clear()
        self._armed = forward

    def close(self) -> None:
        self._closing = True
        self.cut()
        self._listener.close()


def _drop(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


@pytest.fixture
def proxied(pg_url: str, make_services: Callable[..., Any]) -> Iterator[tuple[TestClient, CuttableProxy, Any]]:
    """The whole app on PostgreSQL through the proxy; a direct engine (no proxy) to check what was written."""
    proxy = CuttableProxy(make_url(pg_url).port or PG_PORT)
    url = make_url(pg_url).set(port=proxy.port).render_as_string(hide_password=False)
    services = make_services(database_url=url, include_builtin_models=True)
    direct = create_engine(pg_url)
    # No lifespan (no `with`): scheduled jobs would add their own COMMITs to the proxy's traffic.
    client = TestClient(create_app(services.settings, services))
    try:
        yield client, proxy, direct
    finally:
        client.close()
        direct.dispose()
        proxy.close()


def _start(client: TestClient, prompt: str = "What is a cat?") -> Any:
    return client.post("/api/battles", json={"arena": "text", "prompt": prompt, "voter": VOTER_1})


def _vote(client: TestClient, battle_id: str, outcome: str = "model_a") -> Any:
    return client.post(f"/api/battles/{battle_id}/vote", json={"outcome": outcome, "voter": VOTER_1})


def _assert_unavailable(response: Any, words: str) -> None:
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["type"] == "UnavailableError" and words in error["message"], error
    assert "Traceback" not in response.text and "psycopg" not in response.text and "sqlite3" not in response.text
    assert int(response.headers["Retry-After"]) >= 1


def _counts(engine: Any) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            "battles": conn.execute(text("SELECT count(*) FROM battles")).scalar_one(),
            "generating": conn.execute(text("SELECT count(*) FROM battles WHERE status = 'generating'")).scalar_one(),
            "votes": conn.execute(text("SELECT count(*) FROM votes")).scalar_one(),
            "counted": conn.execute(
                text("SELECT coalesce(sum(wins_lo + wins_hi + ties), 0) FROM pair_counts WHERE category = 'overall'")
            ).scalar_one(),
        }


def test_postgres_cut_answers_503_then_recovers(proxied: tuple[TestClient, CuttableProxy, Any]) -> None:
    client, proxy, direct = proxied
    ready = _start(client)
    assert ready.status_code == 200 and ready.json()["votable"], ready.text
    battle_id = ready.json()["battle_id"]
    before = _counts(direct)

    proxy.cut()
    _assert_unavailable(_vote(client, battle_id), "cannot be reached")
    _assert_unavailable(_start(client, "What is a dog?"), "cannot be reached")
    _assert_unavailable(client.get("/api/health"), "cannot be reached")
    assert _counts(direct) == before  # no vote, no battle, no count was written

    proxy.restore()
    voted = _vote(client, battle_id)
    assert voted.status_code == 200 and voted.json()["outcome"] == "model_a", voted.text
    again = _start(client, "What is a dog?")
    assert again.status_code == 200 and again.json()["votable"], again.text
    after = _counts(direct)
    assert after["votes"] == 1 and after["counted"] == 1 and after["battles"] == before["battles"] + 1
    assert after["generating"] == 0


@pytest.mark.parametrize("delivered", [False, True], ids=["commit-lost", "reply-lost"])
def test_postgres_cut_during_vote_commit_counts_once(
    proxied: tuple[TestClient, CuttableProxy, Any], delivered: bool
) -> None:
    client, proxy, direct = proxied
    battle_id = _start(client).json()["battle_id"]
    proxy.cut_on_commit(forward=delivered)
    _assert_unavailable(_vote(client, battle_id), "cannot be reached")
    assert proxy.fired.wait(5)
    # The vote transaction either never committed or committed whole: never a vote without its count.
    deadline = time.monotonic() + 3
    while _counts(direct)["votes"] != int(delivered) and time.monotonic() < deadline:
        time.sleep(0.05)
    mid = _counts(direct)
    assert (mid["votes"], mid["counted"]) == (int(delivered), int(delivered))

    proxy.restore()
    retried = _vote(client, battle_id)  # the voter presses the button again
    assert retried.status_code == 200 and retried.json()["outcome"] == "model_a", retried.text
    assert _vote(client, battle_id).json() == retried.json()
    end = _counts(direct)
    assert (end["votes"], end["counted"]) == (1, 1)
    assert client.get("/api/leaderboard/text").json()["total_votes"] == 1


def test_postgres_cut_during_battle_commit_writes_nothing(proxied: tuple[TestClient, CuttableProxy, Any]) -> None:
    client, proxy, direct = proxied
    before = _counts(direct)
    proxy.cut_on_commit(forward=False)
    _assert_unavailable(_start(client), "cannot be reached")
    assert proxy.fired.wait(5) and _counts(direct) == before
    proxy.restore()
    assert _start(client).status_code == 200
    assert _counts(direct)["battles"] == before["battles"] + 1


@pytest.fixture
def sqlite_client(tmp_path: Path, make_services: Callable[..., Any]) -> Iterator[tuple[TestClient, Path]]:
    """The app on SQLite with a short busy timeout (`?timeout=` in the URL)."""
    db = tmp_path / "busy.db"
    services = make_services(database_url=f"sqlite:///{db}?timeout=0.3", include_builtin_models=True)
    client = TestClient(create_app(services.settings, services))
    try:
        yield client, db
    finally:
        client.close()


def test_sqlite_lock_held_past_busy_timeout_answers_503(sqlite_client: tuple[TestClient, Path]) -> None:
    client, db = sqlite_client
    battle_id = _start(client).json()["battle_id"]
    holder = sqlite3.connect(db, isolation_level=None, timeout=5)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        _assert_unavailable(_vote(client, battle_id), "database is busy")
        _assert_unavailable(_start(client, "What is a dog?"), "database is busy")
        assert time.monotonic() - started < 5  # bounded by the busy timeout, not hung
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT count(*) FROM votes").fetchone() == (0,)
        assert conn.execute("SELECT count(*), sum(status = 'generating') FROM battles").fetchone() == (1, 0)
    finally:
        conn.close()

    voted = _vote(client, battle_id)
    assert voted.status_code == 200, voted.text
    assert _start(client, "What is a dog?").status_code == 200
    assert client.get("/api/leaderboard/text").json()["total_votes"] == 1


def test_ui_and_services_see_the_same_typed_error(tmp_path: Path, make_services: Callable[..., Any]) -> None:
    # The Gradio handlers catch ArenaError and show exc.message: the service must raise the typed error.
    db = tmp_path / "svc.db"
    services = make_services(database_url=f"sqlite:///{db}?timeout=0.2", include_builtin_models=True)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(UnavailableError, match="database is busy") as caught:
            services.votes.vote("f" * 32, "tie", VOTER_1)
        assert caught.value.status_code == 503 and caught.value.retry_after > 0
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_busy_timeout_in_the_url_is_validated(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}?timeout=1.5")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() == 1500
    finally:
        engine.dispose()
    with pytest.raises(ConfigError, match="timeout="):
        make_engine(f"sqlite:///{tmp_path / 'b.db'}?timeout=soon")
