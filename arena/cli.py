"""`arena serve | db upgrade | models list | leaderboard | import` — the command line."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from arena.config import load_settings
from arena.errors import ArenaError


def _serve(_args: argparse.Namespace) -> int:
    import uvicorn

    from arena.server import create_app

    settings = load_settings()
    app = create_app(settings)
    logging.getLogger(__name__).info("Arena on http://%s:%d", settings.host, settings.port)
    # forwarded_allow_ips="": never trust X-Forwarded-For by default (integrity.proxies decides).
    uvicorn.run(app, host=settings.host, port=settings.port, forwarded_allow_ips="", proxy_headers=False,
                log_level="info", timeout_graceful_shutdown=5)
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from arena.db.engine import check_integrity, make_engine
    from arena.db.migrate import upgrade

    settings = load_settings()
    engine = make_engine(settings.resolved_database_url)
    check_integrity(engine)
    upgrade(engine, args.revision)
    sys.stdout.write(f"database at {engine.url.render_as_string(hide_password=True)} is at {args.revision}\n")
    return 0


def _models_list(_args: argparse.Namespace) -> int:
    from arena.catalog import load_catalog

    settings = load_settings()
    catalog = load_catalog(settings.models, include_builtins=settings.include_builtin_models)
    width = max(len(m.name) for m in catalog.models)
    for m in catalog.models:
        demo = " (local demo)" if m.local_demo else ""
        sys.stdout.write(f"{m.name:<{width}}  {m.modality.value:<6}  {m.provider:<22} {m.status.value:<7}{demo}\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (sub-commands register their options here)."""
    parser = argparse.ArgumentParser(prog="arena", description="Arena: live human-preference evaluation")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="serve the UI and JSON API (creates/migrates the database)").set_defaults(
        func=_serve)
    db = sub.add_parser("db", help="database maintenance").add_subparsers(dest="db_command", required=True)
    up = db.add_parser("upgrade", help="apply migrations")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=_db_upgrade)
    models = sub.add_parser("models", help="the model catalogue").add_subparsers(dest="models_command", required=True)
    models.add_parser("list", help="list the configured models").set_defaults(func=_models_list)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; errors print a one-line message and exit with status 2."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ArenaError as exc:
        sys.stderr.write(f"arena: {exc.message}\n")
        return 2
