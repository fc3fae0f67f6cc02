"""Live-board benchmark: 1M voted battles in SQLite -> board refresh from the maintained counts, and a full recount.

  1. A fresh SQLite database (migrated) gets N voted anonymous text battles between M models, drawn from
     known ratings (`rating.simulate`), written straight through SQLAlchemy Core (battles and votes; no turns,
     which neither the board nor the recount reads), plus their pair counts as the vote path maintains them.
     Seeding is not measured.
  2. `refresh`: what the scheduled job and `GET /api/leaderboard/text` do when votes arrived since the last
     snapshot: read the maintained counts, fit Bradley-Terry, 1000-round bootstrap, sandwich, ranks, store the
     snapshot. Each round first casts one vote through `VoteService` so the board really is stale.
  3. `recount`: `LeaderboardService.recount()`, the repair tool that rebuilds every pair count from the
     votes table in one pass.

Usage:  python -m bench.bench_board --battles 1000000 --models 100 --repeats 5
        (--data DIR keeps the seeded database there; --reuse times it again without seeding)
Results: one JSON object on the log (and in --out when given).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert

from arena.config import Settings
from arena.db import repo
from arena.db.engine import write_session
from arena.db.schema import Battle, Output, Vote, Voter
from arena.services.container import build_services
from bench.harness import machine_info
from rating.simulate import simulate_battles

log = logging.getLogger("bench.board")
OUTCOMES = ("model_a", "model_b", "tie", "tie_bothbad")
BATCH = 50_000


def seed(services: Any, battles: int, models: int, voters: int, rng: np.random.Generator) -> list[int]:
    """N voted battles between `models` models with ratings spread like a real arena's (sd 100)."""
    names = [f"bench-model-{k:03d}" for k in range(models)]
    with write_session(services.sessions) as session:
        ids = repo.ensure_models(session, names, "text")
    model_ids = np.array([ids[n] for n in names])
    a_idx, b_idx, codes = simulate_battles(rng.normal(1000, 100, models), battles, rng, tie_fraction=0.15,
                                           bothbad_share=0.3)
    voter_ids = [f"bench-voter-{k:06d}" for k in range(voters)]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with services.engine.begin() as conn:
        conn.execute(insert(Voter), [{"id": v, "created_at": start} for v in voter_ids])
        for lo in range(0, battles, BATCH):
            rows_b, rows_v = [], []
            for i in range(lo, min(battles, lo + BATCH)):
                battle_id, voter = uuid.uuid4().hex, voter_ids[i % voters]
                at = start + timedelta(seconds=i)
                cats = ["overall", "lang:en"] + (["coding"] if i % 7 == 0 else [])
                rows_b.append({"id": battle_id, "arena": "text", "mode": "anonymous", "voter_id": voter,
                               "session_id": "", "model_a_id": int(model_ids[a_idx[i]]),
                               "model_b_id": int(model_ids[b_idx[i]]), "pair_probability": 2 / (models * (models - 1)),
                               "status": "voted", "routing": {}, "created_at": at, "ready_at": at, "ended_at": at})
                rows_v.append({"battle_id": battle_id, "voter_id": voter, "outcome": OUTCOMES[int(codes[i])],
                               "mode": "anonymous", "seconds_to_vote": 20.0, "counted": True, "flags": [],
                               "categories": cats, "created_at": at + timedelta(seconds=20)})
            conn.execute(insert(Battle), rows_b)
            conn.execute(insert(Vote), rows_v)
            log.info("seeded %d / %d battles", min(battles, lo + BATCH), battles)
    services.leaderboard.recount()  # the counts the vote path would have maintained
    return [int(i) for i in model_ids]


def stale_vote(services: Any, model_ids: list[int], rng: np.random.Generator) -> None:
    """One more vote through the real vote path, so the next board read must recompute."""
    a, b = (model_ids[int(k)] for k in rng.choice(len(model_ids), size=2, replace=False))
    voter = "bench-voter-000000"
    with write_session(services.sessions) as session:
        battle = Battle(id=uuid.uuid4().hex, arena="text", mode="anonymous", voter_id=voter,
                        model_a_id=a, model_b_id=b, pair_probability=2 / (len(model_ids) * (len(model_ids) - 1)),
                        status="ready", ready_at=datetime.now(UTC) - timedelta(minutes=2))
        turn = repo.insert_battle(session, battle, "hello there")
        repo.save_outputs(session, [Output(turn_id=turn.id, side=s, model_id=m, text="an answer", finish_reason="stop")
                                    for s, m in (("a", battle.model_a_id), ("b", battle.model_b_id))])
    services.votes.vote(battle.id, "model_a", voter)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Seed, then time refresh and recount; medians over --repeats."""
    data = args.data or Path(tempfile.mkdtemp(prefix="arena-bench-board-"))
    reuse = args.reuse and (data / "arena.db").exists()
    services = build_services(Settings(data_dir=data))
    rng = np.random.default_rng(args.seed)
    try:
        t = time.perf_counter()
        if reuse:  # the database --data holds from an earlier run (with its extra stale votes)
            names = [f"bench-model-{k:03d}" for k in range(args.models)]
            with write_session(services.sessions) as session:
                ids = repo.ensure_models(session, names, "text")
            model_ids = [ids[n] for n in names]
            log.info("reusing the seeded database in %s", data)
        else:
            model_ids = seed(services, args.battles, args.models, args.voters, rng)
            log.info("seeded in %.1f s", time.perf_counter() - t)
        refresh, refresh_cpu, recount = [], [], []
        for _ in range(args.repeats):
            stale_vote(services, model_ids, rng)
            t, c = time.perf_counter(), time.process_time()
            board = services.leaderboard.board("text")
            refresh.append(time.perf_counter() - t)
            refresh_cpu.append(time.process_time() - c)
            assert board["total_votes"] >= args.battles
            t = time.perf_counter()
            counted = services.leaderboard.recount()
            recount.append(time.perf_counter() - t)
            assert counted >= args.battles
        return {"machine": machine_info(), "battles": args.battles, "models": args.models,
                "bootstrap_rounds": services.settings.leaderboard.bootstrap_rounds,
                "refresh_s": refresh, "refresh_cpu_s": refresh_cpu, "recount_s": recount,
                "refresh_median_s": statistics.median(refresh), "recount_median_s": statistics.median(recount),
                "rows_on_board": len(board["rows"])}
    finally:
        import asyncio

        asyncio.run(services.aclose())


def main() -> None:
    """CLI entry: python -m bench.bench_board."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--battles", type=int, default=1_000_000)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--voters", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--data", type=Path, default=None, help="data folder (default: a new temporary one)")
    parser.add_argument("--reuse", action="store_true", help="time the database already seeded in --data")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    result = run(args)
    log.info("%s", json.dumps({k: v for k, v in result.items() if k != "machine"}))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
