"""k-anonymity coarsening of quasi-identifiers."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pytest

from arena.privacy.kanon import OTHER, coarsen_rare_values


def rows_for(spec: dict[str, int], field: str = "lang") -> list[dict[str, Any]]:
    """Rows where value v is used by spec[v] distinct voters, each voting twice."""
    rows = []
    for value, voters in spec.items():
        for i in range(voters):
            rows += [{"voter": f"{value}-{i}", field: value}] * 2
    return rows


def voters_per_value(rows: list[dict[str, Any]], field: str) -> dict[Any, set[str]]:
    out: dict[Any, set[str]] = defaultdict(set)
    for row in rows:
        out[row[field]].add(row["voter"])
    return out


def test_values_below_k_become_other() -> None:
    rows = rows_for({"en": 9, "de": 5, "fr": 3, "is": 1, "mt": 1})
    out, report = coarsen_rare_values(rows, ["lang"], k=5)
    assert {v: len(s) for v, s in voters_per_value(out, "lang").items()} == {"en": 9, "de": 5, OTHER: 5}
    assert report.replaced == {"lang": 10} and report.pooled_values == {"lang": 3}
    assert rows[0]["lang"] == "en" and rows[-1]["lang"] == "mt"  # input rows are not modified


def test_counts_distinct_voters_not_rows() -> None:
    rows = [{"voter": "v1", "country": "LI"}] * 50 + rows_for({"US": 6, "FR": 5, "DE": 5}, "country")
    out, _ = coarsen_rare_values(rows, ["country"], k=5)
    # LI has 50 rows but one voter: pooled; the pool then needs k voters, so the rarest ("DE") joins it.
    assert {r["country"] for r in out} == {"US", "FR", OTHER}


def test_small_other_bucket_absorbs_next_rarest_values() -> None:
    rows = rows_for({"en": 20, "de": 6, "fr": 7, "is": 2})
    out, report = coarsen_rare_values(rows, ["lang"], k=5)
    counts = {v: len(s) for v, s in voters_per_value(out, "lang").items()}
    assert counts == {"en": 20, "fr": 7, OTHER: 8}  # "is" (2) alone was below k, so "de" joined it
    assert report.pooled_values == {"lang": 2}


def test_drop_instead_of_other_and_none_values() -> None:
    rows = [*rows_for({"en": 5, "is": 1}), {"voter": "x", "lang": None}]
    out, _ = coarsen_rare_values(rows, ["lang"], k=5, replacement=None)
    assert [r["lang"] for r in out].count(None) == 3 and [r["lang"] for r in out].count("en") == 10


def test_k_is_configurable_and_validated() -> None:
    rows = rows_for({"en": 3, "fr": 3, "de": 2, "es": 2, "is": 1})
    assert {r["lang"] for r in coarsen_rare_values(rows, ["lang"], k=1)[0]} == {"en", "fr", "de", "es", "is"}
    assert {r["lang"] for r in coarsen_rare_values(rows, ["lang"], k=2)[0]} == {"en", "fr", "es", OTHER}
    assert {r["lang"] for r in coarsen_rare_values(rows, ["lang"], k=3)[0]} == {"en", "fr", OTHER}
    assert {r["lang"] for r in coarsen_rare_values(rows, ["lang"], k=4)[0]} == {OTHER}
    with pytest.raises(ValueError):
        coarsen_rare_values(rows, ["lang"], k=0)
    with pytest.raises(ValueError, match="voter"):
        coarsen_rare_values([{"lang": "en"}], ["lang"])


def test_joint_combinations_and_guarantee_on_random_data() -> None:
    rng = np.random.default_rng(5)
    langs = np.array(["en", "de", "fr", "es", "ja", "is", "mt"])
    countries = np.array(["US", "DE", "FR", "ES", "JP", "IS", "MT", "LI"])
    rows = []
    for voter in range(400):
        lang = langs[min(int(rng.geometric(0.45)) - 1, 6)]
        country = countries[min(int(rng.geometric(0.4)) - 1, 7)]
        rows += [{"voter": f"v{voter}", "lang": str(lang), "country": str(country)}] * int(rng.integers(1, 4))
    k = 5
    out, report = coarsen_rare_values(rows, ["lang", "country"], k=k, joint=True)
    for field in ("lang", "country"):
        per_value = voters_per_value(out, field)
        assert all(len(s) >= k for v, s in per_value.items() if v != OTHER), field
    combos: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in out:
        combos[(row["lang"], row["country"])].add(row["voter"])
    below = {i for i, row in enumerate(out) if len(combos[(row["lang"], row["country"])]) < k}
    assert below == set(report.rows_below_k)
    assert all(out[i]["lang"] == OTHER and out[i]["country"] == OTHER for i in below)
    assert sum(report.replaced.values()) > 0
