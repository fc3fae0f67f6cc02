"""Run the privacy filter pipeline over batches of candidates, in this process or in worker processes.

Scrubbing dominates the cost of a release (a fraction of a millisecond per conversation), and the
pipeline is stateless per record, so batches can go to worker processes. Results come back in
submission order, so a release built with any number of workers has the same rows in the same order
(and the same bytes). Workers are started with the "spawn" method (no inherited database connections or
scheduler threads) and build their pipeline once from a small picklable spec; at most two batches per
worker are in flight, which bounds memory.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from arena.privacy import (
    DEFAULT_FLAG_POLICY,
    FilterPipeline,
    PipelineReport,
    Pseudonymizer,
    ReleaseCandidate,
    ReleasedRecord,
    ReleaseKey,
    Scrubber,
    ScrubConfig,
    WithheldRecord,
    default_pipeline,
)
from arena.privacy.names import DEFAULT_ALLOWLIST

Outcome = ReleasedRecord | WithheldRecord
T = TypeVar("T")


@dataclass(frozen=True)
class PipelineSpec:
    """Everything that defines a release's pipeline (the key is private: the spec is never logged)."""

    key_hex: str
    extra_allowlist: tuple[str, ...] = ()
    releasable_terms_versions: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"PipelineSpec(allowlist={len(self.extra_allowlist)}, terms={self.releasable_terms_versions})"

    def build(self) -> FilterPipeline:
        """The default pipeline with this release's key, catalogue allowlist and terms versions."""
        allow = frozenset(DEFAULT_ALLOWLIST | set(self.extra_allowlist))
        return default_pipeline(
            scrubber=Scrubber(ScrubConfig(name_allowlist=allow)),
            pseudonymizer=Pseudonymizer(ReleaseKey.from_hex(self.key_hex)),
            releasable_terms_versions=frozenset(self.releasable_terms_versions),
            flag_policy=DEFAULT_FLAG_POLICY,
        )


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


def run_batch(pipeline: FilterPipeline, batch: list[ReleaseCandidate]) -> tuple[list[Outcome], PipelineReport]:
    """Every candidate of a batch through the pipeline, with the batch's counts."""
    report = new_report(pipeline)
    outcomes: list[Outcome] = []
    for candidate in batch:
        report.seen += 1
        outcomes.append(pipeline.process(candidate, report))
    return outcomes, report


@lru_cache(maxsize=1)
def _worker_pipeline(spec: PipelineSpec) -> FilterPipeline:
    # Lives only in short-lived worker processes of one build (the pool is shut down after it).
    return spec.build()


def _worker_batch(spec: PipelineSpec, batch: list[ReleaseCandidate]) -> tuple[list[Outcome], PipelineReport]:
    return run_batch(_worker_pipeline(spec), batch)


class PipelineRunner:
    """Maps batches to (outcomes, report) in order; `workers <= 1` runs in this process."""

    def __init__(self, spec: PipelineSpec, workers: int = 1) -> None:
        self._spec = spec
        self._workers = max(1, int(workers))
        self.pipeline = spec.build()

    def version(self) -> str:
        """The pipeline version (goes into the manifest)."""
        return self.pipeline.version

    def map(
        self, batches: Iterable[tuple[T, list[ReleaseCandidate]]]
    ) -> Iterator[tuple[T, list[Outcome], PipelineReport]]:
        """(context, outcomes, report) per (context, candidates) batch, in the order the batches came.

        The context (whatever the caller keeps beside a batch) stays in this process.
        """
        if self._workers == 1:
            for context, batch in batches:
                yield (context, *run_batch(self.pipeline, batch))
            return
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(self._workers, mp_context=spawn) as pool:
            pending: deque[tuple[T, Future[tuple[list[Outcome], PipelineReport]]]] = deque()
            for context, batch in batches:
                pending.append((context, pool.submit(_worker_batch, self._spec, batch)))
                if len(pending) >= 2 * self._workers:
                    kept, future = pending.popleft()
                    yield (kept, *future.result())
            while pending:
                kept, future = pending.popleft()
                yield (kept, *future.result())
