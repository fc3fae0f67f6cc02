"""`arena serve | db upgrade | models list | leaderboard | import` — the command line."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from arena.config import load_settings
from arena.errors import ArenaError
from arena.release_cli import add_release_commands

if TYPE_CHECKING:
    from rating.data import PairCounts


def _serve(_args: argparse.Namespace) -> int:
    import uvicorn

    from arena.server import create_app

    settings = load_settings()
    app = create_app(settings)
    # Everything built so far (gradio, numpy, torch, the catalogue...) lives as long as the process: move it
    # out of the cyclic collector's reach, or every full collection under load re-walks it (tens of ms with
    # the GIL held, which streams and votes in flight wait for).
    gc.collect()
    gc.freeze()
    logging.getLogger(__name__).info("Arena on http://%s:%d", settings.host, settings.port)
    # forwarded_allow_ips="": never trust X-Forwarded-For by default (integrity.proxies decides).
    uvicorn.run(app, host=settings.host, port=settings.port, forwarded_allow_ips="", proxy_headers=False,
                log_level="info", access_log=settings.access_log, timeout_graceful_shutdown=5)
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


def _leaderboard(args: argparse.Namespace) -> int:
    from arena.battlefiles import read_battle_file
    from arena.tables import leaderboard, parse_anchor, render

    anchor = parse_anchor(args.anchor) if args.anchor else None
    if args.input:
        data = read_battle_file(args.input)
        for bad in data.bad_rows[:50]:
            sys.stderr.write(f"{args.input}:{bad.line}: skipped: {bad.reason}\n")
        if len(data.bad_rows) > 50:
            sys.stderr.write(f"... and {len(data.bad_rows) - 50} more bad rows\n")
        models, counts = list(data.models), data.counts
    else:
        models, counts = _db_counts(args.arena)
    board = leaderboard(models, counts, ties=args.ties, bootstrap_rounds=args.bootstrap, seed=args.seed,
                        anchor=anchor)
    sys.stdout.write(render(board.rows, args.format))
    if args.format == "table" and board.n_components > 1:
        sys.stdout.write(f"\n{board.n_components} disconnected groups: ranks compare models within a group only\n")
    return 0


def _db_counts(arena: str) -> tuple[list[str], PairCounts]:
    from arena.db import repo
    from arena.db.engine import make_engine, make_session_factory
    from arena.services.leaderboard import counts_to_arrays

    engine = make_engine(load_settings().resolved_database_url)
    with make_session_factory(engine)() as session:
        rows = repo.pair_counts(session, arena, "overall")
        names = {m.id: m.name for m in repo.list_models(session)}
    ids, counts = counts_to_arrays(rows)
    return [names[i] for i in ids], counts


def _import(args: argparse.Namespace) -> int:
    from arena.db.engine import make_engine, make_session_factory
    from arena.db.migrate import upgrade
    from arena.services.importer import import_battles

    engine = make_engine(load_settings().resolved_database_url)
    upgrade(engine)
    result = import_battles(make_session_factory(engine), Path(args.file), arena=args.arena)
    for bad in result.bad_rows:
        sys.stderr.write(f"{args.file}:{bad.line}: rejected: {bad.reason}\n")
    sys.stdout.write(f"imported {result.added} battles, {result.skipped} already present, "
                     f"{len(result.bad_rows)} bad rows (listed above)\n")
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
    board = sub.add_parser("leaderboard", help="print a Bradley-Terry leaderboard from a file or the database")
    board.add_argument("--input", help="battle rows (CSV/JSONL: model_a, model_b, winner; LLMFAO CSV) or counts JSON")
    board.add_argument("--arena", default="text", help="arena to read from the database (without --input)")
    board.add_argument("--bootstrap", type=int, default=1000, help="bootstrap rounds (default 1000)")
    board.add_argument("--seed", type=int, default=0)
    board.add_argument("--anchor", help="pin a model, e.g. mixtral-8x7b-instruct-v0.1=1114")
    board.add_argument("--ties", choices=["half", "drop-bothbad", "davidson"], default="half")
    board.add_argument("--format", choices=["table", "json", "csv"], default="table")
    board.set_defaults(func=_leaderboard)
    imp = sub.add_parser("import", help="load battle rows into the database (idempotent)")
    imp.add_argument("file")
    imp.add_argument("--arena", default="text")
    imp.set_defaults(func=_import)
    add_release_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; errors print a one-line message and exit with status 2."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    # Third-party chatter stays out of the log: the scheduler's "job executed" every 30 s, and Alembic's
    # migration context lines on every command (they stay for `arena db upgrade`, where they are the news).
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    if args.func is not _db_upgrade:
        logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        return int(args.func(args))
    except ArenaError as exc:
        sys.stderr.write(f"arena: {exc.message}\n")
        return 2
