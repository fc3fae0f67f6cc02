"""One battle's database rows -> a privacy-pipeline candidate -> the published release row.

The candidate carries every free-text field (prompts, both answers, citation urls/titles/snippets,
feedback, lyrics) in `texts`, so the scrubber sees the whole conversation at once, and only the
structured values that will be published in `fields` (the fields guard checks them). Layout facts
needed to rebuild the row (how many citations each turn had, which media file belongs where) stay
in a `RecordLayout` next to the candidate and never go through the pipeline. Outputs of models whose
catalogue entry forbids publishing them are left out entirely (null answers, no media).
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple

from arena.db.release_queries import BattleDetail, BattleRow, OutputRow
from arena.privacy import ReleaseCandidate, ReleasedRecord, ReleaseKey
from arena.privacy.pseudonyms import b32_lower

SIDES = ("a", "b")
_RECORD_DOMAIN = b"arena/release-record/v1\x00"
_MEDIA_EXT = {
    "image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp", "image/gif": ".gif",
    "audio/wav": ".wav", "audio/x-wav": ".wav", "audio/wave": ".wav", "audio/mpeg": ".mp3",
    "audio/ogg": ".ogg", "audio/flac": ".flac", "audio/mp4": ".m4a",
}
_LANG_PREFIX = "lang:"
_HIDDEN_CATEGORIES = frozenset({"overall"})


class RecordLayout(NamedTuple):
    """What the row builder needs besides the pipeline's output; never published as such."""

    voted_at: datetime
    turns: int
    citation_counts: tuple[tuple[int, int], ...]
    media: tuple[tuple[str | None, str | None], ...]
    publish: tuple[bool, bool]
    feedback_targets: tuple[str, ...]
    listened: tuple[float, float]
    plays: tuple[int, int]
    has_lyrics: bool


def record_id(key: ReleaseKey, battle_id: str) -> str:
    """The battle's id inside one release: keyed, so it links to nothing outside that release."""
    digest = hmac.digest(key.secret, _RECORD_DOMAIN + battle_id.encode("utf-8"), "sha256")
    return "r_" + b32_lower(digest[:10])


def media_path(sha256: str, mime: str | None) -> str:
    """Where a media file lies inside a release folder."""
    return f"media/{sha256}{_MEDIA_EXT.get((mime or '').lower(), '.bin')}"


def model_allowlist(words_from: Iterable[str]) -> frozenset[str]:
    """Capitalised words of the catalogue's model names, so the name finder never takes them for people."""
    words: set[str] = set()
    for text in words_from:
        words.update(w.capitalize() for w in re.findall(r"[A-Za-z]{3,}", text or ""))
    return frozenset(words)


def _citation_texts(citations: list[Any]) -> list[str]:
    out: list[str] = []
    for item in citations:
        item = item if isinstance(item, dict) else {}
        out.extend(str(item.get(key) or "") for key in ("url", "title", "snippet"))
    return out


def split_categories(categories: Iterable[Any]) -> tuple[str | None, tuple[str, ...]]:
    """(language code, other category tags, sorted) from a vote's categories; 'overall' is implied."""
    values = tuple(categories)
    try:
        return _split_categories(values)
    except TypeError:  # an unhashable tag (a malformed row): split it without the memo
        return _split_categories.__wrapped__(values)


@lru_cache(maxsize=1024)
def _split_categories(categories: tuple[Any, ...]) -> tuple[str | None, tuple[str, ...]]:
    # Votes share a few category lists ("overall", "lang:en"): each is split once.
    language, tags = None, []
    for cat in categories:
        cat = str(cat)
        if cat.startswith(_LANG_PREFIX):
            language = cat[len(_LANG_PREFIX):]
        elif cat not in _HIDDEN_CATEGORIES:
            tags.append(cat)
    return language, tuple(sorted(set(tags)))


_NO_OUTPUT = OutputRow("", [], None, None, 0.0)  # read only


def build_candidate(row: BattleRow, detail: BattleDetail, publish: tuple[bool, bool],
                    flag_families: frozenset[str]) -> tuple[ReleaseCandidate, RecordLayout]:
    """The pipeline candidate of one battle and the layout to rebuild its row."""
    pub_a, pub_b = publish
    outputs = [(turn.get("a", _NO_OUTPUT), turn.get("b", _NO_OUTPUT)) for turn in detail.outputs]
    citations: list[str] = []
    counts = []
    for out_a, out_b in outputs:
        n_a = len(out_a.citations) if pub_a else 0
        n_b = len(out_b.citations) if pub_b else 0
        if n_a:
            citations.extend(_citation_texts(out_a.citations))
        if n_b:
            citations.extend(_citation_texts(out_b.citations))
        counts.append((n_a, n_b))
    lyrics = row.routing.get("lyrics") if row.arena == "music" else None
    texts = {
        "prompt": tuple(detail.prompts),
        "response_a": tuple(o[0].text for o in outputs) if pub_a else (),
        "response_b": tuple(o[1].text for o in outputs) if pub_b else (),
        "citations": tuple(citations),
        "feedback": tuple(text for _, text in detail.feedback),
        "lyrics": (str(lyrics),) if lyrics else (),
    }
    language, tags = split_categories(row.categories)
    # Structured values the fields guard checks before they are published. arena, mode and outcome are
    # not among them: the database constrains them to fixed vocabularies (CHECK constraints).
    fields = {"model_a": row.model_a, "model_b": row.model_b, "language": language, "categories": tags}
    candidate = ReleaseCandidate(
        record_id=row.battle_id, voter_id=row.voter_id, voter_accepted_terms_version=row.terms_version,
        voter_withdrawn=row.withdrawn, deleted=row.deleted, flags=flag_families, texts=texts, fields=fields,
    )
    layout = RecordLayout(
        voted_at=row.voted_at, turns=len(outputs), citation_counts=tuple(counts),
        media=tuple((_media_ref(o[0], pub_a), _media_ref(o[1], pub_b)) for o in outputs), publish=publish,
        feedback_targets=tuple(target for target, _ in detail.feedback),
        listened=(sum(o[0].listened_s for o in outputs), sum(o[1].listened_s for o in outputs)),
        plays=(detail.plays.get("a", 0), detail.plays.get("b", 0)), has_lyrics=bool(lyrics),
    )
    return candidate, layout


def _media_ref(output: OutputRow, publish: bool) -> str | None:
    if not publish or not output.media_sha256:
        return None
    return media_path(output.media_sha256, output.media_mime)


# Flags the application writes that the privacy helper's default policy does not name (arena/services/review.py).
REVIEW_CLEARED = "released_by_maintainer"
_REVIEW_FAMILIES = frozenset({"quarantined", "anomaly"})


_NO_FLAGS: frozenset[str] = frozenset()


def flag_families(flags: Iterable[Any]) -> frozenset[str]:
    """Battle and vote flags reduced to their family ('anomaly:too_fast' -> 'anomaly').

    A vote a maintainer reviewed and counted again (`released_by_maintainer`) no longer carries its
    quarantine: the release follows that decision, and the flag policy marks the row instead.
    """
    families = frozenset(str(flag).split(":", 1)[0] for flag in flags if str(flag)) if flags else _NO_FLAGS
    if REVIEW_CLEARED in families:
        families = families - _REVIEW_FAMILIES
    return families


def _citations(citations: Iterator[str], n: int) -> list[dict[str, str]]:
    return [{"url": next(citations), "title": next(citations), "snippet": next(citations)} for _ in range(n)]


def _turns(record: ReleasedRecord, layout: RecordLayout, media_ok: bool) -> list[dict[str, Any]]:
    texts = record.texts
    prompts, responses_a, responses_b = texts["prompt"], texts["response_a"], texts["response_b"]
    citations = iter(texts["citations"])
    pub_a, pub_b = layout.publish
    turns = []
    for t in range(layout.turns):
        n_a, n_b = layout.citation_counts[t]
        media_a, media_b = layout.media[t] if media_ok else (None, None)
        turns.append({  # the key order is the JSON lines' order
            "prompt": prompts[t] if t < len(prompts) else "",
            "response_a": responses_a[t] if pub_a else None,
            "citations_a": _citations(citations, n_a) if n_a else [],
            "media_a": media_a,
            "response_b": responses_b[t] if pub_b else None,
            "citations_b": _citations(citations, n_b) if n_b else [],
            "media_b": media_b,
        })
    return turns


def build_row(record: ReleasedRecord, original: ReleaseCandidate, layout: RecordLayout, row: BattleRow,
              key: ReleaseKey) -> dict[str, Any]:
    """The release row of a battle the pipeline released (time, language and duration not yet coarsened).

    Media are published only when no prompt or lyrics text had to be scrubbed: a picture or song made
    from a prompt that held personal data may show or sing it, and pixels cannot be scrubbed.
    """
    media_ok = record.texts["prompt"] == original.texts["prompt"] and record.texts["lyrics"] == original.texts["lyrics"]
    music = None
    if row.arena == "music":
        duration = row.routing.get("duration_s")
        music = {
            "instrumental": bool(row.routing.get("instrumental", True)),
            "board": row.routing.get("board"),
            "duration_s": float(duration) if isinstance(duration, int | float) else None,
            "lyrics": record.texts["lyrics"][0] if layout.has_lyrics else None,
            "listened_s_a": round(layout.listened[0], 3), "listened_s_b": round(layout.listened[1], 3),
            "plays_a": layout.plays[0], "plays_b": layout.plays[1],
        }
    return {
        "id": record_id(key, record.record_id),
        "arena": row.arena,
        "mode": row.mode,
        "time": None,
        "time_bucket_hours": None,
        "model_a": row.model_a,
        "model_b": row.model_b,
        "outcome": row.outcome,
        "counted": row.counted,
        "marks": [m.value for m in record.marks],
        "turns": _turns(record, layout, media_ok),
        "feedback": [{"target": target, "text": text}
                     for target, text in zip(layout.feedback_targets, record.texts["feedback"], strict=True)],
        "music": music,
        "language": record.fields.get("language"),
        "categories": list(record.fields.get("categories", [])),
        "pair_probability": row.pair_probability,
        "voter": record.voter_pseudonym,
    }


def published_media(row: dict[str, Any]) -> list[str]:
    """Media paths a release row refers to."""
    return [path for turn in row["turns"] for path in (turn["media_a"], turn["media_b"]) if path]


def epoch_hours(moment: datetime) -> int:
    """Whole hours since the Unix epoch (UTC), the unit time buckets are counted in."""
    return int(moment.astimezone(UTC).timestamp() // 3600)
