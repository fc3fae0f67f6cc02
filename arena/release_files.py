"""The files of a data release: Parquet (zstd) and JSONL.gz with the same rows, manifest, SHA256SUMS, card.

Everything written here is a pure function of its inputs: JSON is serialised with a fixed key order
and separators, each batch becomes one gzip member with no name and no time, Parquet row groups follow
the batches written, and nothing reads a clock, so the same rows in the same batches give the same bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

SCHEMA_VERSION = "1"
PARQUET_NAME = "battles.parquet"
JSONL_NAME = "battles.jsonl.gz"
MANIFEST_NAME = "manifest.json"
SUMS_NAME = "SHA256SUMS"
README_NAME = "README.md"
# Compression levels: gzip 3 writes JSONL.gz about 2.4x faster than 6 for a quarter more bytes, zstd 3
# (its default) Parquet about 2.4x faster than 6 for a tenth more; Parquet stays the compact download.
GZIP_LEVEL = 3
ZSTD_LEVEL = 3

_CITATION = pa.struct([("url", pa.string()), ("title", pa.string()), ("snippet", pa.string())])
_TURN = pa.struct([
    ("prompt", pa.string()),
    ("response_a", pa.string()),
    ("response_b", pa.string()),
    ("citations_a", pa.list_(_CITATION)),
    ("citations_b", pa.list_(_CITATION)),
    ("media_a", pa.string()),
    ("media_b", pa.string()),
])
_MUSIC = pa.struct([
    ("instrumental", pa.bool_()),
    ("board", pa.string()),
    ("duration_s", pa.float64()),
    ("lyrics", pa.string()),
    ("listened_s_a", pa.float64()),
    ("listened_s_b", pa.float64()),
    ("plays_a", pa.int64()),
    ("plays_b", pa.int64()),
])
SCHEMA = pa.schema([
    ("id", pa.string()),
    ("arena", pa.string()),
    ("mode", pa.string()),
    ("time", pa.timestamp("s", tz="UTC")),
    ("time_bucket_hours", pa.float64()),
    ("model_a", pa.string()),
    ("model_b", pa.string()),
    ("outcome", pa.string()),
    ("counted", pa.bool_()),
    ("marks", pa.list_(pa.string())),
    ("turns", pa.list_(_TURN)),
    ("feedback", pa.list_(pa.struct([("target", pa.string()), ("text", pa.string())]))),
    ("music", _MUSIC),
    ("language", pa.string()),
    ("categories", pa.list_(pa.string())),
    ("pair_probability", pa.float64()),
    ("voter", pa.string()),
])
COLUMNS = tuple(SCHEMA.names)


# Timestamps are whole seconds in UTC (time buckets), written as "2026-03-02T09:00:00Z" by orjson itself.
_JSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC | orjson.OPT_OMIT_MICROSECONDS | orjson.OPT_APPEND_NEWLINE


def _json_bytes(row: dict[str, Any]) -> bytes:
    """One row as a UTF-8 JSON line: compact, columns in schema order, non-finite floats refused.

    orjson writes what `json.dumps(..., ensure_ascii=False, separators=(",", ":"))` wrote, several times
    faster: the same strings and escapes byte for byte, the same float values (a float under 1e-4 may
    be spelled differently, "1e-7" for "1e-07"), except that it would write NaN and infinities as null
    where `allow_nan=False` refused them: rows hold few floats, so they are checked here.
    """
    ordered = row if tuple(row) == COLUMNS else {name: row[name] for name in COLUMNS}
    for value in (ordered["pair_probability"], ordered["time_bucket_hours"]):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"a release row cannot hold the float {value!r}")
    music = ordered["music"]
    if music is not None and not all(math.isfinite(v) for v in music.values() if isinstance(v, float)):
        raise ValueError("a release row's music fields cannot hold NaN or infinity")
    return orjson.dumps(ordered, option=_JSON_OPTIONS)  # other types: orjson's TypeError


def json_line(row: dict[str, Any]) -> str:
    """One row as a JSONL line (columns in schema order, timestamps as ISO 8601 UTC)."""
    return _json_bytes(row).decode("utf-8")


def serialize(rows: Sequence[dict[str, Any]]) -> tuple[pa.Table, bytes]:
    """A batch of rows as an Arrow table and as one gzip member of JSON lines (no name, mtime 0).

    Batches can be serialised in parallel: a JSONL.gz file is the concatenation of its batches' members
    (a multi-member gzip file, read transparently by gzip, zcat, pandas and datasets).
    """
    table = pa.Table.from_pylist(list(rows), schema=SCHEMA)
    text = b"".join([_json_bytes(row) for row in rows])
    return table, gzip.compress(text, compresslevel=GZIP_LEVEL, mtime=0)


class ReleaseWriter:
    """Appends serialised batches to the Parquet and JSONL.gz files of one release folder."""

    def __init__(self, folder: Path, *, compression_level: int = ZSTD_LEVEL) -> None:
        self.folder = folder
        self.rows = 0
        self._parquet = pq.ParquetWriter(folder / PARQUET_NAME, SCHEMA, compression="zstd",
                                         compression_level=compression_level)
        self._jsonl = open(folder / JSONL_NAME, "wb")  # noqa: SIM115 - closed in close()
        self._members = 0

    def append(self, table: pa.Table, member: bytes) -> None:
        """Append one serialised batch (from `serialize`) to both files."""
        if table.num_rows == 0:
            return
        self._parquet.write_table(table)
        self._jsonl.write(member)
        self._members += 1
        self.rows += table.num_rows

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        """Serialise and append a batch of rows."""
        if rows:
            self.append(*serialize(rows))

    def close(self) -> None:
        """Finish both files (an empty release still gets valid, empty files)."""
        self._parquet.close()
        if not self._members:
            self._jsonl.write(gzip.compress(b"", mtime=0))
        self._jsonl.close()

    def __enter__(self) -> ReleaseWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def sha256_file(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_entry(folder: Path, relative: str, rows: int | None = None) -> dict[str, Any]:
    """Manifest entry of one file: path, bytes, sha256 (and rows for data files)."""
    path = folder / relative
    entry: dict[str, Any] = {"path": relative, "bytes": path.stat().st_size, "sha256": sha256_file(path)}
    if rows is not None:
        entry["rows"] = rows
    return entry


def canonical_json(value: Any) -> str:
    """Sorted keys, two-space indent, trailing newline: stable bytes for manifests and indexes."""
    return json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write_text(path: Path, text: str) -> None:
    """Write UTF-8 text with Unix newlines."""
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def write_sums(folder: Path, relatives: Iterable[str]) -> None:
    """SHA256SUMS in `sha256sum -c` format, sorted by path."""
    lines = [f"{sha256_file(folder / rel)}  {rel}\n" for rel in sorted(relatives)]
    write_text(folder / SUMS_NAME, "".join(lines))


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically (a temporary file next to it, then rename)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    write_text(tmp, text)
    os.replace(tmp, path)


def read_rows(folder: Path, fmt: str = "parquet") -> list[dict[str, Any]]:
    """All rows of a release folder (for checks and small releases), from Parquet or from JSONL.gz."""
    if fmt == "parquet":
        return list(pq.read_table(folder / PARQUET_NAME).to_pylist())
    with gzip.open(folder / JSONL_NAME, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


FIELDS_DOC = (
    ("id", "string", "the battle's id inside this release (keyed; links to nothing outside it)"),
    ("arena", "string", "text, search, image or music"),
    ("mode", "string", "anonymous (models hidden until the vote) or named (side-by-side, never counted)"),
    ("time", "timestamp (UTC)", "start of the time bucket of the vote; null when even a week held fewer "
     "than k voters"),
    ("time_bucket_hours", "float", "width of that bucket: the release resolution, 24 or 168 (k-anonymity)"),
    ("model_a, model_b", "string", "catalogue names of the two models (a was shown on the left)"),
    ("outcome", "string", "model_a, model_b, tie or tie_bothbad"),
    ("counted", "bool", "whether the vote counts in the live leaderboard (anonymous and not flagged)"),
    ("marks", "list<string>", "release policy marks, e.g. leaked_identity (a model named itself)"),
    ("turns", "list<struct>", "prompt, response_a, response_b (scrubbed; null when the model's outputs may "
     "not be published), citations_a/b (url, title, snippet; scrubbed), media_a/b (path of the image or "
     "audio file in this release, or null)"),
    ("feedback", "list<struct>", "voter feedback: target (a, b or overall) and text (scrubbed)"),
    ("music", "struct", "music arena only: instrumental, board, duration_s (dropped when rare), lyrics "
     "(scrubbed), listened_s_a/b (seconds listened), plays_a/b"),
    ("language", "string", "prompt language tag; 'other' when it could not be told or fewer than k voters share it"),
    ("categories", "list<string>", "category tags of the vote (coding, long_prompt, multi_turn, music "
     "board); every row is in the overall category"),
    ("pair_probability", "float", "probability with which the sampler drew this pair"),
    ("voter", "string", "voter pseudonym: HMAC of the voter id under this release's own key; stable "
     "within this release, unlinkable across releases"),
)


def _counts_table(counts: dict[str, int]) -> str:
    if not counts:
        return "none\n"
    return "| reason | battles |\n|---|---|\n" + "".join(f"| `{k}` | {v} |\n" for k, v in sorted(counts.items()))


def render_card(manifest: dict[str, Any]) -> str:
    """The README dataset card of a release, from its manifest (deterministic)."""
    name, window, policy = manifest["name"], manifest["window"], manifest["policy"]
    fields = "".join(f"| `{f}` | {t} | {d} |\n" for f, t, d in FIELDS_DOC)
    return f"""# Arena battles: release {name}

Human preference votes between anonymous generative models, with the conversations, from the Arena
platform. Window: votes cast from **{window['start']}** up to (not including) **{window['end']}** (UTC).
Rows: **{manifest['rows']}** battles; {manifest['pipeline']['seen']} battles had a vote in the window.

## Files

- `{PARQUET_NAME}` (Parquet, zstd) and `{JSONL_NAME}` (JSON Lines, gzip): the same rows.
- `media/`: images and audio of models whose licence allows publishing their outputs; rows reference
  them by path, and `{SUMS_NAME}` lists every one of them with its checksum.
- `{MANIFEST_NAME}`: schema version, window, row counts, counts per exclusion reason, filter pipeline
  version ({manifest['pipeline']['version']}), code version, sha256 and size of every file.
- `{SUMS_NAME}`: check with `sha256sum -c {SUMS_NAME}`.

## Fields (schema version {manifest['schema_version']})

| field | type | meaning |
|---|---|---|
{fields}
## Licence

{manifest['licence']}

## Privacy policy

- Only voters who accepted the data terms (versions {', '.join(policy['terms_versions']) or 'any'}) are
  included; voters who withdrew or asked for deletion are excluded from every release built after.
- Every free-text field (prompts, answers, citations, feedback, lyrics) is scrubbed as one conversation:
  e-mails, phones, payment cards, IP addresses, keys and secrets, secret-bearing URLs, national ids and
  person names become typed placeholders (`NAME_1`, `EMAIL_1`, ...), consistent within a battle only.
  A battle that cannot be scrubbed with confidence is withheld, with its vote.
- Media are published only for models whose catalogue entry allows it, and only when the prompt needed
  no scrubbing.
- Votes are embargoed for {policy['embargo_days']:g} days; times are coarsened to {policy['time_resolution_hours']:g}
  hour(s), or to a day or week when fewer than k = {policy['k_anonymity']} voters share the bucket. Rare
  languages (fewer than k voters) become `other` (which also holds prompts whose language could not be
  told); rare music durations are dropped.
- Voter pseudonyms use a key made for this release alone; nothing is derived from IP addresses.

Battles left out, by reason:

{_counts_table(manifest['excluded'])}
Battles released with a mark, by reason:

{_counts_table(manifest['marked'])}
## Loading

```python
import pandas as pd
df = pd.read_parquet("{PARQUET_NAME}")                       # or pd.read_json("{JSONL_NAME}", lines=True)

import pyarrow.parquet as pq
table = pq.read_table("{PARQUET_NAME}")

from datasets import load_dataset                            # pip install datasets
ds = load_dataset("parquet", data_files="{PARQUET_NAME}")["train"]
```

## Rebuilding the leaderboard

The anonymous leaderboard counts exactly the rows with `counted == True`:

```python
board = df[df.counted & (df.arena == "text")]
cells = board.groupby(["model_a", "model_b", "outcome"]).size()   # feed to any Bradley-Terry fit
```

With the Arena code (this release's folder as `folder`):

```python
import rating
from arena.services.releases import release_pair_counts
names, counts = release_pair_counts(folder, "text")              # model names, rating.PairCounts
report = rating.rate(counts)                                     # Bradley-Terry with bootstrap CIs
board = sorted(zip(names, report.rating), key=lambda x: -x[1])
```
"""
