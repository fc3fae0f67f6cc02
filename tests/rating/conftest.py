"""Shared inputs for the rating tests: real reference data (copied into tests/fixtures) and a row builder."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from rating.data import PairCounts

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CODES = {"a": 0, "b": 1, "tie": 2, "bb": 3}

Rows = Sequence[tuple[str, str, str]]


def _counts_from(rows: Rows) -> tuple[list[str], PairCounts]:
    names = sorted({m for a, b, _ in rows for m in (a, b)})
    ix = {m: i for i, m in enumerate(names)}
    a = [ix[r[0]] for r in rows]
    b = [ix[r[1]] for r in rows]
    o = [CODES[r[2]] for r in rows]
    return names, PairCounts.from_battles(a, b, o, len(names))


@pytest.fixture
def counts_from() -> Callable[[Rows], tuple[list[str], PairCounts]]:
    """Build (sorted model names, PairCounts) from (a, b, 'a'|'b'|'tie'|'bb') rows."""
    return _counts_from


@pytest.fixture(scope="session")
def llmfao_rows() -> list[tuple[str, str, str]]:
    """The 8,931 LLMFAO crowd votes as (left, right, 'a'|'b'|'tie') in file order."""
    label = {"left": "a", "right": "b", "tie": "tie"}
    with (FIXTURES / "llmfao" / "crowd-comparisons.csv").open(newline="") as fh:
        return [(r["left"], r["right"], label[r["winner"]]) for r in csv.DictReader(fh)]


@pytest.fixture(scope="session")
def llmfao_golden() -> dict[str, dict[str, float]]:
    """evalica's golden scores per algorithm and model."""
    out: dict[str, dict[str, float]] = {}
    with (FIXTURES / "llmfao" / "evalica-llmfao-golden.csv").open(newline="") as fh:
        for r in csv.DictReader(fh):
            out.setdefault(r["algorithm"], {})[r["item"]] = float(r["score"])
    return out


@pytest.fixture(scope="session")
def llmfao_published() -> list[dict[str, str]]:
    """The published crowd leaderboard (model, score, pairs, rank)."""
    with (FIXTURES / "llmfao" / "published-leaderboard-crowd.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="session")
def arena_counts() -> tuple[list[str], PairCounts]:
    """Chatbot Arena 2024-08-14: 129 models, 1,670,250 battles as per-pair counts."""
    data = json.loads((FIXTURES / "chatbot_arena_20240814_counts" / "chatbotarena_20240814.json").read_text())
    return data["models"], PairCounts(len(data["models"]), np.array(data["X"]), np.array(data["Y"], dtype=float))
