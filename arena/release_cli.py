"""`arena release build [--until DATE] [--workers N]` and `arena release list` (registered by arena.cli)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from arena.errors import ValidationError


def parse_until(value: str) -> datetime:
    """An ISO date or date-time; naive values are UTC."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date; use e.g. 2026-12-01 or 2026-12-01T12:00") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _release_service(workers: int = 1) -> Any:
    """A ReleaseService on the configured database (migrated), catalogue and media store; no providers."""
    from arena.catalog import load_catalog
    from arena.config import load_settings
    from arena.db import repo
    from arena.db.engine import check_integrity, make_engine, make_session_factory, write_session
    from arena.db.migrate import upgrade
    from arena.media import build_media_store
    from arena.services.releases import ReleaseService

    settings = load_settings()
    engine = make_engine(settings.resolved_database_url)
    check_integrity(engine)
    upgrade(engine)
    sessions = make_session_factory(engine)
    catalog = load_catalog(settings.models, include_builtins=settings.include_builtin_models)
    with write_session(sessions) as session:
        repo.sync_models(session, catalog.models)
    return ReleaseService(sessions, settings, catalog, build_media_store(settings), workers=workers)


def _build(args: argparse.Namespace) -> int:
    if args.workers < 1:
        raise ValidationError("--workers must be at least 1")
    summary = _release_service(args.workers).build(until=args.until)
    excluded = ", ".join(f"{k} {v}" for k, v in sorted(summary["excluded"].items())) or "none"
    sys.stdout.write(
        f"release {summary['name']}: {summary['rows']} battles from {summary['window_start']} to "
        f"{summary['window_end']} ({summary['bytes']:,} bytes); left out: {excluded}\n{summary['path']}\n"
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    releases = _release_service().list_releases()
    if args.json:
        sys.stdout.write(json.dumps({"releases": releases}, indent=2) + "\n")
        return 0
    if not releases:
        sys.stdout.write("no releases yet; build one with `arena release build`\n")
    for r in releases:
        withheld = sum(r["excluded"].values())
        sys.stdout.write(f"{r['name']}  {r['window_start']} .. {r['window_end']}  rows {r['rows']:>9}  "
                         f"withheld {withheld:>7}  {r['bytes']:>13,} bytes\n")
    return 0


def add_release_commands(subparsers: Any) -> None:
    """Register `release build` and `release list` on the CLI's sub-command parsers."""
    release = subparsers.add_parser("release", help="privacy-filtered data releases")
    commands = release.add_subparsers(dest="release_command", required=True)
    build = commands.add_parser("build", help="build and publish the next release (one at a time)")
    build.add_argument("--until", type=parse_until, default=None,
                       help="cover votes up to this date minus the embargo (default: now)")
    build.add_argument("--workers", type=int, default=1,
                       help="processes that scrub in parallel (default 1; same bytes for any number)")
    build.set_defaults(func=_build)
    listing = commands.add_parser("list", help="list published releases")
    listing.add_argument("--json", action="store_true", help="print the index as JSON")
    listing.set_defaults(func=_list)
