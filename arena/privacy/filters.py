"""The versioned release filter pipeline: ordered filters over release candidates, each returning a reason.

A release candidate (one battle with its voter facts, flags and free texts) goes through the filters in
order. Each filter answers Keep (optionally with a transformed record), Mark(reason) (released with the
reason attached) or Withhold(reason) (not released; the first withholding filter wins). Released records
carry a keyed voter pseudonym instead of the voter id. The report counts records per reason so the
release manifest can say exactly what was left out and why; PIPELINE_VERSION changes whenever a filter,
its order or its policy changes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import lru_cache
from typing import Any, Protocol

from arena.privacy.prefilter import detect_quick
from arena.privacy.scrub import SCRUBBER_VERSION, Scrubber

PIPELINE_VERSION = f"privacy-filters/1+scrubber/{SCRUBBER_VERSION}"


class ReasonCode(StrEnum):
    """Why a record was withheld or marked; the values appear in release manifests."""

    DELETED = "deleted"
    WITHDRAWN = "withdrawn"
    NO_TERMS = "no_terms"
    TERMS_OUTDATED = "terms_outdated"
    QUARANTINED = "quarantined"
    ANOMALOUS_VOTER = "anomalous_voter"
    LEAKED_IDENTITY = "leaked_identity"
    UNKNOWN_FLAG = "unknown_flag"
    PII_UNSCRUBBABLE = "pii_unscrubbable"
    PII_IN_FIELDS = "pii_in_fields"


class FlagAction(StrEnum):
    WITHHOLD = "withhold"
    MARK = "mark"


# Integrity flags set on battles elsewhere, and what a release does with them (docs/privacy.md).
DEFAULT_FLAG_POLICY: Mapping[str, tuple[FlagAction, ReasonCode]] = {
    "quarantined": (FlagAction.WITHHOLD, ReasonCode.QUARANTINED),
    "anomalous_voter": (FlagAction.WITHHOLD, ReasonCode.ANOMALOUS_VOTER),
    "leaked_identity": (FlagAction.MARK, ReasonCode.LEAKED_IDENTITY),
}


@dataclass(frozen=True)
class ReleaseCandidate:
    """One battle as the release builder reads it from the database.

    `texts` holds every free-text field, in a fixed order, e.g. {"prompt": (...turns),
    "response_a": (...), "response_b": (...), "feedback": (...)}; free-text metadata belongs here too.
    `fields` holds structured columns (models, outcome, timestamps, language, ...) passed through.
    """

    record_id: str
    voter_id: str
    voter_accepted_terms_version: str | None
    voter_withdrawn: bool = False
    deleted: bool = False
    flags: frozenset[str] = frozenset()
    texts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Keep:
    """Pass the record on; `record` replaces it when the filter transformed it, `counts` feed the report."""

    record: ReleaseCandidate | None = None
    counts: Mapping[str, int] = field(default_factory=dict)


# The plain "pass it on" answer, shared (Keep is frozen): filters answer it for almost every record.
KEEP = Keep()


@dataclass(frozen=True)
class Withhold:
    reason: ReasonCode
    detail: str = ""


@dataclass(frozen=True)
class Mark:
    """Release the record with the reason attached (`also`: further reasons from the same filter)."""

    reason: ReasonCode
    also: tuple[ReasonCode, ...] = ()


Decision = Keep | Withhold | Mark


class Filter(Protocol):
    """A named step of the pipeline."""

    @property
    def name(self) -> str: ...

    def __call__(self, record: ReleaseCandidate) -> Decision: ...


@dataclass(frozen=True)
class DeletedFilter:
    name: str = "deleted"

    def __call__(self, record: ReleaseCandidate) -> Decision:
        return Withhold(ReasonCode.DELETED) if record.deleted else KEEP


@dataclass(frozen=True)
class WithdrawnFilter:
    name: str = "withdrawn"

    def __call__(self, record: ReleaseCandidate) -> Decision:
        return Withhold(ReasonCode.WITHDRAWN) if record.voter_withdrawn else KEEP


@dataclass(frozen=True)
class TermsFilter:
    """Only voters who accepted terms that allow release; an empty set accepts any recorded version."""

    releasable_versions: frozenset[str] = frozenset()
    name: str = "terms"

    def __call__(self, record: ReleaseCandidate) -> Decision:
        version = record.voter_accepted_terms_version
        if not version:
            return Withhold(ReasonCode.NO_TERMS)
        if self.releasable_versions and version not in self.releasable_versions:
            return Withhold(ReasonCode.TERMS_OUTDATED, detail=version)
        return KEEP


@dataclass(frozen=True)
class FlagFilter:
    """Applies the flag policy; a flag the policy does not know withholds the record (fail closed)."""

    policy: Mapping[str, tuple[FlagAction, ReasonCode]] = field(default_factory=lambda: dict(DEFAULT_FLAG_POLICY))
    name: str = "flags"

    def __call__(self, record: ReleaseCandidate) -> Decision:
        marks = []
        for flag in sorted(record.flags):
            if flag not in self.policy:
                return Withhold(ReasonCode.UNKNOWN_FLAG, detail=flag)
            action, reason = self.policy[flag]
            if action is FlagAction.WITHHOLD:
                return Withhold(reason, detail=flag)
            marks.append(reason)
        return Mark(marks[0], tuple(marks[1:])) if marks else KEEP


@dataclass(frozen=True)
class ScrubFilter:
    """Scrubs all texts of the record as one conversation; unscrubbable -> withheld with the scrub reason."""

    scrubber: Scrubber
    name: str = "scrub"

    def prepare(self, records: Sequence[ReleaseCandidate]) -> None:
        """Screen the texts of a batch about to go through this filter (`Scrubber.screen`)."""
        self.scrubber.screen(text for record in records for texts in record.texts.values() for text in texts)

    def __call__(self, record: ReleaseCandidate) -> Decision:
        keys = list(record.texts)
        flat = [text for key in keys for text in record.texts[key]]
        if self.scrubber.known_clean(flat):
            return KEEP  # what scrubbing would answer: nothing replaced, nothing withheld
        result = self.scrubber.scrub_conversation(flat)
        if not result.ok:
            return Withhold(ReasonCode.PII_UNSCRUBBABLE, detail=str(result.reason))
        if not result.found and result.texts == tuple(flat):
            return KEEP  # nothing replaced: the record passes on as it is
        texts, pos = {}, 0
        for key in keys:
            n = len(record.texts[key])
            texts[key] = result.texts[pos : pos + n]
            pos += n
        counts = {f"pii_{kind.value.lower()}": n for kind, n in result.found.items()}
        return Keep(replace(record, texts=texts), counts)


def _has_pii(value: str) -> bool:
    return bool(detect_quick(value))


@dataclass(frozen=True)
class FieldsGuardFilter:
    """Structured columns are published as given, so any personal data detected in one withholds the record.

    Free text must go in `texts` (scrubbed); a raw IP or email in `fields` means the builder put
    something there that must never be released, and the pipeline fails closed.
    """

    name: str = "fields_guard"
    cache_size: int = 4096

    def __post_init__(self) -> None:
        # Field values repeat (model names, languages, category tags): remember their answers, boundedly.
        object.__setattr__(self, "_detects", lru_cache(maxsize=self.cache_size)(_has_pii))

    def __reduce__(self) -> tuple[type[FieldsGuardFilter], tuple[str, int]]:
        return FieldsGuardFilter, (self.name, self.cache_size)  # the cache is rebuilt, not pickled

    def __call__(self, record: ReleaseCandidate) -> Decision:
        detects: Callable[[str], bool] = self._detects  # type: ignore[attr-defined]
        for key, value in record.fields.items():
            for v in value if isinstance(value, list | tuple) else (value,):
                if isinstance(v, str) and detects(v):
                    return Withhold(ReasonCode.PII_IN_FIELDS, detail=key)
        return KEEP


@dataclass(frozen=True)
class ReleasedRecord:
    """What the release may publish for one battle: pseudonym, scrubbed texts, fields and marks."""

    record_id: str
    voter_pseudonym: str
    texts: Mapping[str, tuple[str, ...]]
    fields: Mapping[str, Any]
    marks: tuple[ReasonCode, ...] = ()


@dataclass(frozen=True)
class WithheldRecord:
    """A record left out, with the filter and reason (the builder also drops its vote rows)."""

    record_id: str
    filter_name: str
    reason: ReasonCode
    detail: str = ""


@dataclass
class PipelineReport:
    """Counts for the release manifest."""

    version: str
    filters: tuple[str, ...]
    seen: int = 0
    released: int = 0
    withheld: Counter[str] = field(default_factory=Counter)
    marked: Counter[str] = field(default_factory=Counter)
    details: Counter[str] = field(default_factory=Counter)
    replaced: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "filters": list(self.filters),
            "seen": self.seen,
            "released": self.released,
            "withheld": dict(sorted(self.withheld.items())),
            "marked": dict(sorted(self.marked.items())),
            "withheld_details": dict(sorted(self.details.items())),
            "replaced": dict(sorted(self.replaced.items())),
        }


@dataclass
class PipelineResult:
    released: list[ReleasedRecord]
    withheld: list[WithheldRecord]
    report: PipelineReport


class FilterPipeline:
    """Runs the filters in order over candidates; stateless per record, so batches and workers may split work."""

    def __init__(self, filters: Sequence[Filter], pseudonymizer: Callable[[str], str]) -> None:
        self.filters = tuple(filters)
        self.pseudonymizer = pseudonymizer
        self.version = PIPELINE_VERSION

    def prepare(self, records: Sequence[ReleaseCandidate]) -> None:
        """Let the filters look at a batch before its records go through them one by one (only a speed-up)."""
        for flt in self.filters:
            if isinstance(flt, ScrubFilter):
                flt.prepare(records)

    def process(
        self, record: ReleaseCandidate, report: PipelineReport | None = None
    ) -> ReleasedRecord | WithheldRecord:
        """One record through every filter; counts go into `report` when given."""
        marks: list[ReasonCode] = []
        for flt in self.filters:
            decision = flt(record)
            if isinstance(decision, Withhold):
                if report is not None:
                    report.withheld[decision.reason.value] += 1
                    if decision.detail:
                        report.details[f"{decision.reason.value}:{decision.detail}"] += 1
                return WithheldRecord(record.record_id, flt.name, decision.reason, decision.detail)
            if isinstance(decision, Mark):
                marks.extend((decision.reason, *decision.also))
            else:
                record = decision.record or record
                if report is not None and decision.counts:
                    report.replaced.update(decision.counts)
        if report is not None:
            report.released += 1
            if marks:
                report.marked.update(m.value for m in marks)
        return ReleasedRecord(
            record.record_id, self.pseudonymizer(record.voter_id), record.texts, record.fields, tuple(marks)
        )

    def run(self, records: Iterable[ReleaseCandidate]) -> PipelineResult:
        report = PipelineReport(self.version, tuple(f.name for f in self.filters))
        released: list[ReleasedRecord] = []
        withheld: list[WithheldRecord] = []
        for record in records:
            report.seen += 1
            outcome = self.process(record, report)
            if isinstance(outcome, ReleasedRecord):
                released.append(outcome)
            else:
                withheld.append(outcome)
        return PipelineResult(released, withheld, report)


def default_pipeline(
    *,
    scrubber: Scrubber,
    pseudonymizer: Callable[[str], str],
    releasable_terms_versions: frozenset[str] = frozenset(),
    flag_policy: Mapping[str, tuple[FlagAction, ReasonCode]] | None = None,
) -> FilterPipeline:
    """The release policy's filters in order: cheap facts first, scrubbing last."""
    return FilterPipeline(
        [
            DeletedFilter(),
            WithdrawnFilter(),
            TermsFilter(releasable_terms_versions),
            FlagFilter(dict(flag_policy if flag_policy is not None else DEFAULT_FLAG_POLICY)),
            FieldsGuardFilter(),
            ScrubFilter(scrubber),
        ],
        pseudonymizer,
    )
