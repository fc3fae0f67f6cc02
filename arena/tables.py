"""Model names + pair counts + options -> leaderboard rows, and those rows as table, JSON or CSV text.

Used by ``arena leaderboard`` and by the live leaderboard service, so both print the same thing.
Ranks are Rank (UB) *within a connected component*; when the comparison graph is split, every
component is its own table section and nothing compares models across sections (case AC-04).
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np

from arena.errors import ValidationError
from rating.data import PairCounts, TiePolicy
from rating.report import RatingReport, rate

log = logging.getLogger(__name__)
Format = Literal["table", "json", "csv"]
FORMATS: tuple[str, ...] = ("table", "json", "csv")


@dataclass(frozen=True)
class LeaderboardRow:
    """One model's line on the leaderboard.

    ``rank`` is Rank (UB) inside ``component`` (0 = the model has no counted battle yet).
    ``fixed`` marks the anchor model, whose interval is the anchor value by construction.
    """

    rank: int
    model: str
    rating: float
    ci_low: float
    ci_high: float
    votes: int
    provisional: bool
    component: int
    fixed: bool
    perfect_record: bool
    rank_low: int
    rank_high: int
    se: float


@dataclass(frozen=True)
class Leaderboard:
    """Rows plus what a reader needs to interpret them."""

    rows: tuple[LeaderboardRow, ...]
    n_components: int
    ties: str
    ci_method: str
    anchor: tuple[str, float] | None
    report: RatingReport


def rows_from_report(models: Sequence[str], report: RatingReport, hidden: Collection[str] = ()) -> list[LeaderboardRow]:
    """Leaderboard rows from a rating report, sorted by component, rank, rating, name.

    `hidden` models (e.g. deprecated ones) are left out of the rows only: their battles stay in
    the fit, so nobody else's rating moves when a model is retired (case AC-08).
    """
    rows = [
        LeaderboardRow(
            rank=int(report.rank_ub[i]),
            model=name,
            rating=float(report.rating[i]),
            ci_low=float(report.ci_low[i]),
            ci_high=float(report.ci_high[i]),
            votes=round(float(report.votes[i])),
            provisional=bool(report.provisional[i]),
            component=int(report.component[i]),
            fixed=bool(report.fixed[i]),
            perfect_record=bool(report.perfect_record[i]),
            rank_low=int(report.rank_low[i]),
            rank_high=int(report.rank_high[i]),
            se=float(report.se[i]),
        )
        for i, name in enumerate(models)
        if name not in hidden
    ]
    rows.sort(key=lambda r: (r.component < 0, r.component, r.rank, -r.rating, r.model))
    return rows


def leaderboard(
    models: Sequence[str],
    counts: PairCounts,
    *,
    ties: TiePolicy = "half",
    bootstrap_rounds: int = 1000,
    seed: int = 0,
    anchor: tuple[str, float] | None = None,
    min_votes: int = 20,
    hidden: Collection[str] = (),
    threads: int = 1,
) -> Leaderboard:
    """Fit and tabulate.

    Parameters
    ----------
    models : sequence of str
        Name of each model index in `counts`.
    counts : PairCounts
        Battle counts.
    ties, bootstrap_rounds, seed, min_votes, threads
        Passed to `rating.rate`.
    anchor : (str, float), optional
        Pin this model to this rating.  A name not in `models` is a ValidationError; a known model
        without counted battles leaves the board unanchored (centred on 1000), with a warning.
    hidden : collection of str
        Models to leave out of the rows (they still count in the fit).
    """
    if len(models) != counts.n_models:
        raise ValidationError(f"{len(models)} model names for {counts.n_models} models in the counts")
    anchor_idx = None
    if anchor is not None:
        if anchor[0] not in models:
            raise ValidationError(f"anchor model {anchor[0]!r} is not in the data; check the name")
        anchor_idx = (list(models).index(anchor[0]), float(anchor[1]))
    report = rate(
        counts,
        ties=ties,
        bootstrap_rounds=bootstrap_rounds,
        seed=seed,
        anchor=anchor_idx,
        min_votes=min_votes,
        threads=threads,
    )
    if anchor is not None and not report.anchor_applied:
        log.warning("anchor model %s has no counted battles; ratings are centred on 1000 instead", anchor[0])
    return Leaderboard(
        rows=tuple(rows_from_report(models, report, hidden)),
        n_components=report.n_components,
        ties=ties,
        ci_method=report.ci_method,
        anchor=anchor if report.anchor_applied else None,
        report=report,
    )


def parse_anchor(text: str) -> tuple[str, float]:
    """Parse ``MODEL=RATING`` (the last ``=`` splits, so model names may contain ``=``).

    Raises
    ------
    ValidationError
        If the text is not of that form.
    """
    name, sep, value = text.rpartition("=")
    try:
        rating = float(value)
    except ValueError:
        rating = float("nan")
    if not sep or not name.strip() or not np.isfinite(rating):
        raise ValidationError(
            f"anchor must look like MODEL=RATING (e.g. mixtral-8x7b-instruct-v0.1=1114); got {text!r}"
        )
    return name.strip(), rating


def render(rows: Sequence[LeaderboardRow], fmt: Format = "table") -> str:
    """Rows as text: an aligned table (one section per component), JSON or CSV.

    Raises
    ------
    ValidationError
        On an unknown format.
    """
    if fmt == "json":
        return json.dumps([asdict(r) for r in rows], indent=2) + "\n"
    if fmt == "csv":
        return _csv(rows)
    if fmt == "table":
        return _table(rows)
    raise ValidationError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def _csv(rows: Sequence[LeaderboardRow]) -> str:
    out = io.StringIO()
    fields = list(LeaderboardRow.__dataclass_fields__)
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow(asdict(r))
    return out.getvalue()


def _note(r: LeaderboardRow) -> str:
    notes = []
    if r.fixed:
        notes.append("reference (fixed)")
    if r.perfect_record:
        notes.append("perfect record")
    if r.provisional:
        notes.append("provisional")
    return ", ".join(notes)


def _table(rows: Sequence[LeaderboardRow]) -> str:
    header = ("rank", "model", "rating", "CI low", "CI high", "votes", "note")
    sections: dict[int, list[tuple[str, ...]]] = {}
    for r in rows:
        ci = ("fixed", "fixed") if r.fixed else (f"{r.ci_low:.2f}", f"{r.ci_high:.2f}")
        rank = str(r.rank) if r.rank > 0 else "-"
        line = (rank, r.model, f"{r.rating:.2f}", *ci, str(r.votes), _note(r))
        sections.setdefault(r.component, []).append(line)
    all_lines = [header, *(line for lines in sections.values() for line in lines)]
    widths = [max(len(line[k]) for line in all_lines) for k in range(len(header))]
    rated = [c for c in sections if c >= 0]

    def fmt(line: tuple[str, ...]) -> str:
        cells = [line[k].rjust(widths[k]) if k in (0, 2, 3, 4, 5) else line[k].ljust(widths[k]) for k in range(6)]
        return ("  ".join(cells) + ("  " + line[6] if line[6] else "")).rstrip()

    out: list[str] = []
    for c, lines in sections.items():
        if len(sections) > 1:
            if c >= 0:
                title = f"Component {c + 1} of {len(rated)}"
                title += " (not comparable with the other components)" if len(rated) > 1 else ""
            else:
                title = "No counted battles yet (unrated)"
            out.append(("\n" if out else "") + title)
        out.append(fmt(header))
        out.extend(fmt(line) for line in lines)
    return "\n".join(out) + "\n"
