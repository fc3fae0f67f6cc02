"""Leaderboard rows and their table / JSON / CSV text, per component, with anchors and hidden models."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

from arena.battlefiles import parse_battle_text
from arena.errors import ValidationError
from arena.tables import FORMATS, leaderboard, render, rows_from_report
from rating import PairCounts, rate


def _data(rows: list[tuple[str, str, str]]):
    text = "model_a,model_b,winner\n" + "".join(f"{a},{b},{w}\n" for a, b, w in rows)
    return parse_battle_text(text)


def test_ac04_separate_sections_no_cross_ranking() -> None:
    rows = (
        [("A", "B", "model_a")] * 7
        + [("A", "B", "model_b")] * 3
        + [("C", "D", "model_a")] * 5
        + [("C", "D", "model_b")] * 5
    )
    d = _data(rows)
    lb = leaderboard(d.models, d.counts, bootstrap_rounds=100)
    assert lb.n_components == 2
    assert [(r.model, r.component) for r in lb.rows] == [("A", 0), ("B", 0), ("C", 1), ("D", 1)]
    text = render(lb.rows, "table")
    assert "Component 1 of 2 (not comparable with the other components)" in text
    assert "Component 2 of 2" in text
    assert text.index("B ") < text.index("Component 2")


def test_ac06_anchor_shown_as_reference() -> None:
    d = _data([("A", "B", "model_a")] * 3 + [("A", "B", "model_b")])
    lb = leaderboard(d.models, d.counts, anchor=("B", 1114.0), bootstrap_rounds=200)
    b = next(r for r in lb.rows if r.model == "B")
    assert b.fixed and b.ci_low == b.ci_high == 1114.0
    assert lb.anchor == ("B", 1114.0)
    table = render(lb.rows)
    line = next(line for line in table.splitlines() if line.strip().split()[1:2] == ["B"])
    assert "fixed" in line and "reference (fixed)" in line
    with pytest.raises(ValidationError, match="anchor model"):
        leaderboard(d.models, d.counts, anchor=("Z", 1000.0))


def test_ac08_hidden_model_keeps_its_battles() -> None:
    rows = (
        [("A", "D", "model_a")] * 6
        + [("A", "D", "model_b")] * 4
        + [("D", "B", "model_a")] * 5
        + [("D", "B", "model_b")] * 5
        + [("B", "C", "model_a")] * 7
        + [("B", "C", "model_b")] * 3
    )
    d = _data(rows)
    lb = leaderboard(d.models, d.counts, bootstrap_rounds=0, hidden={"D"})
    assert {r.model: round(r.rating, 2) for r in lb.rows} == {"A": 1089.63, "B": 1019.19, "C": 872.00}


def test_formats_roundtrip() -> None:
    d = _data(
        [("A", "B", "model_a")] * 30
        + [("A", "B", "model_b")] * 10
        + [("B", "C", "model_a")] * 20
        + [("B", "C", "tie")] * 20
    )
    lb = leaderboard(d.models, d.counts, bootstrap_rounds=200, seed=4)
    as_json = json.loads(render(lb.rows, "json"))
    assert [r["model"] for r in as_json] == [r.model for r in lb.rows]
    assert as_json[0]["rating"] == lb.rows[0].rating
    as_csv = list(csv.DictReader(io.StringIO(render(lb.rows, "csv"))))
    assert list(as_csv[0])[:6] == ["rank", "model", "rating", "ci_low", "ci_high", "votes"]
    assert float(as_csv[1]["ci_high"]) == lb.rows[1].ci_high
    table = render(lb.rows, "table").splitlines()
    assert table[0].split() == ["rank", "model", "rating", "CI", "low", "CI", "high", "votes", "note"]
    assert len(table) == 4
    assert set(FORMATS) == {"table", "json", "csv"}
    with pytest.raises(ValidationError):
        render(lb.rows, "xml")  # type: ignore[arg-type]


def test_rows_from_report_sorted_with_unrated_last() -> None:
    pc = PairCounts(3, np.array([[0, 2]]), np.array([[3.0, 9.0, 0.0, 0.0]]))
    report = rate(pc, bootstrap_rounds=0)
    rows = rows_from_report(["x", "unrated", "z"], report)
    assert [r.model for r in rows] == ["z", "x", "unrated"]
    assert rows[-1].rank == 0 and rows[-1].component == -1
    text = render(rows)
    assert "No counted battles yet (unrated)" in text
    assert text.splitlines()[-1].split()[:2] == ["-", "unrated"]


def test_model_name_count_must_match() -> None:
    pc = PairCounts(2, np.array([[0, 1]]), np.array([[1.0, 0.0, 0.0, 0.0]]))
    with pytest.raises(ValidationError):
        leaderboard(["only-one"], pc)


def test_parse_anchor() -> None:
    from arena.tables import parse_anchor

    assert parse_anchor("mixtral-8x7b-instruct-v0.1=1114") == ("mixtral-8x7b-instruct-v0.1", 1114.0)
    assert parse_anchor("a=b=1000.5") == ("a=b", 1000.5)
    for bad in ("mixtral", "=1114", "m=x", "m=nan"):
        with pytest.raises(ValidationError, match="MODEL=RATING"):
            parse_anchor(bad)
