"""Build and publish data releases: window, privacy pipeline, coarsening, files, index; one build at a time.

A release covers the battles whose vote falls between the end of the previous release and `until`
minus the embargo (rounded down to the time resolution). The build takes a lease in the database (so
the scheduler of several server processes and the CLI never build at once), streams the window in
batches through the privacy pipeline (pass one, rows spooled to private temporary files), decides the
k-anonymity coarsening, then writes the Parquet and JSONL.gz files, media, card, manifest and
SHA256SUMS into a temporary folder that is renamed into place. The key that made the voter pseudonyms
is stored in the database only, never in the release.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
from sqlalchemy.orm import Session, sessionmaker

from arena import __version__
from arena.catalog import Catalog
from arena.config import Settings
from arena.db import release_queries as rq
from arena.db import repo
from arena.db.engine import write_session
from arena.db.schema import Release, utcnow
from arena.errors import ConflictError, NotFoundError, StorageError
from arena.media import MediaStore
from arena.privacy import PipelineReport, ReleaseKey
from arena.release_files import (
    JSONL_NAME,
    MANIFEST_NAME,
    PARQUET_NAME,
    README_NAME,
    SCHEMA_VERSION,
    SUMS_NAME,
    ReleaseWriter,
    canonical_json,
    file_entry,
    render_card,
    write_atomic,
    write_sums,
    write_text,
)
from arena.services.release_coarsen import CoarseningPlan, QuasiIdentifiers, plan_coarsening
from arena.services.release_pipeline import SPOOL_DIR, ReleaseJob, UnitRunner, merge_report, new_report
from arena.services.release_records import model_allowlist
from rating.data import PairCounts

log = logging.getLogger(__name__)

LOCK_NAME = "release:build"
LOCK_LEASE_S = 900.0
DEFAULT_LICENCE = (
    "Prompts, votes and feedback: CC BY 4.0. Model outputs remain subject to the terms of the model that "
    "produced them (see each model's licence in the Arena catalogue); only outputs of models whose "
    "catalogue entry allows publishing are included."
)
_OUTCOME_COLUMN = {"model_a": 0, "model_b": 1, "tie": 2, "tie_bothbad": 3}


@dataclass(frozen=True)
class Window:
    """A release window [start, end) in UTC."""

    start: datetime
    end: datetime


def floor_time(moment: datetime, hours: float) -> datetime:
    """Round down to a multiple of `hours` since the Unix epoch (UTC)."""
    step = max(1, round(hours * 3600))
    seconds = math.floor(rq.aware(moment).timestamp())
    return datetime.fromtimestamp(seconds // step * step, UTC)


def release_name(end: datetime) -> str:
    """A release is named after the end of its window."""
    return f"arena-{end:%Y%m%d-%H%M}"


class ReleaseService:
    """Builds releases and lists them; `run_scheduled` is the periodic job."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings, catalog: Catalog, media: MediaStore,
                 *, workers: int = 1, licence: str = DEFAULT_LICENCE,
                 releasable_terms_versions: tuple[str, ...] | None = None,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions = sessions
        self._settings = settings.release
        self._catalog = catalog
        self._media = media
        self._workers = workers
        self._licence = licence
        self._terms = releasable_terms_versions or (settings.release.terms_version,)
        self._clock = clock
        self._holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._renewed = datetime.now(UTC)
        self.releases_dir = settings.data_dir / "releases"

    # --- public API --------------------------------------------------------------------------------------

    def next_window(self, until: datetime | None = None) -> Window:
        """The window the next release would cover; ConflictError when it would be empty."""
        until = rq.aware(until) if until is not None else self._clock()
        end = floor_time(until - timedelta(days=self._settings.embargo_days), self._settings.time_resolution_hours)
        with self._sessions() as session:
            last = rq.latest_release(session)
            first = rq.first_vote_time(session)
        if last is not None:
            start = rq.aware(last.window_end)
        elif first is not None:
            start = floor_time(first, self._settings.time_resolution_hours)
        else:
            raise ConflictError("there are no votes yet, so there is nothing to release")
        if end <= start:
            raise ConflictError(
                f"nothing new to release: the next window starts at {start:%Y-%m-%d %H:%M} UTC and votes are "
                f"embargoed for {self._settings.embargo_days:g} days; try a later --until")
        return Window(start, end)

    def build(self, until: datetime | None = None, key: bytes | None = None) -> dict[str, Any]:
        """Build, publish and record the next release; returns its public summary."""
        if not self._lock():
            raise ConflictError("another release build is running; try again when it has finished")
        try:
            window = self.next_window(until)
            release_key = ReleaseKey(key) if key is not None else ReleaseKey.generate()
            return self._publish(window, release_key)
        finally:
            self._unlock()

    def run_scheduled(self) -> dict[str, Any] | None:
        """The periodic job: build a release when the cadence is due, else do nothing."""
        if not self._settings.enabled:
            return None
        now = self._clock()
        with self._sessions() as session:
            last = rq.latest_release(session)
        if last is not None:
            due = rq.aware(last.window_end) + timedelta(days=self._settings.cadence_days + self._settings.embargo_days)
            if now < due:
                return None
        try:
            return self.build(until=now)
        except ConflictError as exc:
            log.info("scheduled release skipped: %s", exc.message)
            return None

    def list_releases(self) -> list[dict[str, Any]]:
        """Every published release, newest first, as the public summary (never the key)."""
        with self._sessions() as session:
            return [summary(release) for release in rq.all_releases(session)]

    def release_folder(self, name: str) -> Path:
        """The folder of a published release (NotFoundError for an unknown name)."""
        with self._sessions() as session:
            release = rq.release_by_name(session, name)
        if release is None:
            raise NotFoundError(f"no release called {name!r}; GET /api/releases lists them")
        return self.releases_dir / release.name

    def write_files(self, window: Window, key: ReleaseKey, folder: Path, name: str) -> dict[str, Any]:
        """Write every file of the release for `window` and `key` into the new folder `folder`; the manifest.

        Same database and same key give the same bytes (nothing here reads a clock or a random source).
        """
        folder.mkdir(parents=True)
        job = self._job(window, key, folder)
        with UnitRunner(job, self._sessions, self._workers) as runner:
            (folder / SPOOL_DIR).mkdir()
            report, qi, batches = self._pass_one(runner)
            plan = plan_coarsening(qi, k=self._settings.k_anonymity,
                                   resolution_hours=self._settings.time_resolution_hours)
            media = self._pass_two(runner, folder, batches, plan, qi)
            (folder / SPOOL_DIR).rmdir()  # pass two deleted every spool file
        manifest: dict[str, Any] = {
            "name": name,
            "schema_version": SCHEMA_VERSION,
            "window": {"start": _iso(window.start), "end": _iso(window.end)},
            "rows": media.pop("rows"),
            "excluded": dict(sorted(report.withheld.items())),
            "excluded_details": dict(sorted(report.details.items())),
            "marked": dict(sorted(report.marked.items())),
            "pipeline": {**report.as_dict(), "version": runner.pipeline.version},
            "coarsening": plan.report,
            "media": media,
            "policy": {"embargo_days": self._settings.embargo_days, "k_anonymity": self._settings.k_anonymity,
                       "time_resolution_hours": self._settings.time_resolution_hours,
                       "terms_versions": sorted(self._terms)},
            "code_version": __version__,
            "key_fingerprint": key.fingerprint,
            "licence": self._licence,
        }
        write_text(folder / README_NAME, render_card(manifest))
        manifest["files"] = [file_entry(folder, PARQUET_NAME, manifest["rows"]),
                             file_entry(folder, JSONL_NAME, manifest["rows"]), file_entry(folder, README_NAME)]
        write_text(folder / MANIFEST_NAME, canonical_json(manifest))
        media_files = [p.relative_to(folder).as_posix() for p in sorted((folder / "media").glob("*"))]
        write_sums(folder, [PARQUET_NAME, JSONL_NAME, README_NAME, MANIFEST_NAME, *media_files])
        return manifest

    # --- building ------------------------------------------------------------------------------------------

    def _publish(self, window: Window, key: ReleaseKey) -> dict[str, Any]:
        name = release_name(window.end)
        final = self.releases_dir / name
        if final.exists():
            raise ConflictError(f"release folder {final} exists already; move it aside to rebuild {name}")
        tmp = self.releases_dir / f".tmp-{name}-{uuid.uuid4().hex[:8]}"
        moved = False
        try:
            manifest = self.write_files(window, key, tmp, name)
            with write_session(self._sessions) as session:
                rq.insert_release(session, Release(name=name, window_start=window.start, window_end=window.end,
                                                   key_hex=key.to_hex(), manifest=manifest))
                os.replace(tmp, final)
                moved = True
        except OSError as exc:
            raise StorageError(f"could not write release {name} ({exc.strerror or exc}); free disk space "
                               "and run `arena release build` again") from exc
        except BaseException:
            if moved:  # the database refused the row: unpublish the folder again
                shutil.rmtree(final, ignore_errors=True)
            raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.write_index()
        log.info("published release %s: %d rows", name, manifest["rows"])
        return {**summary_from(name, window.start, window.end, manifest), "path": str(final)}

    def write_index(self) -> None:
        """Rewrite releases/index.json from the database (atomic)."""
        self.releases_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(self.releases_dir / "index.json", canonical_json({"releases": self.list_releases()}))

    def _job(self, window: Window, key: ReleaseKey, folder: Path) -> ReleaseJob:
        models = self._catalog.models
        allow = model_allowlist(w for m in models for w in (m.name, m.display_name, m.organization))
        with self._sessions() as session:
            url = session.get_bind().engine.url.render_as_string(hide_password=False)
        return ReleaseJob(url, key.to_hex(), window.start, window.end, str(folder), self._media,
                          publish=tuple(sorted((m.name, m.publish_outputs) for m in models)),
                          extra_allowlist=tuple(sorted(allow)), terms_versions=tuple(sorted(self._terms)))

    def _ranges(self, window: Window) -> Iterator[tuple[int, int]]:
        with self._sessions() as session:
            bounds = rq.window_id_range(session, window.start, window.end)
        if bounds is None:
            return
        step = max(1, self._settings.batch_size)
        for lo in range(bounds[0], bounds[1] + 1, step):
            yield lo, min(lo + step, bounds[1] + 1)

    def _pass_one(self, runner: UnitRunner) -> tuple[PipelineReport, QuasiIdentifiers, list[tuple[str, int]]]:
        """Filter every batch; released rows go to spool files, their quasi-identifiers to memory (compact)."""
        report = new_report(runner.pipeline)
        qi = QuasiIdentifiers()
        batches: list[tuple[str, int]] = []
        for part in runner.pass_one(self._ranges(Window(runner.job.start, runner.job.end))):
            merge_report(report, part.report)
            for voter, seconds, language, duration in part.qi:
                qi.add(voter, seconds, language, duration)
            if part.rows:
                batches.append((part.spool, part.rows))
            self._renew()
        return report, qi, batches

    def _pass_two(self, runner: UnitRunner, folder: Path, batches: list[tuple[str, int]], plan: CoarseningPlan,
                  qi: QuasiIdentifiers) -> dict[str, Any]:
        """Coarsen and serialise every spooled batch, appending them in order to the data files."""

        def units() -> Iterator[tuple[str, list[int], Any]]:
            start = 0
            for spool, rows in batches:
                yield spool, list(qi.seconds[start:start + rows]), plan.part(start, start + rows)
                start += rows

        media: dict[str, bool] = {}
        with ReleaseWriter(folder) as writer:
            for part in runner.pass_two(units()):
                writer.append(part.table, part.member)
                media.update(part.media)
                self._renew()
            rows = writer.rows
        files = [folder / p for p, ok in media.items() if ok]
        return {"rows": rows, "files": len(files), "bytes": sum(p.stat().st_size for p in files),
                "missing": sum(1 for ok in media.values() if not ok)}

    # --- lease ---------------------------------------------------------------------------------------------

    def _lock(self) -> bool:
        now = datetime.now(UTC)
        self._renewed = now
        with write_session(self._sessions) as session:
            return repo.try_lock(session, LOCK_NAME, self._holder, now, now + timedelta(seconds=LOCK_LEASE_S))

    def _renew(self) -> None:
        """Extend the lease during a long build; losing it means another builder may start: stop."""
        if (datetime.now(UTC) - self._renewed).total_seconds() < LOCK_LEASE_S / 10:
            return
        if not self._lock():
            raise ConflictError("the release build lost its lease (the build took longer than the lease)")

    def _unlock(self) -> None:
        with write_session(self._sessions) as session:
            repo.release_lock(session, LOCK_NAME, self._holder)


def _iso(moment: datetime) -> str:
    return rq.aware(moment).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def summary_from(name: str, start: datetime, end: datetime, manifest: dict[str, Any]) -> dict[str, Any]:
    """The public summary of a release (what the API, the data tab and index.json show)."""
    files = [{**f, "url": f"/releases/{name}/{f['path']}"} for f in manifest.get("files", [])]
    for extra in (MANIFEST_NAME, SUMS_NAME):
        files.append({"path": extra, "url": f"/releases/{name}/{extra}"})
    return {
        "name": name,
        "window_start": _iso(start),
        "window_end": _iso(end),
        "rows": manifest.get("rows", 0),
        "excluded": manifest.get("excluded", {}),
        "marked": manifest.get("marked", {}),
        "bytes": sum(int(f.get("bytes", 0)) for f in manifest.get("files", [])) + manifest.get("media", {}).get(
            "bytes", 0),
        "media_files": manifest.get("media", {}).get("files", 0),
        "pipeline_version": manifest.get("pipeline", {}).get("version", ""),
        "policy": manifest.get("policy", {}),
        "files": files,
    }


def summary(release: Release) -> dict[str, Any]:
    """The public summary of a stored release."""
    return summary_from(release.name, release.window_start, release.window_end, release.manifest or {})


def _in_category(row: dict[str, Any], category: str) -> bool:
    if category == "overall":
        return True
    if category.startswith("lang:"):
        return bool(row["language"] == category[len("lang:"):])
    return category in row["categories"]


def release_pair_counts(folder: Path | str, arena: str, category: str = "overall") -> tuple[list[str], PairCounts]:
    """Counted votes of a release folder's Parquet file -> (model names, PairCounts), the input of `rating.rate`.

    Models are indexed in name order; rows are read in batches, so this works for any release size.
    """
    cells: dict[tuple[str, str], np.ndarray] = {}
    columns = ["arena", "counted", "model_a", "model_b", "outcome", "categories", "language"]
    for batch in pq.ParquetFile(Path(folder) / PARQUET_NAME).iter_batches(columns=columns, batch_size=65536):
        for r in batch.to_pylist():
            if r["arena"] != arena or not r["counted"] or not _in_category(r, category):
                continue
            a, b = r["model_a"], r["model_b"]
            lo, hi = sorted((a, b))
            cell = cells.setdefault((lo, hi), np.zeros(4))
            col = _OUTCOME_COLUMN[r["outcome"]]
            cell[col if col >= 2 or a == lo else 1 - col] += 1
    names = sorted({m for pair in cells for m in pair})
    index = {m: i for i, m in enumerate(names)}
    pairs = np.array([[index[lo], index[hi]] for lo, hi in sorted(cells)], dtype=np.int64).reshape(-1, 2)
    counts = np.array([cells[p] for p in sorted(cells)], dtype=np.float64).reshape(-1, 4)
    return names, PairCounts(n_models=len(names), pairs=pairs, counts=counts)
