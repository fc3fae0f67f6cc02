"""Release benchmark: N voted battles in the database -> one release; wall time and peak memory of the build.

  1. `seed`: a fresh SQLite database (migrated) gets N voted text battles straight through SQLAlchemy Core
     (one turn, two outputs, one vote each; 50k voters, 2% withdrawn, 3% without terms; 5% of prompts carry
     personal data, a few answers cite sources), votes spread over 7 days. Seeding is not measured.
  2. `build`: a new process builds the release (`ReleaseService.build`, the code `arena release build` runs)
     and reports wall time, rows, bytes, and peak RSS of itself and of its largest worker process.

Usage:  python -m bench.bench_release --battles 1000000 --workers 2 --data /tmp/arena-bench-release
        (add --reuse to build again on an existing seeded database; --profile for a cProfile top list)
Results: one JSON object on the log (and in --out when given).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import logging
import os
import platform
import pstats
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import delete, func, insert, select

from arena.catalog import load_catalog
from arena.config import ReleaseSettings, Settings
from arena.db import repo
from arena.db.engine import make_engine, make_session_factory, write_session
from arena.db.migrate import upgrade
from arena.db.schema import Battle, JobLock, Output, Release, Turn, Vote, Voter

log = logging.getLogger("bench.release")
T0 = datetime(2026, 3, 2, tzinfo=UTC)
SEEDED = "seeded.txt"  # written after a finished seed: how many battles
SPAN = timedelta(days=7)
MODELS = ("ngram-storyteller", "wordnet-librarian", "tiny-transformer")
TOPICS = ("autumn rain", "a lighthouse", "compound interest", "the Krebs cycle", "binary search", "jazz harmony",
          "sourdough bread", "the French revolution", "TCP congestion control", "black holes")
FIRST = ("Jordan", "Emily", "Priya", "Marcus", "Hannah", "Kenji")
LAST = ("Blake", "Raman", "Okafor", "Novak", "Castillo", "Lindqvist")


def _settings(data: Path) -> Settings:
    return Settings(data_dir=data, release=ReleaseSettings(batch_size=5000))


def _prompt(rng: np.random.Generator, i: int) -> str:
    topic = TOPICS[i % len(TOPICS)]
    kind = int(rng.integers(4))
    base = (
        f"Explain {topic} to a curious teenager in about {int(rng.integers(50, 300))} words.",
        f"Write a short poem about {topic}; version {int(rng.integers(1, 9))}.{int(rng.integers(0, 20))} please.",
        f"How do I implement {topic} in Python 3.{int(rng.integers(8, 14))}? My order "
        f"#A-{int(rng.integers(1_000_000, 10_000_000))} of the book cost ${int(rng.integers(10, 90))}.99.",
        f"Compare {topic} and {TOPICS[(i + 3) % len(TOPICS)]} as of 2025-{int(rng.integers(1, 13)):02d}-01.",
    )[kind]
    if rng.random() < 0.05:
        first, last = FIRST[int(rng.integers(len(FIRST)))], LAST[int(rng.integers(len(LAST)))]
        base = (f"Hi, I'm {first} {last} ({first.lower()}.{last.lower()}@example.org, +1 555 010 "
                f"{int(rng.integers(1000, 9999))}). {base}")
    return base


def _answer(rng: np.random.Generator, i: int, side: int) -> str:
    topic = TOPICS[(i + side) % len(TOPICS)]
    n = int(rng.integers(2, 5))
    sentences = [f"{topic.capitalize()} is easier to grasp with an example."]
    sentences += [f"Step {k + 1}: consider the case where the input has {int(rng.integers(2, 500))} items."
                  for k in range(n)]
    return " ".join(sentences) + " In short, start small and check each step."


def _rows(start: int, stop: int, total: int, n_voters: int, rng: np.random.Generator) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {"battles": [], "turns": [], "outputs": [], "votes": []}
    step = SPAN / total
    for i in range(start, stop):
        a, b = rng.choice(3, size=2, replace=False)
        voter = f"bench-voter-{int(rng.integers(n_voters)):06d}"
        at = T0 + i * step
        bid = f"{i:032x}"
        out["battles"].append(dict(id=bid, arena="text", mode="anonymous", voter_id=voter, model_a_id=int(a) + 1,
                                   model_b_id=int(b) + 1, pair_probability=1 / 3, status="voted", routing={},
                                   flags=[], moderation={}, created_at=at - timedelta(minutes=1), ended_at=at))
        out["turns"].append(dict(id=i + 1, battle_id=bid, idx=0, prompt=_prompt(rng, i), created_at=at))
        cites = [{"url": f"https://en.wikipedia.org/wiki/Topic_{i % 997}", "title": "Topic", "snippet": "A topic."}]
        for side, model in (("a", a), ("b", b)):
            text = _answer(rng, i, int(model))
            out["outputs"].append(dict(turn_id=i + 1, side=side, model_id=int(model) + 1, text=text,
                                       citations=cites if i % 10 == 0 else [], style={}, trace=[], listened_s=0.0,
                                       created_at=at))
        outcome = ("model_a", "model_b", "tie", "tie_bothbad")[int(rng.choice(4, p=[0.42, 0.42, 0.1, 0.06]))]
        out["votes"].append(dict(battle_id=bid, voter_id=voter, outcome=outcome, mode="anonymous", counted=True,
                                 flags=[], categories=["overall", "lang:en"], created_at=at))
    return out


def seed(data: Path, battles: int, n_voters: int = 50_000, chunk: int = 20_000) -> None:
    """A fresh migrated SQLite database in `data` with `battles` voted battles."""
    shutil.rmtree(data, ignore_errors=True)
    settings = _settings(data)
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    sessions = make_session_factory(engine)
    with write_session(sessions) as session:
        ids = repo.sync_models(session, load_catalog(()).models)
    assert [ids[m] for m in MODELS] == [1, 2, 3], ids
    rng = np.random.default_rng(20261203)
    started = time.perf_counter()
    with engine.begin() as conn:
        terms = rng.random(n_voters)
        conn.execute(insert(Voter), [
            dict(id=f"bench-voter-{v:06d}", created_at=T0, terms_version=None if terms[v] < 0.03 else "2026-12",
                 terms_accepted_at=None if terms[v] < 0.03 else T0,
                 withdrawn_at=T0 if 0.03 <= terms[v] < 0.05 else None)
            for v in range(n_voters)
        ])
    for start in range(0, battles, chunk):
        rows = _rows(start, min(battles, start + chunk), battles, n_voters, rng)
        with engine.begin() as conn:
            for table, key in ((Battle, "battles"), (Turn, "turns"), (Output, "outputs"), (Vote, "votes")):
                conn.execute(insert(table), rows[key])
        if start // chunk % 10 == 0:
            log.info("seeded %d battles (%.0f s)", start + chunk, time.perf_counter() - started)
    with sessions() as session:
        votes = session.scalar(select(func.count(Vote.id)))
    log.info("seeded %d votes in %.0f s", votes, time.perf_counter() - started)
    engine.dispose()
    (data / SEEDED).write_text(f"{battles}\n")


def _seeded(data: Path, battles: int) -> bool:
    """Whether `data` holds a finished seed of `battles` battles (an interrupted one is seeded again)."""
    marker = data / SEEDED
    return marker.exists() and marker.read_text().strip() == str(battles)


def build(data: Path, workers: int, profile: bool) -> dict[str, Any]:
    """Build one release on the seeded database (in this process) and measure it."""
    from arena.media import LocalMediaStore
    from arena.services.releases import ReleaseService

    settings = _settings(data)
    shutil.rmtree(data / "releases", ignore_errors=True)
    engine = make_engine(settings.resolved_database_url)
    sessions = make_session_factory(engine)
    with write_session(sessions) as session:  # a rerun rebuilds the same window
        session.execute(delete(Release))
        session.execute(delete(JobLock))
    service = ReleaseService(sessions, settings, load_catalog(()), LocalMediaStore(data / "media"), workers=workers)
    until = T0 + SPAN + timedelta(days=settings.release.embargo_days, hours=1)
    profiler = cProfile.Profile() if profile else None
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    summary = service.build(until=until)
    if profiler:
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
    seconds = time.perf_counter() - started
    own_usage, child_usage = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    own, child = own_usage.ru_maxrss / 1024, child_usage.ru_maxrss / 1024
    cpu = {"cpu_s_main": round(own_usage.ru_utime + own_usage.ru_stime - cpu_before, 1),
           "cpu_s_workers": round(child_usage.ru_utime + child_usage.ru_stime, 1)}
    engine.dispose()
    return {"battles_in_window": summary["rows"] + sum(summary["excluded"].values()), "rows": summary["rows"],
            "excluded": summary["excluded"], "seconds": round(seconds, 1),
            "battles_per_s": round((summary["rows"] + sum(summary["excluded"].values())) / seconds),
            "bytes": summary["bytes"], "workers": workers, "peak_rss_main_mb": round(own),
            "peak_rss_largest_worker_mb": round(child) if workers > 1 else 0, **cpu,
            "python": platform.python_version(), "cpus": os.cpu_count()}


def main() -> int:
    """Seed (unless --reuse), then build in a fresh process so its peak memory is the build's alone."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--battles", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--data", type=Path, default=Path("/tmp/arena-bench-release"))
    parser.add_argument("--reuse", action="store_true", help="build on the database seeded before, if there is one")
    parser.add_argument("--profile", action="store_true", help="cProfile the build (slower)")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build_only:
        sys.stdout.write(json.dumps(build(args.data, args.workers, args.profile)) + "\n")
        return 0
    if not (args.reuse and _seeded(args.data, args.battles)):
        seed(args.data, args.battles)
    command = [sys.executable, "-m", "bench.bench_release", "--build-only", "--data", str(args.data),
               "--workers", str(args.workers), *(["--profile"] if args.profile else [])]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    if args.profile:
        sys.stderr.write(done.stderr)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    log.info("release benchmark: %s", json.dumps(result))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
