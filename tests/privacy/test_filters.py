"""The release filter pipeline: order, reasons, marks, counts, scrubbing and pseudonyms (AC-17, AC-18)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import asdict
from typing import Any

import pytest

from arena.privacy.filters import (
    PIPELINE_VERSION,
    FlagAction,
    FlagFilter,
    Keep,
    Mark,
    ReasonCode,
    ReleaseCandidate,
    ReleasedRecord,
    TermsFilter,
    WithheldRecord,
    Withhold,
    default_pipeline,
)
from arena.privacy.pseudonyms import Pseudonymizer, ReleaseKey
from arena.privacy.scrub import Scrubber

AC17_PROMPT = (
    "Hi, I'm Jordan Blake (jordan.blake@example.org, +1 555 010 4477). My server 203.0.113.42 keeps "
    "failing; my colleague Priya Raman says…"
)


@pytest.fixture(scope="module")
def scrubber() -> Scrubber:
    return Scrubber()


def candidate(record_id: str = "b1", voter_id: str = "voter-1", **changes: object) -> ReleaseCandidate:
    base = ReleaseCandidate(
        record_id=record_id,
        voter_id=voter_id,
        voter_accepted_terms_version="2024-06",
        texts={"prompt": ("How do I sort a list in Python?",), "response_a": ("Use sorted().",)},
        fields={"model_a": "m1", "model_b": "m2", "outcome": "model_a"},
    )
    return ReleaseCandidate(**{**base.__dict__, **changes})  # type: ignore[arg-type]


def test_ac17_through_the_pipeline(scrubber: Scrubber) -> None:
    record = candidate(
        texts={
            "prompt_a": (AC17_PROMPT,),
            "prompt_b": (AC17_PROMPT,),
            "response_a": ("Sure, Jordan — I'll email jordan.blake@example.org",),
            "response_b": ("Restart the service on 203.0.113.42 and ask Priya to check the logs.",),
            "feedback": ("A used my name, Jordan, nice",),
            "title": ("Jordan Blake's server at 203.0.113.42",),
        }
    )
    result = default_pipeline(scrubber=scrubber, pseudonymizer=Pseudonymizer(ReleaseKey.generate())).run([record])
    assert len(result.released) == 1
    published = json.dumps(asdict(result.released[0]), ensure_ascii=False)
    for forbidden in ("Jordan", "Blake", "jordan.blake@example.org", "203.0.113.42", "Priya", "Raman", "voter-1"):
        assert forbidden not in published
    for phone in ("555 010 4477", "555-010-4477", "555.010.4477", "5550104477"):
        assert phone not in published
    texts = result.released[0].texts
    assert texts["prompt_a"] == texts["prompt_b"]
    assert texts["response_a"] == ("Sure, NAME_1 — I'll email EMAIL_1",)
    assert texts["response_b"] == ("Restart the service on IP_1 and ask NAME_2 to check the logs.",)
    assert texts["title"] == ("NAME_1's server at IP_1",)
    assert result.report.replaced["pii_name"] >= 8


def test_ac18_pseudonyms_stable_across_batches_and_no_ip_anywhere(scrubber: Scrubber) -> None:
    key = ReleaseKey.generate()
    same_voter = [candidate(f"b{i}", "session-7f3a", texts={"note": ("vote from 198.51.100.23",)}) for i in range(3)]
    other = candidate("b9", "session-0c11", texts={"feedback": ("my ip is 198-51-100-24, or 198_51_100_24",)})
    # Two batches on two "workers": separate pipeline objects that share only the release key.
    batch_1 = default_pipeline(scrubber=scrubber, pseudonymizer=Pseudonymizer(key)).run(same_voter[:2])
    batch_2 = default_pipeline(scrubber=Scrubber(), pseudonymizer=Pseudonymizer(ReleaseKey.from_hex(key.to_hex())))
    rows = batch_1.released + batch_2.run([same_voter[2], other]).released
    pseudonyms = [r.voter_pseudonym for r in rows]
    assert pseudonyms[0] == pseudonyms[1] == pseudonyms[2] != pseudonyms[3]
    assert Counter(pseudonyms)[pseudonyms[0]] == 3  # per-user caps on the export see 3 votes
    exported = json.dumps([asdict(r) for r in rows])
    unkeyed = [
        f(ip.encode()).hexdigest()
        for ip in ("198.51.100.23", "198.51.100.24")
        for f in (hashlib.md5, hashlib.sha1, hashlib.sha256)
    ]
    for forbidden in ("198.51.100.23", "198-51-100-23", "198_51_100_23", "198-51-100-24", "198_51_100_24", *unkeyed):
        assert forbidden not in exported


def test_structured_fields_pass_through_but_pii_in_them_withholds(scrubber: Scrubber) -> None:
    pipeline = default_pipeline(scrubber=scrubber, pseudonymizer=str.upper)
    fields = {"model_a": "llama-3.1-405b", "ts": "2024-08-14T10:30:00Z", "votes": 3, "tags": ["a", "b"]}
    released = pipeline.process(candidate(fields=fields))
    assert isinstance(released, ReleasedRecord) and released.fields == fields
    for leaky in ({"note": "vote from 198.51.100.23"}, {"tags": ["ok", "jo@example.org"]}):
        withheld = pipeline.process(candidate(fields=leaky))
        assert isinstance(withheld, WithheldRecord) and withheld.reason is ReasonCode.PII_IN_FIELDS


@pytest.mark.parametrize(
    ("changes", "reason", "filter_name"),
    [
        ({"deleted": True, "voter_withdrawn": True}, ReasonCode.DELETED, "deleted"),
        ({"voter_withdrawn": True, "voter_accepted_terms_version": None}, ReasonCode.WITHDRAWN, "withdrawn"),
        ({"voter_accepted_terms_version": None}, ReasonCode.NO_TERMS, "terms"),
        ({"voter_accepted_terms_version": ""}, ReasonCode.NO_TERMS, "terms"),
        ({"flags": frozenset({"quarantined", "leaked_identity"})}, ReasonCode.QUARANTINED, "flags"),
        ({"flags": frozenset({"anomalous_voter"})}, ReasonCode.ANOMALOUS_VOTER, "flags"),
        ({"flags": frozenset({"brand_new_flag"})}, ReasonCode.UNKNOWN_FLAG, "flags"),
        ({"texts": {"prompt": ("acct 1234 5678 9012 3456 7890 12",)}}, ReasonCode.PII_UNSCRUBBABLE, "scrub"),
        ({"texts": {"prompt": ("ok",), "feedback": ("\x00\x01binary",)}}, ReasonCode.PII_UNSCRUBBABLE, "scrub"),
    ],
)
def test_withheld_with_the_first_reason(
    scrubber: Scrubber, changes: dict[str, Any], reason: ReasonCode, filter_name: str
) -> None:
    outcome = default_pipeline(scrubber=scrubber, pseudonymizer=str.upper).process(candidate(**changes))
    assert isinstance(outcome, WithheldRecord)
    assert (outcome.reason, outcome.filter_name, outcome.record_id) == (reason, filter_name, "b1")


def test_terms_versions_policy() -> None:
    flt = TermsFilter(frozenset({"2024-06", "2025-01"}))
    assert flt(candidate()) == Keep()
    assert flt(candidate(voter_accepted_terms_version="2023-01")) == Withhold(ReasonCode.TERMS_OUTDATED, "2023-01")


def test_leaked_identity_is_released_marked(scrubber: Scrubber) -> None:
    outcome = default_pipeline(scrubber=scrubber, pseudonymizer=str.upper).process(
        candidate(flags=frozenset({"leaked_identity"}))
    )
    assert isinstance(outcome, ReleasedRecord)
    assert outcome.marks == (ReasonCode.LEAKED_IDENTITY,) and outcome.voter_pseudonym == "VOTER-1"


def test_flag_policy_is_configurable() -> None:
    policy = {
        "leaked_identity": (FlagAction.WITHHOLD, ReasonCode.LEAKED_IDENTITY),
        "self_vote": (FlagAction.MARK, ReasonCode.ANOMALOUS_VOTER),
        "dup": (FlagAction.MARK, ReasonCode.QUARANTINED),
    }
    flt = FlagFilter(policy)
    assert flt(candidate(flags=frozenset({"leaked_identity"}))) == Withhold(
        ReasonCode.LEAKED_IDENTITY, "leaked_identity"
    )
    assert flt(candidate(flags=frozenset({"self_vote", "dup"}))) == Mark(
        ReasonCode.QUARANTINED, (ReasonCode.ANOMALOUS_VOTER,)
    )


def test_run_counts_per_reason_and_version(scrubber: Scrubber) -> None:
    records = [
        candidate("ok1"),
        candidate("ok2", flags=frozenset({"leaked_identity"})),
        candidate("w1", voter_withdrawn=True),
        candidate("w2", voter_withdrawn=True),
        candidate("n1", voter_accepted_terms_version=None),
        candidate("p1", texts={"prompt": ("mail me at a@example.org",)}),
    ]
    pipeline = default_pipeline(scrubber=scrubber, pseudonymizer=Pseudonymizer(ReleaseKey.generate()))
    result = pipeline.run(records)
    report = result.report.as_dict()
    assert report["version"] == PIPELINE_VERSION == pipeline.version
    assert report["filters"] == ["deleted", "withdrawn", "terms", "flags", "fields_guard", "scrub"]
    assert (report["seen"], report["released"]) == (6, 3)
    assert report["withheld"] == {"no_terms": 1, "withdrawn": 2}
    assert report["marked"] == {"leaked_identity": 1}
    assert report["replaced"] == {"pii_email": 1}
    assert [r.record_id for r in result.released] == ["ok1", "ok2", "p1"]
    assert result.released[2].texts["prompt"] == ("mail me at EMAIL_1",)
    assert {w.record_id: w.reason for w in result.withheld} == {
        "w1": ReasonCode.WITHDRAWN,
        "w2": ReasonCode.WITHDRAWN,
        "n1": ReasonCode.NO_TERMS,
    }
