"""Battle files: every supported format parses; bad rows are rejected with line and reason (AC-03)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from arena.battlefiles import parse_battle_text, read_battle_file
from arena.errors import ValidationError

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def test_rows_csv_with_unknown_label_rejected() -> None:
    text = (
        "model_a,model_b,winner\n"
        + "A,B,model_a\n" * 3
        + "A,B,model_b\n"
        + "A,B,tie\n" * 2
        + "A,B,tie (bothbad)\n"
        + "A,B,TIE_BOTHBAD\n"
        + "A,B,A-model-name\n"
    )
    data = parse_battle_text(text)
    assert data.source_format == "rows-csv"
    assert data.models == ("A", "B")
    assert data.counts.counts.tolist() == [[3, 1, 2, 2]]
    assert len(data.bad_rows) == 1
    assert data.bad_rows[0].line == 10
    assert "unknown winner label 'A-model-name'" in data.bad_rows[0].reason
    assert data.outcomes is not None and data.outcomes.tolist() == [0, 0, 0, 1, 2, 2, 3, 3]


def test_rows_csv_other_bad_rows() -> None:
    text = "id,model_a,model_b,winner\n1,A,A,model_a\n2,,B,tie\n3,A\n\n4,B,A,model_b\n"
    data = parse_battle_text(text)
    assert [(b.line, b.reason.split()[0]) for b in data.bad_rows] == [(2, "model"), (3, "model"), (4, "missing")]
    assert data.n_battles == 1


def test_jsonl_and_json_array() -> None:
    rows = [{"model_a": "x", "model_b": "y", "winner": "model_b"}, {"model_a": "y", "model_b": "x", "winner": "tie"}]
    jsonl = "\n".join(json.dumps(r) for r in rows) + "\nnot json\n" + json.dumps({"model_a": "x"}) + "\n"
    data = parse_battle_text(jsonl)
    assert data.source_format == "rows-jsonl"
    assert data.counts.counts.tolist() == [[0, 1, 1, 0]]
    assert [b.line for b in data.bad_rows] == [3, 4]
    single = parse_battle_text(json.dumps(rows[0]) + "\n")
    assert single.source_format == "rows-jsonl" and single.n_battles == 1
    arr = parse_battle_text(json.dumps([*rows, 5]))
    assert arr.source_format == "rows-json" and arr.n_battles == 2 and arr.bad_rows[0].line == 3


def test_llmfao_csv_maps_left_to_model_a() -> None:
    data = read_battle_file(FIXTURES / "llmfao" / "crowd-comparisons.csv")
    assert data.source_format == "llmfao-csv"
    assert data.n_battles == 8931 and len(data.models) == 59 and not data.bad_rows
    tot = data.counts.counts.sum(axis=0)
    assert tot[2] == 3471 and tot[3] == 0
    assert data.a_idx is not None and data.b_idx is not None
    first = data.models[data.a_idx[0]], data.models[data.b_idx[0]]
    assert first == ("Airoboros L2 70B", "Weaver 12k")
    bad = parse_battle_text("left,right,winner\nA,B,model_a\n")
    assert "unknown winner label" in bad.bad_rows[0].reason


def test_chatbot_arena_counts_json() -> None:
    data = read_battle_file(FIXTURES / "chatbot_arena_20240814_counts" / "chatbotarena_20240814.json")
    assert data.source_format == "counts-json"
    assert len(data.models) == 129 and data.n_battles == 1_670_250
    assert data.a_idx is None
    assert data.counts.counts.sum(axis=0).tolist() == [595_570, 498_305, 281_121, 295_254]


def test_counts_json_bad_entries() -> None:
    obj = {
        "models": ["a", "b", "c"],
        "X": [[0, 1], [1, 1], [0, 5], [0, 2]],
        "Y": [[1, 2, 3, 4], [1, 0, 0, 0], [1, 1, 1, 1], [1, -1, 0, 0]],
    }
    data = parse_battle_text(json.dumps(obj))
    assert [b.line for b in data.bad_rows] == [2, 3, 4]
    assert np.array_equal(data.counts.counts, [[1, 2, 3, 4]])


@pytest.mark.parametrize(
    "text",
    ["", "a,b,c\n1,2,3\n", '{"models": [1]}', "[1, 2", '{"models": ["a", "a"], "X": [], "Y": []}'],
)
def test_whole_file_errors(text: str) -> None:
    with pytest.raises(ValidationError):
        parse_battle_text(text)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot read"):
        read_battle_file(tmp_path / "missing.csv")
