"""k-anonymity coarsening of quasi-identifiers: values shared by fewer than k distinct voters become "other".

Fields such as a language tag, a country-like field or a rare category can single a voter out even
after pseudonymisation. For each quasi-identifier field independently, a value held by fewer than
`k` distinct voters is replaced by `replacement` ("other", or None to drop it). If the pooled
"other" bucket itself ends up with fewer than k voters, the next rarest values are pooled into it
until it has k (so every published value of the field is shared by at least k voters, unless the
whole field has fewer than k voters). With `joint=True` the combination of all fields is checked
too: rows whose combination is shared by fewer than k voters have all their quasi-identifiers
replaced; rows still below k after that are reported so the caller can drop them.
The report gives counts only, never the rare values themselves.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

OTHER = "other"
DEFAULT_K = 5


@dataclass(frozen=True)
class CoarsenReport:
    """What coarsening changed, for the release manifest."""

    k: int
    fields: tuple[str, ...]
    replaced: Mapping[str, int]
    pooled_values: Mapping[str, int]
    rows_below_k: tuple[int, ...]


def _voters_by_value(rows: Sequence[Mapping[str, Any]], key: str, voter_field: str) -> dict[Hashable, set[Any]]:
    voters: dict[Hashable, set[Any]] = defaultdict(set)
    for row in rows:
        value = row.get(key)
        if value is not None:
            voters[value].add(row[voter_field])
    return voters


def _values_to_pool(voters: Mapping[Hashable, set[Any]], k: int, replacement: Any) -> set[Hashable]:
    """Values below k, plus the next rarest ones until the pooled bucket reaches k voters."""
    pooled = {value for value, who in voters.items() if len(who) < k}
    if replacement is None or not pooled:
        return pooled
    bucket = set().union(*(voters[v] for v in pooled), voters.get(replacement, set()))
    for value in sorted(voters, key=lambda v: (len(voters[v]), str(v))):
        if len(bucket) >= k:
            break
        if value not in pooled and value != replacement:
            pooled.add(value)
            bucket |= voters[value]
    return pooled


def coarsen_rare_values(
    rows: Sequence[Mapping[str, Any]],
    fields: Sequence[str],
    *,
    k: int = DEFAULT_K,
    voter_field: str = "voter",
    replacement: Any = OTHER,
    joint: bool = False,
) -> tuple[list[dict[str, Any]], CoarsenReport]:
    """Copies of `rows` with rare quasi-identifier values replaced, and a report of what changed."""
    if k < 1:
        raise ValueError("k must be at least 1")
    if any(voter_field not in row for row in rows):
        raise ValueError(f"every row needs its voter pseudonym in {voter_field!r}")
    out = [dict(row) for row in rows]
    replaced: dict[str, int] = {}
    pooled_counts: dict[str, int] = {}
    for key in fields:
        pooled = _values_to_pool(_voters_by_value(out, key, voter_field), k, replacement)
        pooled_counts[key] = len(pooled - {replacement})
        replaced[key] = 0
        for row in out:
            if row.get(key) is not None and row[key] in pooled and row[key] != replacement:
                row[key] = replacement
                replaced[key] += 1
    below = _rows_below_k(out, fields, k, voter_field)
    if joint and below:
        for i in below:
            for key in fields:
                if out[i].get(key) not in (None, replacement):
                    out[i][key] = replacement
                    replaced[key] += 1
        below = _rows_below_k(out, fields, k, voter_field)
    report = CoarsenReport(k, tuple(fields), replaced, pooled_counts, tuple(below))
    return out, report


def _rows_below_k(rows: Sequence[Mapping[str, Any]], fields: Sequence[str], k: int, voter_field: str) -> list[int]:
    """Indices of rows whose combination of quasi-identifiers is shared by fewer than k voters."""
    voters: dict[tuple[Any, ...], set[Any]] = defaultdict(set)
    combos = [tuple(row.get(key) for key in fields) for row in rows]
    for combo, row in zip(combos, rows, strict=True):
        voters[combo].add(row[voter_field])
    return [i for i, combo in enumerate(combos) if len(voters[combo]) < k]
