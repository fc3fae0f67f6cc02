"""k-anonymity of a release's quasi-identifiers: vote time, prompt language, music duration.

Pass one of a release build records, per released row, the voter (as a small integer), the vote time,
the language tag and the requested music duration in compact arrays. `plan_coarsening` then decides:

- time: each row gets the finest bucket (time resolution, then a day, then a 168-hour week, all aligned
  to the Unix epoch) whose rows at that granularity come from at least k distinct voters; a row that
  reaches no such bucket has its time dropped (null);
- language and music duration: `arena.privacy.coarsen_rare_values` on the distinct (voter, value) pairs
  (rare languages become "other", rare durations are dropped).

Pass two applies the plan row by row while writing the files. Counts go to the manifest, values never.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import numpy as np

from arena.privacy import coarsen_rare_values

OTHER = "other"
_WEEK_HOURS = 168.0
_DAY_HOURS = 24.0


@dataclass
class QuasiIdentifiers:
    """Per-row quasi-identifiers of released rows, in file order (a few bytes a row)."""

    voters: dict[str, int] = field(default_factory=dict)
    voter: array[int] = field(default_factory=lambda: array("q"))
    seconds: array[int] = field(default_factory=lambda: array("q"))
    language: list[str | None] = field(default_factory=list)
    duration: array[float] = field(default_factory=lambda: array("d"))

    def add(self, voter: str, seconds: int, language: str | None, duration: float | None) -> None:
        """Record one released row (voted at `seconds` since the epoch)."""
        self.voter.append(self.voters.setdefault(voter, len(self.voters)))
        self.seconds.append(seconds)
        self.language.append(language)
        self.duration.append(math.nan if duration is None else float(duration))

    def __len__(self) -> int:
        return len(self.voter)


@lru_cache(maxsize=4096)
def _bucket_start(seconds: int) -> datetime:
    """The start of a time bucket as an aware datetime (a batch's rows share a few buckets; datetimes are
    immutable, so rows may share one)."""
    return datetime.fromtimestamp(seconds, UTC)


@dataclass(frozen=True)
class PlanSlice:
    """The part of a plan pass two needs for one batch: bucket widths of its rows and the value maps."""

    bucket_hours: tuple[float, ...]
    language_map: dict[str, str]
    duration_map: dict[float, float | None]

    def apply(self, index: int, row: dict[str, Any], seconds: int) -> None:
        """Coarsen the batch's row `index` (voted at `seconds` since the epoch) in place."""
        width = self.bucket_hours[index]
        if width > 0:
            step = max(1, round(width * 3600))
            row["time"] = _bucket_start(seconds // step * step)
            row["time_bucket_hours"] = width
        else:
            row["time"], row["time_bucket_hours"] = None, None
        if row["language"] in self.language_map:
            row["language"] = self.language_map[row["language"]]
        music = row.get("music")
        if music is not None and music["duration_s"] in self.duration_map:
            music["duration_s"] = self.duration_map[music["duration_s"]]


@dataclass(frozen=True)
class CoarseningPlan:
    """What pass two does to row i: its time bucket width (0 = drop time) and the value maps."""

    bucket_hours: np.ndarray
    language_map: dict[str, str]
    duration_map: dict[float, float | None]
    report: dict[str, Any]

    def part(self, start: int, stop: int) -> PlanSlice:
        """The plan of rows [start, stop) (one spooled batch)."""
        widths = tuple(float(w) for w in self.bucket_hours[start:stop])
        return PlanSlice(widths, self.language_map, self.duration_map)


def _time_levels(resolution_hours: float) -> list[float]:
    return sorted({resolution_hours, max(resolution_hours, _DAY_HOURS), max(resolution_hours, _WEEK_HOURS)})


def _bucket_hours(qi: QuasiIdentifiers, k: int, resolution_hours: float) -> tuple[np.ndarray, dict[str, int]]:
    seconds = np.frombuffer(qi.seconds, dtype=np.int64) if len(qi) else np.zeros(0, np.int64)
    voters = np.frombuffer(qi.voter, dtype=np.int64) if len(qi) else np.zeros(0, np.int64)
    widths = np.zeros(len(seconds))
    open_rows = np.arange(len(seconds))
    counts: dict[str, int] = {}
    n_voters = max(len(qi.voters), 1)
    for hours in _time_levels(resolution_hours):
        if not len(open_rows):
            break
        bucket = seconds[open_rows] // max(1, round(hours * 3600))
        pairs = np.unique(bucket * n_voters + voters[open_rows])
        buckets, per_bucket = np.unique(pairs // n_voters, return_counts=True)
        voters_here = per_bucket[np.searchsorted(buckets, bucket)]
        done = voters_here >= k
        widths[open_rows[done]] = hours
        counts[f"{hours:g}h"] = int(done.sum())
        open_rows = open_rows[~done]
    counts["dropped"] = len(open_rows)
    return widths, counts


def _value_map(voters: array[int], values: list[Any], k: int, replacement: Any) -> tuple[dict[Any, Any], int]:
    pairs = sorted({(v, x) for v, x in zip(voters, values, strict=True) if x is not None}, key=repr)
    rows = [{"voter": v, "value": x} for v, x in pairs]
    if not rows:
        return {}, 0
    out, report = coarsen_rare_values(rows, ["value"], k=k, voter_field="voter", replacement=replacement)
    mapping = {before["value"]: after["value"] for before, after in zip(rows, out, strict=True)
               if before["value"] != after["value"]}
    return mapping, int(report.pooled_values["value"])


def plan_coarsening(qi: QuasiIdentifiers, *, k: int, resolution_hours: float) -> CoarseningPlan:
    """Decide every row's time bucket and the language and duration maps."""
    widths, time_counts = _bucket_hours(qi, k, resolution_hours)
    language_map, languages_pooled = _value_map(qi.voter, qi.language, k, OTHER)
    durations = [None if math.isnan(d) else d for d in qi.duration]
    duration_map, durations_pooled = _value_map(qi.voter, durations, k, None)
    rows_lang = sum(1 for x in qi.language if x in language_map)
    rows_dur = sum(1 for x in durations if x in duration_map)
    report = {
        "k": k,
        "quasi_identifiers": ["time", "language", "music.duration_s"],
        "time_rows_by_bucket": time_counts,
        "language": {"values_pooled": languages_pooled, "rows_changed": rows_lang, "replacement": OTHER},
        "music_duration_s": {"values_dropped": durations_pooled, "rows_changed": rows_dur, "replacement": None},
    }
    return CoarseningPlan(widths, language_map, duration_map, report)
