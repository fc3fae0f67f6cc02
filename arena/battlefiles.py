"""Read battle files (CSV/JSONL/JSON rows, the LLMFAO CSV, Chatbot Arena pair counts) into pair counts.

Formats, recognised by content:

* rows, CSV with a header holding ``model_a, model_b, winner`` (other columns ignored);
* rows, JSON Lines (one object per line) or a JSON array of objects with those keys;
* LLMFAO CSV: ``left, right, winner`` with winner in ``left | right | tie`` (left -> model_a);
* per-pair counts JSON: ``{"models": [...], "X": [[i, j], ...], "Y": [[i wins, j wins, tie, tie (bothbad)], ...]}``.

Row winners are ``model_a``, ``model_b``, ``tie`` or ``tie (bothbad)`` (also ``tie_bothbad``),
case-insensitive.  Anything else is rejected with its line number and a reason - never counted as a
tie (case AC-03).  Problems with the file as a whole raise `ValidationError`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from arena.domain import Outcome
from arena.errors import ValidationError
from rating.data import PairCounts

ROW_WINNERS: Mapping[str, Outcome] = {
    "model_a": Outcome.MODEL_A,
    "model_b": Outcome.MODEL_B,
    "tie": Outcome.TIE,
    "tie (bothbad)": Outcome.TIE_BOTHBAD,
    "tie_bothbad": Outcome.TIE_BOTHBAD,
}
LLMFAO_WINNERS: Mapping[str, Outcome] = {"left": Outcome.MODEL_A, "right": Outcome.MODEL_B, "tie": Outcome.TIE}
OUTCOME_CODE: Mapping[Outcome, int] = {
    Outcome.MODEL_A: 0,
    Outcome.MODEL_B: 1,
    Outcome.TIE: 2,
    Outcome.TIE_BOTHBAD: 3,
}


@dataclass(frozen=True)
class BadRow:
    """A rejected row: its line (or item / entry number for JSON arrays and counts) and why."""

    line: int
    reason: str


@dataclass(frozen=True)
class BattleData:
    """What a battle file holds.

    Attributes
    ----------
    models : tuple of str
        Model names; index i in `counts` and in the battle arrays is ``models[i]``.  Sorted for row
        files; the file's own order for a counts file.
    counts : PairCounts
        Counts per pair and outcome.
    a_idx, b_idx, outcomes : ndarray of int or None
        The battles in file order (outcome codes 0-3), or None for a counts file (which has no
        order; online Elo needs rows).
    bad_rows : tuple of BadRow
        Rejected rows.
    source_format : str
        ``"rows-csv"``, ``"rows-jsonl"``, ``"rows-json"``, ``"llmfao-csv"`` or ``"counts-json"``.
    """

    models: tuple[str, ...]
    counts: PairCounts
    a_idx: NDArray[np.int64] | None
    b_idx: NDArray[np.int64] | None
    outcomes: NDArray[np.int64] | None
    bad_rows: tuple[BadRow, ...]
    source_format: str

    @property
    def n_battles(self) -> int:
        """Battles accepted."""
        return round(self.counts.n_battles)


def read_battle_file(path: str | Path) -> BattleData:
    """Read and parse a battle file (see the module docstring for formats).

    Raises
    ------
    ValidationError
        If the file cannot be read or is not one of the formats.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(
            f"cannot read battle file {path}: {exc}; check the path and that it is UTF-8 text"
        ) from exc
    return parse_battle_text(text)


def parse_battle_text(text: str) -> BattleData:
    """Parse the contents of a battle file."""
    head = text.lstrip()
    if not head:
        raise ValidationError("the battle file is empty")
    if head.startswith("{"):
        first_line = head.split("\n", 1)[0].strip()
        try:
            whole = json.loads(head)
        except json.JSONDecodeError:
            return _rows_result(_jsonl_rows(text), "rows-jsonl", ROW_WINNERS)
        if isinstance(whole, dict) and {"models", "X", "Y"} & whole.keys():
            if not {"models", "X", "Y"} <= whole.keys():
                raise ValidationError("a per-pair counts file needs the keys models, X and Y")
            return _counts_json(whole)
        if first_line.endswith("}"):
            return _rows_result(_jsonl_rows(text), "rows-jsonl", ROW_WINNERS)
        raise ValidationError("JSON object is neither per-pair counts (models, X, Y) nor one battle per line")
    if head.startswith("["):
        try:
            items = json.loads(head)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"invalid JSON array of battles: {exc}") from exc
        return _rows_result(_json_array_rows(items), "rows-json", ROW_WINNERS)
    return _csv(text)


def _csv(text: str) -> BattleData:
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration as exc:
        raise ValidationError("the CSV file has no header") from exc
    if {"model_a", "model_b", "winner"} <= set(header):
        cols, winners, fmt = ("model_a", "model_b", "winner"), ROW_WINNERS, "rows-csv"
    elif {"left", "right", "winner"} <= set(header):
        cols, winners, fmt = ("left", "right", "winner"), LLMFAO_WINNERS, "llmfao-csv"
    else:
        raise ValidationError(
            "CSV header must name model_a, model_b, winner (or left, right, winner for LLMFAO); "
            f"found {', '.join(header)}"
        )
    idx = [header.index(c) for c in cols]

    def rows() -> Iterator[tuple[int, Any, Any, Any]]:
        for record in reader:
            line = reader.line_num
            if not record or all(not c.strip() for c in record):
                continue
            if len(record) <= max(idx):
                yield line, None, None, None
                continue
            yield line, record[idx[0]], record[idx[1]], record[idx[2]]

    return _rows_result(rows(), fmt, winners)


def _jsonl_rows(text: str) -> Iterator[tuple[int, Any, Any, Any]]:
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            yield line_no, _Invalid("not valid JSON"), None, None
            continue
        yield _fields(line_no, obj)


def _json_array_rows(items: Any) -> Iterator[tuple[int, Any, Any, Any]]:
    if not isinstance(items, list):
        raise ValidationError("expected a JSON array of battles")
    for number, obj in enumerate(items, start=1):
        yield _fields(number, obj)


@dataclass(frozen=True)
class _Invalid:
    reason: str


def _fields(line: int, obj: Any) -> tuple[int, Any, Any, Any]:
    if not isinstance(obj, dict):
        return line, _Invalid("a battle must be a JSON object"), None, None
    return line, obj.get("model_a"), obj.get("model_b"), obj.get("winner")


def _check_row(a: Any, b: Any, winner: Any, winners: Mapping[str, Outcome]) -> str | Outcome:
    """The outcome of a row, or the reason it is rejected."""
    if isinstance(a, _Invalid):
        return a.reason
    if a is None or b is None or winner is None:
        return "missing model or winner field"
    if not isinstance(a, str) or not isinstance(b, str) or not a.strip() or not b.strip():
        return "model names must be non-empty text"
    if a.strip() == b.strip():
        return f"model {a.strip()!r} cannot battle itself"
    label = str(winner).strip().lower()
    if label not in winners:
        return f"unknown winner label {str(winner)!r} (expected one of: {', '.join(winners)})"
    return winners[label]


def _rows_result(rows: Iterable[tuple[int, Any, Any, Any]], fmt: str, winners: Mapping[str, Outcome]) -> BattleData:
    names_a: list[str] = []
    names_b: list[str] = []
    codes: list[int] = []
    bad: list[BadRow] = []
    for line, a, b, winner in rows:
        verdict = _check_row(a, b, winner, winners)
        if isinstance(verdict, Outcome):
            names_a.append(a.strip())
            names_b.append(b.strip())
            codes.append(OUTCOME_CODE[verdict])
        else:
            bad.append(BadRow(line, verdict))
    models = tuple(sorted(set(names_a) | set(names_b)))
    index = {m: i for i, m in enumerate(models)}
    a_idx = np.array([index[m] for m in names_a], dtype=np.int64)
    b_idx = np.array([index[m] for m in names_b], dtype=np.int64)
    out = np.array(codes, dtype=np.int64)
    counts = PairCounts.from_battles(a_idx, b_idx, out, len(models))
    return BattleData(models, counts, a_idx, b_idx, out, tuple(bad), fmt)


def _counts_json(obj: Mapping[str, Any]) -> BattleData:
    models, pairs, counts = obj["models"], obj["X"], obj["Y"]
    if not isinstance(models, list) or not all(isinstance(m, str) and m for m in models):
        raise ValidationError("'models' must be a list of model names")
    if len(set(models)) != len(models):
        raise ValidationError("'models' lists a name twice")
    if not isinstance(pairs, list) or not isinstance(counts, list) or len(pairs) != len(counts):
        raise ValidationError("'X' and 'Y' must be lists of the same length")
    good_pairs: list[Sequence[int]] = []
    good_counts: list[Sequence[float]] = []
    bad: list[BadRow] = []
    for entry, (pair, row) in enumerate(zip(pairs, counts, strict=True), start=1):
        reason = _check_count_entry(pair, row, len(models))
        if reason:
            bad.append(BadRow(entry, reason))
        else:
            good_pairs.append(pair)
            good_counts.append(row)
    pc = PairCounts(
        len(models),
        np.array(good_pairs, dtype=np.int64).reshape(-1, 2),
        np.array(good_counts, dtype=float).reshape(-1, 4),
    ).canonical()
    return BattleData(tuple(models), pc, None, None, None, tuple(bad), "counts-json")


def _check_count_entry(pair: Any, row: Any, n_models: int) -> str:
    if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(i, int) for i in pair)):
        return "X entry must be two model indices"
    if not all(0 <= i < n_models for i in pair) or pair[0] == pair[1]:
        return f"X entry {pair} names an unknown model or the same model twice"
    if not (isinstance(row, list) and len(row) == 4 and all(isinstance(c, int | float) for c in row)):
        return "Y entry must be four counts (i wins, j wins, tie, tie (bothbad))"
    if any(not np.isfinite(c) or c < 0 for c in row):
        return "counts must be finite and non-negative"
    return ""
