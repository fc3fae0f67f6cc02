"""`arena release build [--until DATE]` and `arena release list` on the configured database."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from arena.release_cli import add_release_commands, parse_until
from tests.services.release_seed import Seed, insert, spread, voter_id


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="arena")
    add_release_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_build_and_list(make_services: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                        capsys: pytest.CaptureFixture[str]) -> None:
    services = make_services()
    insert(services, spread([Seed(voter=voter_id(i % 5)) for i in range(6)]))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ARENA_CONFIG", raising=False)
    monkeypatch.delenv("ARENA_DATABASE_URL", raising=False)
    monkeypatch.setenv("ARENA_DATA_DIR", str(services.settings.data_dir))
    assert _run(["release", "list"]) == 0
    assert "no releases yet" in capsys.readouterr().out
    assert _run(["release", "build", "--until", "2026-04-01"]) == 0
    out = capsys.readouterr().out
    assert "release arena-20260325-0000: 6 battles" in out and "left out: none" in out
    assert (services.settings.data_dir / "releases" / "arena-20260325-0000" / "battles.parquet").is_file()
    assert _run(["release", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["releases"]
    assert [r["rows"] for r in listed] == [6]


def test_until_parsing() -> None:
    assert parse_until("2026-12-01").isoformat() == "2026-12-01T00:00:00+00:00"
    assert parse_until("2026-12-01T12:30Z").hour == 12
    with pytest.raises(argparse.ArgumentTypeError, match="not a date"):
        parse_until("next tuesday")
