"""Run the real app as a subprocess (`python app.py`) on loopback, plus helpers the benchmarks and crash test share.

The app is started exactly as an operator starts it: `python app.py` with ARENA_* environment variables, so
what is measured (or killed) is the shipped server, uvicorn and logging included. Its output goes to a log
file (never a pipe nobody reads, which would stall the server once the pipe buffer fills).
"""

from __future__ import annotations

import os
import platform
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _toml_value(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key} = {_toml_value(item)}" for key, item in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(f"cannot write {value!r} to TOML")


def write_config(path: Path, models: Sequence[Mapping[str, Any]],
                 sections: Mapping[str, Mapping[str, Any]] | None = None) -> Path:
    """Write an arena.toml with `[section]` tables and `[[models]]` tables (their `options` as a sub-table)."""
    lines: list[str] = []
    for name, table in (sections or {}).items():
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in table.items())
    for model in models:
        lines.append("[[models]]")
        lines.extend(f"{key} = {_toml_value(value)}" for key, value in model.items() if key != "options")
        if model.get("options"):
            lines.append("[models.options]")
            lines.extend(f"{key} = {_toml_value(value)}" for key, value in model["options"].items())
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# Every simulated voter of a benchmark comes from 127.0.0.1: lift the per-address buckets (the per-voter
# limits stay as shipped), as a deployment behind a proxy would see many addresses.
LOOPBACK_RATE_LIMITS = {
    "votes": {"address": {"per_second": 1_000_000, "burst": 1_000_000}},
    "battles": {"address": {"per_second": 1_000_000, "burst": 1_000_000}},
}


def openai_models(base_url: str, names: Sequence[str] = ("bench-model-a", "bench-model-b")) -> list[dict[str, Any]]:
    """Catalogue tables for text models served by an OpenAI-compatible server at `base_url`."""
    return [
        {"name": name, "modality": "text", "provider": "openai_chat", "display_name": name.replace("-", " "),
         "options": {"base_url": base_url, "model": name, "connect_timeout": 5.0, "read_timeout": 60.0}}
        for name in names
    ]


class AppProcess:
    """`python app.py` in a subprocess with the given ARENA_* variables, served on 127.0.0.1:`port`."""

    def __init__(self, data_dir: Path, *, port: int | None = None, database_url: str = "",
                 config: Path | None = None, python: str = sys.executable) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.python = python
        self.log_path = data_dir.parent / f"app-{self.port}.log"
        self.env = {
            **os.environ,
            "ARENA_HOST": "127.0.0.1",
            "ARENA_PORT": str(self.port),
            "ARENA_DATA_DIR": str(data_dir),
            "GRADIO_ANALYTICS_ENABLED": "False",
        }
        for key in ("ARENA_DATABASE_URL", "ARENA_CONFIG"):
            self.env.pop(key, None)
        if database_url:
            self.env["ARENA_DATABASE_URL"] = database_url
        if config is not None:
            self.env["ARENA_CONFIG"] = str(config)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None, "the app was not started"
        return self.proc.pid

    def start(self) -> AppProcess:
        """Launch the process (from the data folder's parent, so no stray ./arena.toml is picked up)."""
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [self.python, str(ROOT / "app.py")], cwd=self.data_dir.parent, env=self.env,
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        return self

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the process's output (for error messages)."""
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]

    def wait_ready(self, timeout_s: float = 120.0) -> AppProcess:
        """Poll /api/health until it answers 200; fail with the log tail if the process dies or times out."""
        assert self.proc is not None, "call start() first"
        deadline = time.monotonic() + timeout_s
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the app exited with {self.proc.returncode}:\n{self.log_tail()}")
                try:
                    if client.get(f"{self.url}/api/health").status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        raise TimeoutError(f"the app did not answer /api/health within {timeout_s:.0f} s:\n{self.log_tail()}")

    def wait_exit(self, timeout_s: float) -> int:
        """Wait for the process to exit on its own; its exit status."""
        assert self.proc is not None, "call start() first"
        return self.proc.wait(timeout=timeout_s)

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to flush, commit or clean up."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM (uvicorn's graceful shutdown), then SIGKILL if it takes longer than 15 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()


@contextmanager
def postgres_database(admin_url: str = DEFAULT_PG_ADMIN_URL) -> Iterator[str]:
    """A throwaway PostgreSQL database on the server at `admin_url`, dropped afterwards."""
    name = f"arena_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{admin_url.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def summarize_ms(values: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max/mean of a list of milliseconds (NaN when empty)."""
    if not values:
        return {key: float("nan") for key in ("p50", "p95", "p99", "max", "mean")}
    arr = np.asarray(values, dtype=float)
    p50, p95, p99 = np.percentile(arr, [50, 95, 99])
    return {"p50": float(p50), "p95": float(p95), "p99": float(p99), "max": float(arr.max()),
            "mean": float(arr.mean())}


def median_of(runs: Sequence[Mapping[str, Any]], *path: str) -> float:
    """The median over runs of the number found at `path` in each run's result."""
    values = []
    for run in runs:
        node: Any = run
        for key in path:
            node = node[key]
        values.append(float(node))
    return float(np.median(values))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_info() -> dict[str, str]:
    """nproc, CPU model, RAM, Python and date of this machine, for the benchmark write-up."""
    cpu = "unknown"
    ram = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "ram": ram,
        "python": platform.python_version(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
    }


def py_spy(pid: int, output: Path, duration: float | None = None) -> subprocess.Popen[bytes]:
    """Sample process `pid` with py-spy (GIL holder, raw collapsed stacks) into `output`, for `duration`
    seconds or until stopped."""
    output.parent.mkdir(parents=True, exist_ok=True)
    exe = Path(sys.executable).with_name("py-spy")
    command = [str(exe) if exe.exists() else "py-spy", "record", "--pid", str(pid), "--rate", "250", "--format",
               "raw", "--nonblocking", "--gil", "--output", str(output)]
    if duration is not None:
        command += ["--duration", str(int(duration))]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
