"""Privacy building blocks of data releases: PII scrubbing, names policy, keyed pseudonyms, filters, k-anonymity.

    from arena.privacy import Scrubber, ReleaseKey, Pseudonymizer, default_pipeline, coarsen_rare_values

    scrubber = Scrubber()                                   # load once, share across batches and threads
    key = ReleaseKey.generate()                             # once per release; store key.to_hex() privately
    pipeline = default_pipeline(scrubber=scrubber, pseudonymizer=Pseudonymizer(key))
    result = pipeline.run(candidates)                       # ReleaseCandidate -> ReleasedRecord | WithheldRecord
    rows, report = coarsen_rare_values(rows, ["language", "country"], k=5, voter_field="voter")

The policy these implement is docs/privacy.md.
"""

from arena.privacy.detectors import PiiKind
from arena.privacy.filters import (
    DEFAULT_FLAG_POLICY,
    PIPELINE_VERSION,
    FilterPipeline,
    FlagAction,
    Keep,
    Mark,
    PipelineReport,
    PipelineResult,
    ReasonCode,
    ReleaseCandidate,
    ReleasedRecord,
    WithheldRecord,
    Withhold,
    default_pipeline,
)
from arena.privacy.kanon import CoarsenReport, coarsen_rare_values
from arena.privacy.names import DEFAULT_ALLOWLIST, NameFinder, NameLexicon
from arena.privacy.pseudonyms import Pseudonymizer, ReleaseKey, pseudonym
from arena.privacy.scrub import SCRUBBER_VERSION, Scrubber, ScrubConfig, ScrubFailure, ScrubResult

__all__ = [
    "DEFAULT_ALLOWLIST",
    "DEFAULT_FLAG_POLICY",
    "PIPELINE_VERSION",
    "SCRUBBER_VERSION",
    "CoarsenReport",
    "FilterPipeline",
    "FlagAction",
    "Keep",
    "Mark",
    "NameFinder",
    "NameLexicon",
    "PiiKind",
    "PipelineReport",
    "PipelineResult",
    "Pseudonymizer",
    "ReasonCode",
    "ReleaseCandidate",
    "ReleaseKey",
    "ReleasedRecord",
    "ScrubConfig",
    "ScrubFailure",
    "ScrubResult",
    "Scrubber",
    "WithheldRecord",
    "Withhold",
    "coarsen_rare_values",
    "default_pipeline",
    "pseudonym",
]
