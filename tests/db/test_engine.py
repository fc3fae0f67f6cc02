"""Engine helpers: the SQLite memory map is on only inside `sqlite_mapped` (the recount's scan uses that block)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from arena.db.engine import SQLITE_MMAP_BYTES, make_engine, make_session_factory, sqlite_mapped


def test_memory_map_only_inside_the_block(tmp_path: Path) -> None:
    sessions = make_session_factory(make_engine(f"sqlite:///{tmp_path / 'a.db'}"))
    with sessions() as session:
        session.execute(text("CREATE TABLE t (x INTEGER)"))  # a file on disk, so the map has something to map

        def mapped() -> int:
            return int(session.execute(text("PRAGMA mmap_size")).scalar_one())

        assert mapped() == 0  # not the default: mapped pages would count in every process's resident memory
        with sqlite_mapped(session):
            assert mapped() == SQLITE_MMAP_BYTES
        assert mapped() == 0
        try:
            with sqlite_mapped(session):
                raise RuntimeError("the scan failed")
        except RuntimeError:
            pass
        assert mapped() == 0  # restored on the way out of a failure too
