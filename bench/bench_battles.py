"""Battle-path benchmark: N concurrent streaming battles in one app process against a fixed-pace model server.

Setup: bench/fake_openai_server.py runs as its own process and streams every answer at a fixed pace
(first token after --ttft-ms, then one token every --interval-ms); two catalogue models with provider
`openai_chat` point at it (written to an ARENA_CONFIG TOML). The app runs as shipped (`python app.py`).
All N battles are started at once through POST /api/battles (or, with `--ramp-s S`, one every S/N seconds:
arrivals spread over S seconds, with streams long enough that all N are in flight together - the reported
`peak_battles_streaming` says how many were); each must come back `ready`.

What is reported (per output = one side of one battle, matched to the fake server's own record of that
request by prompt and model):
  * app_ttft_ms     - `outputs.first_chunk_ms` (the app's time from starting the side to its first chunk)
                      minus the server's own receive-to-first-token time: the latency the app's provider
                      path adds to the first token (HTTP client, connection pool, SSE parsing, queueing).
  * dispatch_ms     - from the client sending POST /api/battles to the model server receiving the call:
                      the app's work before it asks the model (validation, DB insert, thread hops).
  * overhead_ms     - per battle: the client's whole request time minus the slower side's stream time at
                      the server: everything the app adds end to end.
  * peak_battles_streaming - the most battles with both sides streaming at the model server at one moment.
Usage: python -m bench.bench_battles [--battles 200] [--runs 3] [--db sqlite|postgres] [--ramp-s 0]
       [--tokens 20] [--interval-ms 50] [--py-spy FOLDER]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, nullcontext
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, select
from sqlalchemy.orm import aliased

from arena.db.schema import Model, Output, Turn
from bench.harness import (
    DEFAULT_PG_ADMIN_URL,
    LOOPBACK_RATE_LIMITS,
    ROOT,
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

log = logging.getLogger("bench.battles")


class FakeServerProcess:
    """bench/fake_openai_server.py in a subprocess; `url` is its /v1 base URL."""

    def __init__(self, folder: Path, ttft_ms: float, tokens: int, interval_ms: float) -> None:
        self.port_file = folder / "fake-port"
        self.command = [sys.executable, "-m", "bench.fake_openai_server", "--port-file", str(self.port_file),
                        "--ttft-ms", str(ttft_ms), "--tokens", str(tokens), "--interval-ms", str(interval_ms)]
        self.proc: subprocess.Popen[bytes] | None = None
        self.root = ""

    def start(self) -> FakeServerProcess:
        self.proc = subprocess.Popen(self.command, cwd=ROOT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the fake model server exited with {self.proc.returncode}")
            if self.port_file.exists() and self.port_file.read_text().strip():
                self.root = f"http://127.0.0.1:{self.port_file.read_text().strip()}"
                if httpx.get(f"{self.root}/stats", timeout=2, trust_env=False).status_code == 200:
                    return self
            time.sleep(0.05)
        raise TimeoutError("the fake model server did not start")

    @property
    def url(self) -> str:
        return f"{self.root}/v1"

    def stats(self) -> list[dict[str, Any]]:
        return list(httpx.get(f"{self.root}/stats", timeout=30, trust_env=False).json()["requests"])

    def reset(self) -> None:
        httpx.post(f"{self.root}/reset", timeout=10, trust_env=False).raise_for_status()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=15)


async def start_battles(app_url: str, count: int, tag: str, ramp_s: float = 0.0) -> list[dict[str, Any]]:
    """POST `count` battles at once (or the i-th after i*ramp_s/count seconds); each record has prompt,
    send/finish wall times, status and body."""
    limits = httpx.Limits(max_connections=count + 8, max_keepalive_connections=count + 8)
    async with httpx.AsyncClient(base_url=app_url, limits=limits, timeout=300.0, trust_env=False) as client:

        async def one(i: int) -> dict[str, Any]:
            prompt = f"{tag} battle {i}: describe a lighthouse in two sentences."
            body = {"arena": "text", "prompt": prompt, "voter": f"{tag}-voter-{i:05d}"}
            if ramp_s > 0:
                await asyncio.sleep(i * ramp_s / count)
            sent = time.time()
            try:
                response = await client.post("/api/battles", json=body)
                status, payload = response.status_code, response.json()
            except httpx.HTTPError as exc:
                status, payload = -1, {"error": {"message": repr(exc)}}
            return {"prompt": prompt, "sent": sent, "done": time.time(), "http": status, "body": payload}

        return list(await asyncio.gather(*(one(i) for i in range(count))))


def load_outputs(db_url: str) -> list[dict[str, Any]]:
    """Every stored output with its turn's prompt and its model's name."""
    engine = create_engine(db_url)
    model = aliased(Model)
    stmt = (select(Turn.prompt, model.name, Output.first_chunk_ms, Output.latency_ms, Output.error_code)
            .join(Turn, Turn.id == Output.turn_id).join(model, model.id == Output.model_id))
    try:
        with engine.connect() as conn:
            return [{"prompt": p, "model": m, "first_chunk_ms": f, "latency_ms": lat, "error": e}
                    for p, m, f, lat, e in conn.execute(stmt)]
    finally:
        engine.dispose()


def analyse(battles: list[dict[str, Any]], outputs: list[dict[str, Any]], server: list[dict[str, Any]]
            ) -> dict[str, Any]:
    """Match outputs and battles to the server's records; the three latency figures and completion counts."""
    by_key = {(s["prompt"], s["model"]): s for s in server}
    sent = {b["prompt"]: b["sent"] for b in battles}
    app_ttft, dispatch = [], []
    for out in outputs:
        record = by_key.get((out["prompt"], out["model"]))
        if record is None or out["first_chunk_ms"] is None or record["server_ttft_ms"] is None:
            continue
        app_ttft.append(out["first_chunk_ms"] - record["server_ttft_ms"])
        if out["prompt"] in sent:
            dispatch.append((record["received"] - sent[out["prompt"]]) * 1000.0)
    overhead = []
    for battle in battles:
        sides = [s for s in server if s["prompt"] == battle["prompt"] and s["finished"] is not None]
        if len(sides) == 2:
            stream_s = max(s["finished"] - s["received"] for s in sides)
            overhead.append((battle["done"] - battle["sent"] - stream_s) * 1000.0)
    ready = sum(1 for b in battles if b["http"] == 200 and b["body"].get("status") == "ready")
    streaming = []  # per battle: the span during which both of its sides were streaming at the server
    for prompt in {b["prompt"] for b in battles}:
        sides = [s for s in server if s["prompt"] == prompt and s["finished"] is not None]
        if len(sides) == 2:
            streaming.append((max(s["received"] for s in sides), min(s["finished"] for s in sides)))
    errors: dict[str, int] = {}
    for out in outputs:
        if out["error"]:
            errors[out["error"]] = errors.get(out["error"], 0) + 1
    return {
        "battles": len(battles), "ready": ready, "http_statuses": _count(b["http"] for b in battles),
        "output_errors": errors, "server_requests": len(server),
        "app_ttft_ms": summarize_ms(app_ttft), "dispatch_ms": summarize_ms(dispatch),
        "overhead_ms": summarize_ms(overhead), "peak_battles_streaming": peak_overlap(streaming),
        "first_chunk_ms": summarize_ms([o["first_chunk_ms"] for o in outputs if o["first_chunk_ms"] is not None]),
        "server_ttft_ms": summarize_ms([s["server_ttft_ms"] for s in server if s["server_ttft_ms"] is not None]),
    }


def peak_overlap(spans: list[tuple[float, float]]) -> int:
    """The largest number of (start, end) spans that contain one common moment."""
    edges = sorted([(start, 1) for start, end in spans if end > start] + [(end, -1) for start, end in spans
                                                                            if end > start])
    peak = live = 0
    for _moment, step in edges:  # at equal times an end (-1) sorts before a start (+1): touching is not overlap
        live += step
        peak = max(peak, live)
    return peak


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[str(value)] = counts.get(str(value), 0) + 1
    return counts


def run_once(args: argparse.Namespace, index: int) -> dict[str, Any]:
    """Fresh fake server, app and database; warm up, run N concurrent battles, analyse."""
    with tempfile.TemporaryDirectory(prefix="arena-bench-battles-") as tmp, ExitStack() as stack:
        root = Path(tmp)
        fake = FakeServerProcess(root, args.ttft_ms, args.tokens, args.interval_ms).start()
        stack.callback(fake.stop)
        config = write_config(root / "arena.toml", openai_models(fake.url),
                              {"arena": {"rate_limits": LOOPBACK_RATE_LIMITS}})
        db_url = stack.enter_context(postgres_database(args.pg_url) if args.db == "postgres" else nullcontext(""))
        app = AppProcess(root / "data", database_url=db_url, config=config).start()
        stack.callback(app.stop)
        app.wait_ready()
        asyncio.run(start_battles(app.url, 4, f"warmup{index}"))
        fake.reset()
        profiled = args.py_spy and index == 0
        spy = py_spy(app.pid, args.py_spy / f"battles-run{index}-{app.pid}.txt") if profiled else None
        cpu = cpu_seconds(app.pid)
        started = time.perf_counter()
        battles = asyncio.run(start_battles(app.url, args.battles, f"run{index}", args.ramp_s))
        wall = time.perf_counter() - started
        app_cpu = cpu_seconds(app.pid) - cpu
        if spy is not None:
            spy.send_signal(signal.SIGINT)  # py-spy writes its profile when interrupted
            spy.wait(timeout=60)
        server = fake.stats()
        app.stop()
        outputs = load_outputs(db_url or f"sqlite:///{root / 'data' / 'arena.db'}")
    run_prompts = {b["prompt"] for b in battles}
    result = analyse(battles, [o for o in outputs if o["prompt"] in run_prompts], server)
    result.update(wall_s=wall, app_cpu_s=app_cpu, app_cpu_ms_per_battle=app_cpu * 1000.0 / max(args.battles, 1),
                  all_complete=result["ready"] == args.battles, loadavg_1m=os.getloadavg()[0],
                  ramp_s=args.ramp_s)
    log.info("run %d: %d/%d ready in %.2f s (app CPU %.1f s); app TTFT p50 %.1f p99 %.1f ms; dispatch p50 %.1f "
             "p99 %.1f ms; overhead p50 %.1f p99 %.1f ms; peak streaming %d; load %.1f; %s %s", index,
             result["ready"], args.battles, wall,
             app_cpu, result["app_ttft_ms"]["p50"], result["app_ttft_ms"]["p99"], result["dispatch_ms"]["p50"],
             result["dispatch_ms"]["p99"], result["overhead_ms"]["p50"], result["overhead_ms"]["p99"],
             result["peak_battles_streaming"], result["loadavg_1m"], result["http_statuses"], result["output_errors"])
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (defaults: 200 battles, 3 runs, SQLite)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--battles", type=int, default=200, help="battles started at once")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--ttft-ms", type=float, default=100.0, help="fake model: time to first token")
    parser.add_argument("--tokens", type=int, default=20, help="fake model: tokens per answer")
    parser.add_argument("--interval-ms", type=float, default=50.0, help="fake model: time between tokens")
    parser.add_argument("--ramp-s", type=float, default=0.0,
                        help="spread the starts over this many seconds (0: all at once)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_ADMIN_URL)
    parser.add_argument("--py-spy", type=Path, default=None, help="folder for a py-spy raw profile (first run)")
    parser.add_argument("--out", type=Path, default=Path("bench/results/battles.json"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run `--runs` times; write per-run results and medians to --out; exit 1 unless every battle completed."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    args = parse_args(argv)
    runs = [run_once(args, i) for i in range(args.runs)]
    keys = {"app_ttft_p50_ms": ("app_ttft_ms", "p50"), "app_ttft_p99_ms": ("app_ttft_ms", "p99"),
            "dispatch_p50_ms": ("dispatch_ms", "p50"), "dispatch_p99_ms": ("dispatch_ms", "p99"),
            "overhead_p50_ms": ("overhead_ms", "p50"), "overhead_p99_ms": ("overhead_ms", "p99"),
            "wall_s": ("wall_s",), "ready": ("ready",), "app_cpu_s": ("app_cpu_s",),
            "app_cpu_ms_per_battle": ("app_cpu_ms_per_battle",), "peak_battles_streaming": ("peak_battles_streaming",),
            "loadavg_1m": ("loadavg_1m",)}
    summary = {name: median_of(runs, *path) for name, path in keys.items()}
    results = {"machine": machine_info(), "args": {k: str(v) for k, v in vars(args).items()},
               "runs": runs, "median": summary}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    log.info("medians: %s; results in %s", json.dumps(summary), args.out)
    return 0 if all(r["all_complete"] for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
