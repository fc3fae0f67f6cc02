"""The two work units of a release build, run in this process or in worker processes, results in order.

Pass one of a batch (a vote-id range of the window): read its battles, build the privacy-pipeline
candidates, screen their texts (`Scrubber.screen`), run the filters, shape the released rows, and write
them marshalled to a spool file of the build's private temporary folder; it returns the file's name with
the rows' quasi-identifiers and the batch's counts. Pass two of a batch: read (and delete) its spool
file, apply the k-anonymity plan, copy its media into the release, and serialise the rows (an Arrow
table and a gzip member of JSON lines). The rows themselves never pass through the main process, which
only appends results in submission order, so any number of workers gives the same rows, in the same
order, as the same bytes.

Workers are started with "spawn" (no inherited database connections or scheduler threads), open their
own engine on the database URL and build their pipeline once per job; at most two units per worker are
in flight, which bounds memory. A unit runs with the cyclic garbage collector paused: a batch makes some
10^5 lists and dicts that reference counting frees, and the collector would otherwise scan them over and
over (about 15% of the build's CPU time).
"""

from __future__ import annotations

import functools
import gc
import marshal
import multiprocessing
import os
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import pyarrow as pa
from sqlalchemy.orm import Session, sessionmaker

from arena.db import release_queries as rq
from arena.db.engine import make_engine, make_session_factory
from arena.errors import NotFoundError
from arena.media import MediaStore
from arena.privacy import (
    DEFAULT_FLAG_POLICY,
    FilterPipeline,
    FlagAction,
    PipelineReport,
    Pseudonymizer,
    ReasonCode,
    ReleasedRecord,
    ReleaseKey,
    Scrubber,
    ScrubConfig,
    default_pipeline,
)
from arena.privacy.names import DEFAULT_ALLOWLIST
from arena.release_files import serialize
from arena.services.release_coarsen import PlanSlice
from arena.services.release_records import (
    REVIEW_CLEARED,
    SIDES,
    build_candidate,
    build_row,
    flag_families,
    published_media,
)

T = TypeVar("T")
P = ParamSpec("P")
# The privacy helper's policy plus the flags arena/services/review.py writes: "anomaly:<reason>" withholds
# like an anomalous voter, a vote a maintainer reviewed and counted again is released marked "quarantined".
RELEASE_FLAG_POLICY: Mapping[str, tuple[FlagAction, ReasonCode]] = {
    **DEFAULT_FLAG_POLICY,
    "anomaly": (FlagAction.WITHHOLD, ReasonCode.ANOMALOUS_VOTER),
    REVIEW_CLEARED: (FlagAction.MARK, ReasonCode.QUARANTINED),
}
QiRow = tuple[str, int, str | None, float | None]
_MEDIA_KEYS = tuple(f"media_{side}" for side in SIDES)


@dataclass(frozen=True)
class ReleaseJob:
    """Everything a work unit needs, picklable; the key is private, so the repr leaves it out."""

    database_url: str
    key_hex: str
    start: datetime
    end: datetime
    folder: str
    media: MediaStore
    publish: tuple[tuple[str, bool], ...] = ()
    extra_allowlist: tuple[str, ...] = ()
    terms_versions: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"ReleaseJob({self.start:%Y-%m-%d %H:%M}..{self.end:%Y-%m-%d %H:%M}, folder={self.folder})"

    def pipeline(self) -> FilterPipeline:
        """The default pipeline with this release's key, catalogue allowlist and terms versions."""
        return build_pipeline(self.key_hex, self.extra_allowlist, self.terms_versions)


def build_pipeline(key_hex: str, extra_allowlist: tuple[str, ...], terms_versions: tuple[str, ...]) -> FilterPipeline:
    """The privacy pipeline of one release."""
    return default_pipeline(
        scrubber=Scrubber(ScrubConfig(name_allowlist=frozenset(DEFAULT_ALLOWLIST | set(extra_allowlist)))),
        pseudonymizer=Pseudonymizer(ReleaseKey.from_hex(key_hex)),
        releasable_terms_versions=frozenset(terms_versions),
        flag_policy=RELEASE_FLAG_POLICY,
    )


SPOOL_DIR = ".spool"


@dataclass
class PassOne:
    """One batch after the filters: its spool file (released rows, marshalled), their quasi-identifiers, its counts.

    Rows hold only str, int, float, bool, None, lists and dicts, which `marshal` writes about twice as fast
    as `pickle` (it raises on anything else, so a row can never change on the way).
    """

    spool: str  # the file under the release folder's SPOOL_DIR, "" when no row was released
    rows: int
    qi: list[QiRow]
    report: PipelineReport


@dataclass
class PassTwo:
    """One batch serialised, and which media files it needed (path -> copied, False when missing)."""

    table: pa.Table
    member: bytes
    media: dict[str, bool] = field(default_factory=dict)


def new_report(pipeline: FilterPipeline) -> PipelineReport:
    """An empty report for `pipeline`."""
    return PipelineReport(pipeline.version, tuple(f.name for f in pipeline.filters))


def merge_report(total: PipelineReport, part: PipelineReport) -> None:
    """Add a batch's counts to the release's report."""
    total.seen += part.seen
    total.released += part.released
    total.withheld.update(part.withheld)
    total.marked.update(part.marked)
    total.details.update(part.details)
    total.replaced.update(part.replaced)


def _collector_paused(fn: Callable[P, T]) -> Callable[P, T]:
    """Run `fn` with the cyclic garbage collector off (restored after, also on error)."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return run


@_collector_paused
def pass_one(sessions: sessionmaker[Session], pipeline: FilterPipeline, job: ReleaseJob, lo: int, hi: int) -> PassOne:
    """Read, filter and shape the battles whose vote id is in [lo, hi)."""
    key = ReleaseKey.from_hex(job.key_hex)
    publish = dict(job.publish)
    with sessions() as session:
        rows = rq.window_rows(session, job.start, job.end, lo, hi)
        details = rq.battle_details(session, rq.window_battle_ids(job.start, job.end, lo, hi)) if rows else {}
    report = new_report(pipeline)
    out: list[dict[str, Any]] = []
    qi: list[QiRow] = []
    no_detail = rq.BattleDetail()  # read only: a battle without turns
    built = []
    for row in rows:
        sides = (publish.get(row.model_a, row.publish_a), publish.get(row.model_b, row.publish_b))
        built.append(build_candidate(row, details.get(row.battle_id, no_detail), sides,
                                     flag_families([*row.battle_flags, *row.vote_flags])))
    pipeline.prepare([candidate for candidate, _ in built])
    for row, (candidate, layout) in zip(rows, built, strict=True):
        report.seen += 1
        outcome = pipeline.process(candidate, report)
        if isinstance(outcome, ReleasedRecord):
            record = build_row(outcome, candidate, layout, row, key)
            seconds = int(layout.voted_at.astimezone(UTC).timestamp())
            music = record["music"]
            qi.append((record["voter"], seconds, record["language"], music["duration_s"] if music else None))
            out.append(record)
    spool = ""
    if out:
        spool = f"{SPOOL_DIR}/{lo:014d}.bin"
        (Path(job.folder) / spool).write_bytes(marshal.dumps(out))
    return PassOne(spool, len(out), qi, report)


def _copy_media(job: ReleaseJob, relative: str) -> bool:
    target = Path(job.folder) / relative
    if target.exists():
        return True
    try:
        data = job.media.get(Path(relative).stem)
    except NotFoundError:
        return False
    target.parent.mkdir(exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}-{uuid.uuid4().hex[:6]}")
    tmp.write_bytes(data)
    os.replace(tmp, target)  # two workers copying the same file both end with the same bytes
    return True


def _drop_missing(row: dict[str, Any], media: dict[str, bool]) -> None:
    """Null the row's references to media files that are missing from the store."""
    for turn in row["turns"]:
        for key in _MEDIA_KEYS:
            if turn[key] and not media[turn[key]]:
                turn[key] = None


@_collector_paused
def pass_two(job: ReleaseJob, spool: str, seconds: list[int], plan: PlanSlice) -> PassTwo:
    """Coarsen a spooled batch, copy its media (a missing file's reference becomes null), serialise it."""
    # The spool is this build's own, written by pass one into the private temporary folder.
    spooled = Path(job.folder) / spool
    rows: list[dict[str, Any]] = marshal.loads(spooled.read_bytes())
    spooled.unlink()
    media: dict[str, bool] = {}
    for i, row in enumerate(rows):
        plan.apply(i, row, seconds[i])
        paths = published_media(row)
        for path in paths:
            if path not in media:
                media[path] = _copy_media(job, path)
        if paths and not all(media[path] for path in paths):
            _drop_missing(row, media)
    table, member = serialize(rows)
    return PassTwo(table, member, media)


@lru_cache(maxsize=2)
def _worker_sessions(url: str) -> sessionmaker[Session]:
    # Lives only in the short-lived worker processes of one build (the pool is shut down after it).
    return make_session_factory(make_engine(url))


# Worker processes build the pipeline of their (single) job once; the pool ends with the build.
_worker_pipeline = lru_cache(maxsize=1)(build_pipeline)


def _worker_pass_one(job: ReleaseJob, lo: int, hi: int) -> PassOne:
    pipeline = _worker_pipeline(job.key_hex, job.extra_allowlist, job.terms_versions)
    return pass_one(_worker_sessions(job.database_url), pipeline, job, lo, hi)


class UnitRunner:
    """Runs work units in order: in this process (`workers <= 1`) or on a pool of spawned processes."""

    def __init__(self, job: ReleaseJob, sessions: sessionmaker[Session], workers: int = 1) -> None:
        self.job = job
        self.pipeline = job.pipeline()
        self._sessions = sessions
        self._workers = max(1, int(workers))
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> UnitRunner:
        if self._workers > 1:
            self._pool = ProcessPoolExecutor(self._workers, mp_context=multiprocessing.get_context("spawn"))
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def pass_one(self, ranges: Iterable[tuple[int, int]]) -> Iterator[PassOne]:
        """Pass one of every id range, in order."""
        if self._pool is None:
            return (pass_one(self._sessions, self.pipeline, self.job, lo, hi) for lo, hi in ranges)
        return self._ordered(_worker_pass_one, ((self.job, lo, hi) for lo, hi in ranges))

    def pass_two(self, units: Iterable[tuple[str, list[int], PlanSlice]]) -> Iterator[PassTwo]:
        """Pass two of every spooled batch, in order."""
        if self._pool is None:
            return (pass_two(self.job, *unit) for unit in units)
        return self._ordered(pass_two, ((self.job, *unit) for unit in units))

    def _ordered(self, fn: Callable[..., T], calls: Iterable[tuple[Any, ...]]) -> Iterator[T]:
        assert self._pool is not None
        pending: deque[Future[T]] = deque()
        for args in calls:
            pending.append(self._pool.submit(fn, *args))
            if len(pending) >= 2 * self._workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
