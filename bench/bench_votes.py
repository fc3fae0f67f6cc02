"""Vote-path load benchmark: many voters vote on READY battles over real HTTP; then every vote is accounted for.

For each database (SQLite, PostgreSQL) and each run the benchmark
  1. starts the app exactly as shipped (`python app.py`, uvicorn on 127.0.0.1) on a fresh database
     (`--app-processes N`: N replicas on N ports sharing the database, requests spread round-robin over
     them as a load balancer would; the second starts once the first has migrated);
  2. bulk-inserts READY battles (battle + turn + two outputs each) straight into the database, because
     generating them is not what is measured;
  3. warms up, then measures a closed-loop *capacity* phase (C connections voting back to back) and an
     open-loop *fixed-rate* phase (votes scheduled at --rate per second, latency counted from the scheduled
     send time, so a stalled server cannot hide its queueing);
  4. sends a small fraction of votes twice at once (a double click) - both must be acknowledged with the
     same reveal and stored once;
  5. stops the app and checks the database against the acknowledgements: 0 lost, 0 duplicated, outcomes
     equal, battles marked voted, and the pair counts ('overall') summing to the counted votes.

Usage: python -m bench.bench_votes [--db sqlite postgres] [--runs 3] [--rate 500] [--duration 10]
       [--app-processes 1]
Results: JSON (--out) with per-run figures and medians; a log summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, create_engine, func, insert, select

from arena.db.schema import Battle, Model, Output, PairCount, Turn, Vote, Voter
from bench.harness import (
    DEFAULT_PG_ADMIN_URL,
    LOOPBACK_RATE_LIMITS,
    AppProcess,
    cpu_seconds,
    machine_info,
    median_of,
    openai_models,
    postgres_database,
    py_spy,
    summarize_ms,
    write_config,
)
from bench.loopclient import LoopbackHttp, RoundRobin

log = logging.getLogger("bench.votes")

PROMPTS = (
    "What is the capital of Australia, and why is it not Sydney?",
    "Write a Python function that returns the n-th Fibonacci number without recursion.",
    "Explique-moi la différence entre la météo et le climat.",
    "¿Cómo funciona una vacuna de ARNm?",
    "Summarize the plot of Moby-Dick in three sentences.",
    "Was ist der Unterschied zwischen einem Virus und einem Bakterium?",
    "SELECT the ten most recent orders per customer: how would you write that query?",
    "Give me three ideas for a rainy Sunday afternoon with kids.",
)
OUTCOMES = ("model_a", "model_b", "tie", "tie_bothbad")


@dataclass(frozen=True)
class VoteJob:
    """One vote to cast: on a battle owned by `voter`; `double` sends it twice at once."""

    battle_id: str
    voter: str
    outcome: str
    double: bool


@dataclass
class Tally:
    """What the client saw during one phase (and across phases for `acked`)."""

    acked: dict[str, str]
    latencies_ms: list[float] = field(default_factory=list)
    service_ms: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    votes: int = 0
    requests: int = 0
    mismatched_doubles: int = 0
    unsent: int = 0

    def count(self, key: str) -> None:
        self.statuses[key] = self.statuses.get(key, 0) + 1


def prepare_battles(engine: Engine, count: int, voters: int, rng: np.random.Generator) -> list[VoteJob]:
    """Bulk-insert `count` READY text battles, each between a pair drawn uniformly from the catalogue."""
    with engine.connect() as conn:
        ids = list(conn.execute(select(Model.id).order_by(Model.id)).scalars())
    voter_ids = [f"bench-voter-{uuid.uuid4().hex[:16]}" for _ in range(voters)]
    now = datetime.now(UTC)
    jobs: list[VoteJob] = []
    # The write lock is taken at BEGIN (see arena.db.engine), so a running app's writes are waited for.
    with engine.connect().execution_options(sqlite_immediate=True) as conn, conn.begin():
        start_turn = int(conn.execute(select(func.coalesce(func.max(Turn.id), 0))).scalar_one()) + 1
        conn.execute(insert(Voter), [{"id": v, "created_at": now} for v in voter_ids])
        for offset in range(0, count, 5000):
            battles: list[dict[str, Any]] = []
            turns: list[dict[str, Any]] = []
            outputs: list[dict[str, Any]] = []
            for i in range(offset, min(count, offset + 5000)):
                battle_id, voter = uuid.uuid4().hex, voter_ids[i % voters]
                pair = [int(k) for k in rng.choice(len(ids), size=2, replace=False)]
                turn_id = start_turn + i
                battles.append({"id": battle_id, "arena": "text", "mode": "anonymous", "voter_id": voter,
                                "session_id": "", "model_a_id": ids[pair[0]], "model_b_id": ids[pair[1]],
                                "pair_probability": 1.0, "status": "ready", "routing": {}, "created_at": now,
                                "ready_at": now})
                turns.append({"id": turn_id, "battle_id": battle_id, "idx": 0, "created_at": now,
                              "prompt": PROMPTS[int(rng.integers(len(PROMPTS)))]})
                outputs.extend({"turn_id": turn_id, "side": side, "model_id": ids[pair[k]],
                                "text": "An answer of a few words.", "latency_ms": 900.0, "first_chunk_ms": 60.0,
                                "finish_reason": "stop", "style": {}, "citations": [], "trace": [],
                                "listened_s": 0.0, "created_at": now} for k, side in enumerate("ab"))
                jobs.append(VoteJob(battle_id, voter, OUTCOMES[int(rng.integers(4))], False))
            conn.execute(insert(Battle), battles)
            conn.execute(insert(Turn), turns)
            conn.execute(insert(Output), outputs)
    return jobs


def mark_doubles(jobs: list[VoteJob], fraction: float, rng: np.random.Generator) -> list[VoteJob]:
    """Flag a random `fraction` of the jobs to be sent twice at once."""
    flags = rng.random(len(jobs)) < fraction
    return [VoteJob(j.battle_id, j.voter, j.outcome, bool(f)) for j, f in zip(jobs, flags, strict=True)]


Client = LoopbackHttp | RoundRobin


async def _post(client: Client, job: VoteJob, tally: Tally) -> tuple[int, dict[str, Any] | None]:
    token = job.battle_id[:16]
    body = {"outcome": job.outcome, "voter": job.voter, "client_token": token}
    tally.requests += 1
    try:
        status, answer = await client.post_json(f"/api/battles/{job.battle_id}/vote", body)
    except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
        tally.count(type(exc).__name__)
        return -1, None
    tally.count(str(status))
    return status, answer if status == 200 else None


async def cast(client: Client, job: VoteJob, scheduled: float, tally: Tally) -> None:
    """Send one vote (twice at once for a double click) and record latency and acknowledgement."""
    sent = time.perf_counter()
    if job.double:
        (s1, r1), (s2, r2) = await asyncio.gather(_post(client, job, tally), _post(client, job, tally))
        if (s1 == 200) != (s2 == 200) or r1 != r2:
            tally.mismatched_doubles += 1
        status, reveal = (s1, r1) if s1 == 200 else (s2, r2)
    else:
        status, reveal = await _post(client, job, tally)
    done = time.perf_counter()
    tally.latencies_ms.append((done - scheduled) * 1000.0)
    tally.service_ms.append((done - sent) * 1000.0)
    if status == 200 and reveal is not None and reveal.get("outcome") == job.outcome:
        tally.acked[job.battle_id] = job.outcome
        tally.votes += 1


async def closed_loop(client: Client, jobs: Iterator[VoteJob], concurrency: int, duration_s: float,
                      tally: Tally) -> float:
    """`concurrency` workers vote back to back for `duration_s`; returns the elapsed seconds."""
    start = time.perf_counter()
    stop_at = start + duration_s

    async def worker() -> None:
        for job in jobs:
            now = time.perf_counter()
            if now >= stop_at:
                return
            await cast(client, job, now, tally)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start


async def open_loop(client: Client, jobs: Iterator[VoteJob], rate: float, duration_s: float,
                    max_inflight: int, tally: Tally) -> float:
    """Votes scheduled every 1/rate s for `duration_s`, at most `max_inflight` open; seconds until all answered.

    Nothing is issued after `duration_s`: arrivals that the in-flight cap held back past the end are counted
    as `unsent`, so an overloaded server shows up as a lower achieved rate, not as an endless phase.
    """
    gate = asyncio.Semaphore(max_inflight)
    tasks: list[asyncio.Task[None]] = []
    start = time.perf_counter()
    planned = int(rate * duration_s)

    async def one(job: VoteJob, scheduled: float) -> None:
        try:
            await cast(client, job, scheduled, tally)
        finally:
            gate.release()

    for i, job in zip(range(planned), jobs, strict=False):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await gate.acquire()
        if time.perf_counter() > start + duration_s:
            gate.release()
            break
        tasks.append(asyncio.create_task(one(job, scheduled)))
    tally.unsent = planned - len(tasks)
    await asyncio.gather(*tasks)
    return time.perf_counter() - start


def phase_report(tally: Tally, elapsed: float, app_cpu: float, client_cpu: float) -> dict[str, Any]:
    """Rates, latency percentiles and CPU use of one phase."""
    return {
        "votes": tally.votes, "requests": tally.requests, "elapsed_s": round(elapsed, 3),
        "votes_per_s": tally.votes / elapsed, "requests_per_s": tally.requests / elapsed,
        "latency_ms": summarize_ms(tally.latencies_ms), "service_ms": summarize_ms(tally.service_ms),
        "statuses": dict(tally.statuses), "mismatched_doubles": tally.mismatched_doubles,
        "unsent": tally.unsent,
        "app_cpu_cores": app_cpu / elapsed, "client_cpu_cores": client_cpu / elapsed,
        "app_cpu_ms_per_vote": app_cpu * 1000.0 / max(tally.votes, 1), "loadavg_1m": os.getloadavg()[0],
    }


def verify(engine: Engine, acked: dict[str, str]) -> dict[str, Any]:
    """Compare the database with the acknowledged votes: lost, duplicated, wrong outcome, unacknowledged."""
    with engine.connect() as conn:
        stored = dict(conn.execute(select(Vote.battle_id, Vote.outcome)).all())
        duplicated = conn.execute(
            select(func.count()).select_from(
                select(Vote.battle_id).group_by(Vote.battle_id).having(func.count() > 1).subquery())).scalar_one()
        voted = conn.execute(select(func.count()).where(Battle.status == "voted")).scalar_one()
        counted = conn.execute(select(func.count()).where(Vote.counted.is_(True))).scalar_one()
        cells = conn.execute(
            select(func.coalesce(func.sum(PairCount.wins_lo + PairCount.wins_hi + PairCount.ties
                                          + PairCount.bothbad), 0)).where(PairCount.category == "overall")
        ).scalar_one()
    return {
        "acknowledged": len(acked),
        "stored": len(stored),
        "lost": sum(1 for b in acked if b not in stored),
        "duplicated": int(duplicated),
        "wrong_outcome": sum(1 for b, o in acked.items() if b in stored and stored[b] != o),
        "stored_unacknowledged": sum(1 for b in stored if b not in acked),
        "battles_voted": int(voted),
        "counted_votes": int(counted),
        "pair_count_total": int(cells),
    }


def _ok(check: dict[str, Any]) -> bool:
    return (check["lost"] == 0 and check["duplicated"] == 0 and check["wrong_outcome"] == 0
            and check["stored"] == check["acknowledged"] == check["battles_voted"]
            and check["pair_count_total"] == check["counted_votes"])


def _phases(client: Client, feed: Iterator[VoteJob], args: argparse.Namespace
            ) -> list[tuple[str, Callable[[Tally], Awaitable[float]]]]:
    """The measured phases: closed-loop capacity, then one open-loop phase per --rate."""
    phases: list[tuple[str, Callable[[Tally], Awaitable[float]]]] = [
        ("capacity", lambda t: closed_loop(client, feed, args.concurrency, args.duration, t))]
    for rate in args.rate:
        phases.append((f"rate_{rate:g}", partial(open_loop, client, feed, rate, args.duration, args.max_inflight)))
    return phases


async def drive(apps: list[AppProcess], jobs: list[VoteJob], args: argparse.Namespace, profile: Path | None
                ) -> tuple[dict[str, Any], dict[str, str]]:
    """Warm-up then the measured phases against a running app; (phase reports, acknowledged votes)."""
    acked: dict[str, str] = {}
    feed = iter(jobs)
    report: dict[str, Any] = {}
    client: Client = LoopbackHttp(apps[0].port, max_connections=args.max_inflight)
    if len(apps) > 1:
        client = RoundRobin([LoopbackHttp(app.port, max_connections=args.max_inflight) for app in apps])
    try:
        await closed_loop(client, feed, args.concurrency, args.warmup, Tally(acked))
        for name, run in _phases(client, feed, args):
            tally = Tally(acked)
            pid = apps[0].pid
            spy = py_spy(pid, profile / f"votes-{name}-{pid}.txt", args.duration) if profile else None
            app_cpu, client_cpu = _app_cpu(apps), time.process_time()
            elapsed = await run(tally)
            report[name] = phase_report(tally, elapsed, _app_cpu(apps) - app_cpu,
                                        time.process_time() - client_cpu)
            if spy is not None:
                spy.wait(timeout=60)
    finally:
        await client.aclose()
    return report, acked


def _app_cpu(apps: list[AppProcess]) -> float:
    """CPU seconds used so far by every app process together."""
    return sum(cpu_seconds(app.pid) for app in apps)


def run_once(backend: str, args: argparse.Namespace, seed: int, profile: Path | None) -> dict[str, Any]:
    """One complete run on a fresh database: start app, prepare, load, stop, verify."""
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory(prefix="arena-bench-votes-") as tmp, ExitStack() as stack:
        root = Path(tmp)
        sections: dict[str, dict[str, Any]] = {"arena": {"rate_limits": LOOPBACK_RATE_LIMITS}}
        if args.refresh_seconds:
            sections["leaderboard"] = {"refresh_seconds": args.refresh_seconds}
        names = [f"bench-model-{k:02d}" for k in range(args.models)]
        config = write_config(root / "arena.toml", openai_models("http://127.0.0.1:9/v1", names), sections)
        db_url = stack.enter_context(postgres_database(args.pg_url) if backend == "postgres" else nullcontext(""))
        apps: list[AppProcess] = []
        for _ in range(args.app_processes):  # one after the other: the first migrates the fresh database
            app = AppProcess(root / "data", database_url=db_url, config=config).start()
            stack.callback(app.stop)
            apps.append(app.wait_ready())
        engine = create_engine(db_url or f"sqlite:///{root / 'data' / 'arena.db'}")
        stack.callback(engine.dispose)
        prepared = time.perf_counter()
        jobs = mark_doubles(prepare_battles(engine, args.battles, args.voters, rng), args.double_fraction, rng)
        log.info("%s: %d READY battles inserted in %.1f s", backend, len(jobs), time.perf_counter() - prepared)
        report, acked = asyncio.run(drive(apps, jobs, args, profile))
        for app in apps:
            app.stop()
        check = verify(engine, acked)
    result = {"backend": backend, "seed": seed, "app_processes": args.app_processes, "phases": report,
              "integrity": check, "integrity_ok": _ok(check)}
    for name, phase in report.items():
        log.info("%s %s: %.0f votes/s, latency p50 %.1f p95 %.1f p99 %.1f ms, app %.2f cores (%.1f ms CPU/vote), "
                 "unsent %d, load %.1f, %s", backend, name, phase["votes_per_s"], phase["latency_ms"]["p50"],
                 phase["latency_ms"]["p95"], phase["latency_ms"]["p99"], phase["app_cpu_cores"],
                 phase["app_cpu_ms_per_vote"], phase["unsent"], phase["loadavg_1m"], phase["statuses"])
    log.info("%s integrity: %s", backend, json.dumps(check))
    return result


def medians(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Medians over runs of the headline figures of every phase."""
    figures = {"votes_per_s": ("votes_per_s",), "p50_ms": ("latency_ms", "p50"), "p95_ms": ("latency_ms", "p95"),
               "p99_ms": ("latency_ms", "p99"), "app_cpu_cores": ("app_cpu_cores",),
               "client_cpu_cores": ("client_cpu_cores",), "unsent": ("unsent",),
               "app_cpu_ms_per_vote": ("app_cpu_ms_per_vote",), "loadavg_1m": ("loadavg_1m",)}
    return {phase: {name: median_of(runs, "phases", phase, *path) for name, path in figures.items()}
            for phase in runs[0]["phases"]}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (defaults: both databases, 3 runs, 500 votes/s for 10 s)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", nargs="+", choices=("sqlite", "postgres"), default=["sqlite", "postgres"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rate", type=float, nargs="+", default=[500.0], help="fixed-rate phases: votes/s")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured phase")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up (not reported)")
    parser.add_argument("--app-processes", type=int, default=1,
                        help="app replicas sharing the database (requests spread round-robin; CPU summed)")
    parser.add_argument("--concurrency", type=int, default=32, help="capacity phase: connections")
    parser.add_argument("--max-inflight", type=int, default=256, help="fixed-rate phase: cap on open requests")
    parser.add_argument("--battles", type=int, default=25_000, help="READY battles prepared per run")
    parser.add_argument("--voters", type=int, default=2_000)
    parser.add_argument("--models", type=int, default=10,
                        help="catalogue size; each battle is a uniform pair (2 = every vote on one pair's counts)")
    parser.add_argument("--double-fraction", type=float, default=0.02, help="votes sent twice at once")
    parser.add_argument("--pg-url", default=DEFAULT_PG_ADMIN_URL, help="PostgreSQL admin URL (a db is created)")
    parser.add_argument("--refresh-seconds", type=float, default=0.0,
                        help="[leaderboard] refresh_seconds for the app (0: the app's default)")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--py-spy", type=Path, default=None, help="folder for py-spy raw profiles (first run)")
    parser.add_argument("--out", type=Path, default=Path("bench/results/votes.json"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run every backend `--runs` times; write per-run results and medians to --out."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    args = parse_args(argv)
    results: dict[str, Any] = {"machine": machine_info(), "args": {k: str(v) for k, v in vars(args).items()}}
    all_ok = True
    for backend in args.db:
        runs = [run_once(backend, args, args.seed + i, args.py_spy if i == 0 else None) for i in range(args.runs)]
        all_ok = all_ok and all(r["integrity_ok"] for r in runs)
        results[backend] = {"runs": runs, "median": medians(runs)}
        log.info("%s medians: %s", backend, json.dumps(results[backend]["median"], indent=None))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    log.info("results in %s; integrity %s", args.out, "OK" if all_ok else "FAILED")
    return 0 if all_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
