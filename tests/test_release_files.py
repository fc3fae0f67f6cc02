"""Release files: Parquet and JSONL.gz hold the same rows, bytes are deterministic, sums and card are right."""

from __future__ import annotations

import gzip
import hashlib
import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from arena.release_files import (
    COLUMNS,
    JSONL_NAME,
    PARQUET_NAME,
    SUMS_NAME,
    ReleaseWriter,
    file_entry,
    json_line,
    read_rows,
    render_card,
    write_sums,
)


def _row(i: int, music: bool = False) -> dict[str, Any]:
    return {
        "id": f"r_{i:04d}", "arena": "music" if music else "text", "mode": "anonymous",
        "time": datetime(2026, 3, 2, 9 + i % 3, tzinfo=UTC), "time_bucket_hours": 1.0,
        "model_a": "m-one", "model_b": "m-two", "outcome": ("model_a", "model_b", "tie")[i % 3], "counted": True,
        "marks": ["leaked_identity"] if i == 2 else [],
        "turns": [{"prompt": f"prompt {i} — ünïcode", "response_a": "a", "response_b": None,
                   "citations_a": [{"url": "https://example.org", "title": "T", "snippet": "S"}], "citations_b": [],
                   "media_a": None, "media_b": None}],
        "feedback": [{"target": "overall", "text": "ok"}],
        "music": {"instrumental": True, "board": "instrumental", "duration_s": None, "lyrics": None,
                  "listened_s_a": 1.5, "listened_s_b": 0.0, "plays_a": 1, "plays_b": 0} if music else None,
        "language": "en", "categories": ["coding"], "pair_probability": 1 / 3, "voter": f"v_{i % 2}",
    }


def _write(folder: Path, batches: list[list[dict[str, Any]]]) -> None:
    folder.mkdir()
    with ReleaseWriter(folder) as writer:
        for batch in batches:
            writer.write(batch)


def test_parquet_and_jsonl_hold_the_same_rows(tmp_path: Path) -> None:
    rows = [_row(i, music=i == 4) for i in range(7)]
    _write(tmp_path / "r", [rows[:3], rows[3:]])
    parquet = read_rows(tmp_path / "r")
    jsonl = read_rows(tmp_path / "r", "jsonl")
    assert len(parquet) == len(jsonl) == 7
    for p, j, original in zip(parquet, jsonl, rows, strict=True):
        assert list(j) == list(COLUMNS)
        assert p["time"] == original["time"] and j["time"] == original["time"].strftime("%Y-%m-%dT%H:%M:%SZ")
        assert {**p, "time": None} == {**j, "time": None} == {**original, "time": None}
    frame = pd.read_parquet(tmp_path / "r" / PARQUET_NAME)
    assert list(frame.columns) == list(COLUMNS) and frame["counted"].all()
    assert pq.ParquetFile(tmp_path / "r" / PARQUET_NAME).metadata.row_group(0).column(0).compression == "ZSTD"
    assert len(pd.read_json(tmp_path / "r" / JSONL_NAME, lines=True)) == 7


def test_same_rows_same_bytes_and_gzip_without_name_or_time(tmp_path: Path) -> None:
    rows = [_row(i) for i in range(5)]
    _write(tmp_path / "one", [rows])
    _write(tmp_path / "two", [rows])
    for name in (PARQUET_NAME, JSONL_NAME):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    raw = (tmp_path / "one" / JSONL_NAME).read_bytes()
    assert raw[4:8] == b"\0\0\0\0" and not raw[3] & 0x08  # mtime 0, no FNAME flag
    assert gzip.decompress(raw).decode() == "".join(json_line(r) for r in rows)


def test_empty_release_has_valid_empty_files(tmp_path: Path) -> None:
    _write(tmp_path / "e", [])
    assert read_rows(tmp_path / "e") == [] and read_rows(tmp_path / "e", "jsonl") == []
    assert pq.read_schema(tmp_path / "e" / PARQUET_NAME).names == list(COLUMNS)


def test_sums_and_file_entries(tmp_path: Path) -> None:
    _write(tmp_path / "s", [[_row(1)]])
    folder = tmp_path / "s"
    (folder / "media").mkdir()
    (folder / "media" / "x.png").write_bytes(b"png")
    write_sums(folder, [PARQUET_NAME, "media/x.png", JSONL_NAME])
    lines = (folder / SUMS_NAME).read_text().splitlines()
    assert [line.split("  ")[1] for line in lines] == [JSONL_NAME, PARQUET_NAME, "media/x.png"]
    for line in lines:
        digest, rel = line.split("  ")
        assert hashlib.sha256((folder / rel).read_bytes()).hexdigest() == digest
    entry = file_entry(folder, PARQUET_NAME, rows=1)
    assert entry["rows"] == 1 and entry["bytes"] == (folder / PARQUET_NAME).stat().st_size


def test_card_documents_fields_policy_and_loading() -> None:
    manifest = {
        "name": "arena-20260310-0900", "schema_version": "1", "rows": 12,
        "window": {"start": "2026-03-02T09:00:00Z", "end": "2026-03-10T09:00:00Z"},
        "pipeline": {"seen": 15, "version": "privacy-filters/1+scrubber/1"},
        "policy": {"terms_versions": ["2026-12"], "embargo_days": 7.0, "time_resolution_hours": 1.0,
                   "k_anonymity": 5},
        "excluded": {"withdrawn": 2, "no_terms": 1}, "marked": {}, "licence": "CC BY 4.0 (test)",
    }
    card = render_card(manifest)
    for needle in ("arena-20260310-0900", "| `withdrawn` | 2 |", "CC BY 4.0 (test)", "pd.read_parquet",
                   "pq.read_table", 'load_dataset("parquet"', "sha256sum -c", "k = 5", "privacy-filters/1"):
        assert needle in card
    for column in COLUMNS:
        assert f"`{column}" in card or f", {column}`" in card
    assert render_card(manifest) == card


def _stdlib_line(row: dict[str, Any]) -> str:
    """What json_line wrote with the standard library before it used orjson."""
    ordered = {name: row[name] for name in COLUMNS}
    return json.dumps(ordered, ensure_ascii=False, separators=(",", ":"), allow_nan=False,
                      default=lambda v: v.strftime("%Y-%m-%dT%H:%M:%SZ")) + "\n"


def test_json_lines_are_the_standard_librarys_bytes() -> None:
    every_char = "".join(chr(c) for c in range(0x300)) + "\u2028\u2029\ufeff\U0001f600\U0010ffff\"\\/"
    rows = [_row(i, music=i == 1) for i in range(3)]
    rows[0]["turns"][0]["prompt"] = every_char
    rows[2]["feedback"][0]["text"] = every_char[::-1]
    rows[2]["pair_probability"], rows[2]["time"] = 0.123456789012345, None
    shuffled = dict(reversed(list(rows[1].items())))  # key order comes from the schema, not the dict
    for row in (*rows, shuffled):
        assert json_line(row) == _stdlib_line(row)
        assert json.loads(json_line(row)) == json.loads(_stdlib_line(row))
    tiny = {**rows[1], "pair_probability": 1e-7}
    assert json.loads(json_line(tiny))["pair_probability"] == 1e-7  # the same value ("1e-7" for "1e-07")


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_json_lines_refuse_non_finite_floats(value: float) -> None:
    row = _row(0, music=True)
    for where in ("pair_probability", "time_bucket_hours", "music"):
        bad = {**row, "music": {**row["music"], "listened_s_a": value}} if where == "music" else {**row, where: value}
        with pytest.raises(ValueError):
            json_line(bad)
