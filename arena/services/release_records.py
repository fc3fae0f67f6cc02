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
from collections.abc import Iterable
from datetime import UTC, datetime
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


def split_categories(categories: Iterable[Any]) -> tuple[str | None, list[str]]:
    """(language code, other category tags) from a vote's categories; 'overall' is implied."""
    language, tags = None, []
    for cat in categories:
        cat = str(cat)
        if cat.startswith(_LANG_PREFIX):
            language = cat[len(_LANG_PREFIX):]
        elif cat not in _HIDDEN_CATEGORIES:
            tags.append(cat)
    return language, sorted(set(tags))


def build_candidate(row: BattleRow, detail: BattleDetail, publish: tuple[bool, bool],
                    flag_families: frozenset[str]) -> tuple[ReleaseCandidate, RecordLayout]:
    """The pipeline candidate of one battle and the layout to rebuild its row."""
    empty = OutputRow("", [], None, None, 0.0)
    outputs = [[turn.get(side, empty) for side in SIDES] for turn in detail.outputs]
    responses = {side: tuple(o[i].text for o in outputs) if publish[i] else () for i, side in enumerate(SIDES)}
    citations: list[str] = []
    counts = []
    for pair in outputs:
        per_side = [len(pair[i].citations) if publish[i] else 0 for i in range(2)]
        for i in range(2):
            if publish[i]:
                citations.extend(_citation_texts(pair[i].citations))
        counts.append((per_side[0], per_side[1]))
    lyrics = row.routing.get("lyrics") if row.arena == "music" else None
    texts = {
        "prompt": tuple(detail.prompts),
        "response_a": responses["a"],
        "response_b": responses["b"],
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
    media = tuple(tuple(_media_ref(o[i], publish[i]) for i in range(2)) for o in outputs)
    listened = tuple(sum(o[i].listened_s for o in outputs) for i in range(2))
    layout = RecordLayout(
        voted_at=row.voted_at, turns=len(outputs), citation_counts=tuple(counts),
        media=tuple((m[0], m[1]) for m in media), publish=publish,
        feedback_targets=tuple(target for target, _ in detail.feedback),
        listened=(listened[0], listened[1]), plays=(detail.plays.get("a", 0), detail.plays.get("b", 0)),
        has_lyrics=bool(lyrics),
    )
    return candidate, layout


def _media_ref(output: OutputRow, publish: bool) -> str | None:
    if not publish or not output.media_sha256:
        return None
    return media_path(output.media_sha256, output.media_mime)


# Flags the application writes that the privacy helper's default policy does not name (arena/services/review.py).
REVIEW_CLEARED = "released_by_maintainer"
_REVIEW_FAMILIES = frozenset({"quarantined", "anomaly"})


def flag_families(flags: Iterable[Any]) -> frozenset[str]:
    """Battle and vote flags reduced to their family ('anomaly:too_fast' -> 'anomaly').

    A vote a maintainer reviewed and counted again (`released_by_maintainer`) no longer carries its
    quarantine: the release follows that decision, and the flag policy marks the row instead.
    """
    families = frozenset(str(flag).split(":", 1)[0] for flag in flags if str(flag))
    if REVIEW_CLEARED in families:
        families = families - _REVIEW_FAMILIES
    return families


def _turns(record: ReleasedRecord, layout: RecordLayout, media_ok: bool) -> list[dict[str, Any]]:
    texts = record.texts
    citations = iter(texts["citations"])
    turns = []
    for t in range(layout.turns):
        turn: dict[str, Any] = {"prompt": texts["prompt"][t] if t < len(texts["prompt"]) else ""}
        for i, side in enumerate(SIDES):
            published = layout.publish[i]
            turn[f"response_{side}"] = texts[f"response_{side}"][t] if published else None
            turn[f"citations_{side}"] = [
                {"url": next(citations), "title": next(citations), "snippet": next(citations)}
                for _ in range(layout.citation_counts[t][i])
            ]
            turn[f"media_{side}"] = layout.media[t][i] if media_ok else None
        turns.append(turn)
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
    return [turn[f"media_{side}"] for turn in row["turns"] for side in SIDES if turn[f"media_{side}"]]


def epoch_hours(moment: datetime) -> int:
    """Whole hours since the Unix epoch (UTC), the unit time buckets are counted in."""
    return int(moment.astimezone(UTC).timestamp() // 3600)
