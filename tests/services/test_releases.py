"""Releases (issue 5): planted personal data never published, AC-17/AC-18, withdrawal, rotating pseudonyms,
windows and embargo, the one-build lease, determinism, coarsening, media, and the recomputed leaderboard."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import select

import rating
from arena.catalog import Catalog
from arena.db import repo
from arena.db.engine import write_session
from arena.db.schema import Battle, Media, Release, Vote, Voter
from arena.errors import ConflictError
from arena.privacy import ReleaseKey
from arena.release_files import read_rows
from arena.services.release_records import record_id
from arena.services.releases import ReleaseService, Window, release_pair_counts
from arena.services.voters import VoterService
from rating.data import PairCounts
from tests.privacy.conftest import KINDS, PlantedCase, make_clean_corpus, make_planted_corpus
from tests.services.release_seed import T0, TERMS, Seed, add_voter, insert, spread, voter_id

UNTIL = T0 + timedelta(days=30)
KEY = bytes(range(32))


def _service(services: Any, **kwargs: Any) -> ReleaseService:
    return ReleaseService(services.sessions, services.settings, kwargs.pop("catalog", services.catalog),
                          services.media, **kwargs)


def _release_text(folder: Path) -> str:
    """Everything a release publishes, as text: decoded Parquet rows, JSONL, manifest, card, sums, index."""
    parts = [json.dumps(read_rows(folder), default=str, ensure_ascii=False)]
    parts.append(gzip.decompress((folder / "battles.jsonl.gz").read_bytes()).decode("utf-8"))
    parts.extend((folder / name).read_text("utf-8") for name in ("manifest.json", "README.md", "SHA256SUMS"))
    parts.append((folder.parent / "index.json").read_text("utf-8"))
    return "\n".join(parts)


def _survivors(case: PlantedCase, text: str) -> list[str]:
    left = []
    for planted in case.planted:
        for variant in planted.variants:
            if planted.kind == "NAME":
                hit = re.search(rf"(?i)(?<![^\W_]){re.escape(variant)}(?![^\W_])", text) is not None
            else:
                hit = variant in text
            if hit:
                left.append(f"{planted.kind}:{variant}")
    return left


def test_planted_personal_data_never_reaches_a_release_file(make_services: Any) -> None:
    services = make_services()
    corpus = make_planted_corpus(seed=20261203, n=240)
    assert {p.kind for case in corpus for p in case.planted} == {*KINDS, "NAME"}
    seeds = spread([
        Seed(voter=voter_id(i % 40), prompts=[case.texts[0]], responses=[(case.texts[1], case.texts[2])],
             feedback=[("overall", case.texts[3])])
        for i, case in enumerate(corpus)
    ])
    insert(services, seeds)
    summary = _service(services).build(until=UNTIL)
    text = _release_text(Path(summary["path"]))
    survivors = [s for case in corpus for s in _survivors(case, text)]
    assert survivors == []
    # Nothing was withheld to get there: the planted corpus is scrubbable, so every battle is published.
    assert summary["rows"] == 240 and summary["excluded"] == {}


def test_clean_texts_are_published_unchanged(make_services: Any) -> None:
    services = make_services()
    texts = make_clean_corpus(seed=20261204, n=300)
    seeds = spread([Seed(voter=voter_id(i % 30), prompts=[t], responses=[(texts[(i + 1) % 300], "Sure.")])
                    for i, t in enumerate(texts)])
    ids = insert(services, seeds)
    summary = _service(services).build(until=UNTIL, key=KEY)
    rows = {r["id"]: r for r in read_rows(Path(summary["path"]))}
    key = ReleaseKey(KEY)
    published = [rows[record_id(key, bid)]["turns"][0] for bid in ids if record_id(key, bid) in rows]
    unchanged = sum(t["prompt"] == texts[i] for i, t in enumerate(published))
    assert len(published) >= 295
    assert unchanged / len(texts) >= 0.95


AC17_PROMPT = ("Hi, I'm Jordan Blake (jordan.blake@example.org, +1 555 010 4477). My server 203.0.113.42 keeps "
               "failing; my colleague Priya Raman says…")


def test_ac17_personal_data_in_conversation_logs(make_services: Any) -> None:
    services = make_services()
    seed = Seed(voter=voter_id(1), prompts=[AC17_PROMPT, "Thanks!"],
                responses=[("Sure, Jordan — I'll email jordan.blake@example.org", "Server 203.0.113.42 may be down."),
                           ("You're welcome, Jordan.", "Anytime.")],
                feedback=[("a", "A remembered my name, Jordan Blake."), ("overall", "call +1 555 010 4477")])
    insert(services, [seed])
    folder = Path(_service(services).build(until=UNTIL)["path"])
    text = _release_text(folder)
    for forbidden in ("Jordan", "Blake", "jordan.blake@example.org", "555 010 4477", "555-010-4477",
                      "5550104477", "203.0.113.42", "Priya", "Raman"):
        assert forbidden not in text
    (row,) = read_rows(folder)
    first = row["turns"][0]
    assert first["prompt"] == ("Hi, I'm NAME_1 (EMAIL_1, PHONE_1). My server IP_1 keeps failing; "
                               "my colleague NAME_2 says…")
    assert first["response_a"] == "Sure, NAME_1 — I'll email EMAIL_1"
    assert first["response_b"] == "Server IP_1 may be down."
    assert row["turns"][1]["response_a"] == "You're welcome, NAME_1."
    assert [f["text"] for f in row["feedback"]] == ["A remembered my name, NAME_1.", "call PHONE_1"]


@pytest.mark.parametrize("workers", [1, 2])
def test_ac18_one_pseudonym_per_voter_across_batches_and_workers(make_services: Any, settings: Any,
                                                                 workers: int) -> None:
    services = make_services(release=replace(settings.release, batch_size=2))
    ip_voter, other = "client-7f3a9c21", "client-0b44e5d8"  # browser ids of the voters at .23 and .24
    seeds = spread([
        Seed(voter=ip_voter, prompts=["vote from 198.51.100.23"]),
        Seed(voter=other, prompts=["from 198.51.100.24, also 198-51-100-24"]),
        Seed(voter=ip_voter, prompts=["again 198-51-100-23"]),
        Seed(voter=ip_voter, prompts=["and 198_51_100_23"], feedback=[("overall", "me: 198.51.100.23")]),
    ], step=timedelta(hours=5))
    insert(services, seeds)
    folder = Path(_service(services, workers=workers).build(until=UNTIL)["path"])
    rows = read_rows(folder)
    assert len(rows) == 4
    voters = [r["voter"] for r in rows]
    assert voters[0] == voters[2] == voters[3] != voters[1]
    assert Counter(voters)[voters[0]] == 3  # per-user caps computed on the export see 3 votes
    text = _release_text(folder)
    ip = "198.51.100.23"
    forms = [ip, "198-51-100-23", "198_51_100_23", "198.51.100.24"]
    unkeyed = [getattr(hashlib, algo)(f.encode()).hexdigest() for algo in ("md5", "sha1", "sha256") for f in forms]
    for forbidden in (*forms, *unkeyed, ip_voter, other):
        assert forbidden not in text
    assert rows[0]["turns"][0]["prompt"] == "vote from IP_1"


def test_withdrawn_voter_leaves_next_release_and_pseudonyms_rotate(make_services: Any) -> None:
    services = make_services()
    voters = VoterService(services.sessions, services.settings)
    stay, leave = voter_id(1), voter_id(2)
    token = voters.accept_terms(leave).token
    voters.accept_terms(stay)
    first_window = [Seed(voter=v) for v in (stay, leave, stay, leave, stay)]
    insert(services, spread(first_window))
    releases = _service(services)
    first = releases.build(until=T0 + timedelta(days=8))
    rows_1 = read_rows(Path(first["path"]))
    assert len(rows_1) == 5 and len({r["voter"] for r in rows_1}) == 2
    stay_1 = rows_1[0]["voter"]
    assert rows_1[2]["voter"] == rows_1[4]["voter"] == stay_1  # stable within a release
    voters.withdraw(token)
    insert(services, spread([Seed(voter=v) for v in (stay, leave, stay)], start=T0 + timedelta(days=2)))
    second = releases.build(until=T0 + timedelta(days=20))
    rows_2 = read_rows(Path(second["path"]))
    assert len(rows_2) == 2 and second["excluded"] == {"withdrawn": 1}
    assert {r["voter"] for r in rows_2} == {rows_2[0]["voter"]}
    assert rows_2[0]["voter"] != stay_1  # a new key per release: pseudonyms differ between releases
    assert second["window_start"] == first["window_end"]
    index = json.loads((releases.releases_dir / "index.json").read_text())
    assert [r["name"] for r in index["releases"]] == [second["name"], first["name"]]
    assert [r["name"] for r in releases.list_releases()] == [second["name"], first["name"]]


def test_policy_filters_count_every_left_out_battle(make_services: Any) -> None:
    services = make_services()
    add_voter(services, "voter-noterms", terms=None)
    add_voter(services, "voter-oldterms", terms="2020-01")
    seeds = spread([
        Seed(voter=voter_id(1)),
        Seed(voter="voter-noterms"),
        Seed(voter="voter-oldterms"),
        Seed(voter=voter_id(1), battle_flags=["quarantined:sequential_test"]),
        Seed(voter=voter_id(1), vote_flags=["quarantined", "anomaly:too_fast"]),
        Seed(voter=voter_id(1), vote_flags=["quarantined", "anomaly:sequential_test", "released_by_maintainer"],
             counted=True),
        Seed(voter=voter_id(1), battle_flags=["leaked_identity:output_names_model"], counted=False),
        Seed(voter=voter_id(1), vote_flags=["never_heard_of_it"]),
        Seed(voter=voter_id(1), prompts=["account 1234 5678 9012 3456 7890 12"]),
        Seed(voter=voter_id(1), mode="named"),
    ])
    insert(services, seeds)
    summary = _service(services).build(until=UNTIL)
    assert summary["excluded"] == {"anomalous_voter": 1, "no_terms": 1, "pii_unscrubbable": 1, "quarantined": 1,
                                   "terms_outdated": 1, "unknown_flag": 1}
    assert summary["marked"] == {"leaked_identity": 1, "quarantined": 1}
    rows = read_rows(Path(summary["path"]))
    assert len(rows) == 4
    assert [(r["mode"], r["counted"], r["marks"]) for r in rows] == [
        ("anonymous", True, []), ("anonymous", True, ["quarantined"]), ("anonymous", False, ["leaked_identity"]),
        ("named", False, [])]
    manifest = json.loads((Path(summary["path"]) / "manifest.json").read_text())
    assert manifest["pipeline"]["seen"] == 10 and sum(manifest["excluded"].values()) + manifest["rows"] == 10
    assert manifest["excluded_details"]["unknown_flag:never_heard_of_it"] == 1


def test_window_embargo_and_nothing_new(make_services: Any) -> None:
    services = make_services()
    insert(services, spread([Seed(voter=voter_id(1)) for _ in range(3)], step=timedelta(days=3)))
    releases = _service(services)
    # until = T0 + 10 days: the embargo (7 days) leaves [T0, T0 + 3 days): only the first vote.
    summary = releases.build(until=T0 + timedelta(days=10, minutes=30))
    assert summary["rows"] == 1
    assert (summary["window_start"], summary["window_end"]) == ("2026-03-02T09:00:00Z", "2026-03-05T09:00:00Z")
    with pytest.raises(ConflictError, match="nothing new to release"):
        releases.build(until=T0 + timedelta(days=10, minutes=50))
    assert releases.build(until=UNTIL)["rows"] == 2


def test_scheduled_job_respects_cadence_and_enabled(make_services: Any) -> None:
    services = make_services()
    insert(services, spread([Seed(voter=voter_id(1)) for _ in range(4)], step=timedelta(days=2)))
    now = [T0 + timedelta(days=9)]
    releases = _service(services, clock=lambda: now[0])
    assert releases.run_scheduled() is not None  # first release: due as soon as a vote is past the embargo
    now[0] += timedelta(days=3)
    assert releases.run_scheduled() is None  # cadence (7 days) not reached
    now[0] += timedelta(days=5)
    second = releases.run_scheduled()
    assert second is not None and second["rows"] == 3
    off = _service(make_services(release=replace(services.settings.release, enabled=False)))
    assert off.run_scheduled() is None


def test_one_build_at_a_time(make_services: Any) -> None:
    services = make_services()
    insert(services, [Seed(voter=voter_id(1))])
    first, second = _service(services), _service(services)
    assert first._lock()
    with pytest.raises(ConflictError, match="another release build is running"):
        second.build(until=UNTIL)
    first._unlock()
    assert second.build(until=UNTIL)["rows"] == 1
    with services.sessions() as session:
        assert session.scalar(select(Release.key_hex)) and len(session.scalars(select(Release)).all()) == 1


def test_same_database_and_key_give_the_same_bytes(make_services: Any, tmp_path: Path) -> None:
    services = make_services()
    corpus = make_planted_corpus(seed=7, n=30)
    insert(services, spread([Seed(voter=voter_id(i % 4), prompts=[c.texts[0]], responses=[(c.texts[1], c.texts[2])],
                                  feedback=[("b", c.texts[3])]) for i, c in enumerate(corpus)]))
    window, key = Window(T0, UNTIL), ReleaseKey(KEY)
    _service(services).write_files(window, key, tmp_path / "one", "r")
    _service(services, workers=2).write_files(window, key, tmp_path / "two", "r")
    _service(services).write_files(window, ReleaseKey(bytes(32)), tmp_path / "other-key", "r")
    names = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert names == ["README.md", "SHA256SUMS", "battles.jsonl.gz", "battles.parquet", "manifest.json"]
    for name in names:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
    parquet_bytes = [(tmp_path / d / "battles.parquet").read_bytes() for d in ("one", "other-key")]
    assert parquet_bytes[0] != parquet_bytes[1]
    parquet, jsonl = read_rows(tmp_path / "one"), read_rows(tmp_path / "one", "jsonl")
    assert json.loads(json.dumps(parquet, default=lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ"))) == jsonl


def test_rare_values_are_coarsened(make_services: Any) -> None:
    services = make_services()
    en = [Seed(voter=voter_id(i), voted_at=T0 + timedelta(minutes=i)) for i in range(6)]
    de = [Seed(voter=voter_id(10 + i), categories=["overall", "lang:de"], voted_at=T0 + timedelta(hours=1, minutes=i))
          for i in range(5)]
    rare = [Seed(voter=voter_id(20 + i), categories=["overall", "lang:el" if i < 2 else "lang:he", "coding"],
                 voted_at=T0 + timedelta(hours=5 + i)) for i in range(5)]
    insert(services, en + de + rare)
    summary = _service(services).build(until=UNTIL)
    rows = read_rows(Path(summary["path"]))
    # "el" (2 voters) and "he" (3 voters) are each held by fewer than k = 5 voters; pooled they make 5.
    assert [r["language"] for r in rows] == ["en"] * 6 + ["de"] * 5 + ["other"] * 5
    # One voter per hour from 14:00 on: those rows fall back to the day, where 5 voters share the bucket.
    assert [r["time_bucket_hours"] for r in rows] == [1.0] * 11 + [24.0] * 5
    assert rows[11]["time"].hour == 0 and rows[11]["categories"] == ["coding"]
    manifest = json.loads((Path(summary["path"]) / "manifest.json").read_text())
    assert manifest["coarsening"]["language"] == {"replacement": "other", "rows_changed": 5, "values_pooled": 2}
    assert manifest["coarsening"]["time_rows_by_bucket"] == {"1h": 11, "24h": 5, "dropped": 0}
    assert "el" not in json.dumps(manifest["coarsening"])


def test_media_copied_only_when_publishable(make_services: Any) -> None:
    services = make_services()
    png_a, png_b = b"\x89PNG fake image a", b"\x89PNG fake image b"
    sha_a, sha_b = services.media.put(png_a), services.media.put(png_b)
    with write_session(services.sessions) as session:
        for sha, data in ((sha_a, png_a), (sha_b, png_b)):
            repo.upsert_media(session, sha, "image/png", len(data), {})
    image: dict[str, Any] = dict(arena="image", model_a="pattern-painter", model_b="scene-sketcher",
                 responses=[("", "")], media=[(sha_a, sha_b)])
    seeds = spread([Seed(voter=voter_id(1), prompts=["a red fox"], **image),
                    Seed(voter=voter_id(1), prompts=["my number is +1 555 010 4477 on a sign"], **image)])
    insert(services, seeds)
    specs = tuple(replace(m, publish_outputs=False) if m.name == "scene-sketcher" else m
                  for m in services.catalog.models)
    folder = Path(_service(services, catalog=Catalog(specs)).build(until=UNTIL)["path"])
    rows = read_rows(folder)
    assert rows[0]["turns"][0]["media_a"] == f"media/{sha_a}.png"
    assert rows[0]["turns"][0]["media_b"] is None and rows[0]["turns"][0]["response_b"] is None
    assert rows[1]["turns"][0]["media_a"] is None  # the prompt held personal data: no pixels published
    assert (folder / f"media/{sha_a}.png").read_bytes() == png_a
    assert not (folder / f"media/{sha_b}.png").exists()
    sums = (folder / "SHA256SUMS").read_text()
    assert f"{sha_a}  media/{sha_a}.png" in sums


def test_music_rows_carry_listening_totals_and_scrubbed_lyrics(make_services: Any) -> None:
    services = make_services()
    music: dict[str, Any] = dict(arena="music", model_a="midi-composer", model_b="sine-composer",
                                 categories=["overall", "instrumental"], listened=(12.5, 3.0),
                                 feedback=[("b", "B was dull, write to me at fan@example.org")])
    seeds = [Seed(voter=voter_id(i), prompts=["calm piano, 20 seconds"],
                  routing={"instrumental": False, "duration_s": 20.0 if i < 5 else 47.0, "board": "vocal",
                           "lyrics": "la la Jordan Blake la"}, **music) for i in range(6)]
    insert(services, spread(seeds))
    rows = read_rows(Path(_service(services).build(until=UNTIL)["path"]))
    first = rows[0]["music"]
    assert first["lyrics"] == "la la NAME_1 la" and first["listened_s_a"] == 12.5 and first["board"] == "vocal"
    assert [r["music"]["duration_s"] for r in rows] == [20.0] * 5 + [None]  # 47 s: one voter, dropped
    assert rows[0]["feedback"] == [{"target": "b", "text": "B was dull, write to me at EMAIL_1"}]


def _db_counts(services: Any, window: Window, withheld_ids: set[str]) -> tuple[list[str], PairCounts]:
    """The live-board computation on the database, restricted to the window and the release policy."""
    cells: dict[tuple[str, str], np.ndarray] = {}
    with services.sessions() as session:
        names = {m.id: m.name for m in repo.list_models(session)}
        stmt = (select(Battle.id, Battle.model_a_id, Battle.model_b_id, Vote.outcome, Battle.flags, Vote.flags)
                .join(Vote, Vote.battle_id == Battle.id).join(Voter, Voter.id == Battle.voter_id)
                .where(Vote.counted.is_(True), Battle.arena == "text", Vote.created_at >= window.start,
                       Vote.created_at < window.end, Voter.terms_version == TERMS, Voter.withdrawn_at.is_(None),
                       Voter.deleted_at.is_(None)))
        for bid, a_id, b_id, outcome, bflags, vflags in session.execute(stmt):
            if bid in withheld_ids or any(f.split(":")[0] in ("quarantined", "anomalous_voter")
                                          for f in [*bflags, *vflags]):
                continue
            a, b = names[a_id], names[b_id]
            lo, hi = sorted((a, b))
            cell = cells.setdefault((lo, hi), np.zeros(4))
            col = {"model_a": 0, "model_b": 1, "tie": 2, "tie_bothbad": 3}[outcome]
            cell[col if col >= 2 or a == lo else 1 - col] += 1
    models = sorted({m for pair in cells for m in pair})
    ix = {m: i for i, m in enumerate(models)}
    pairs = np.array([[ix[lo], ix[hi]] for lo, hi in sorted(cells)], dtype=np.int64)
    return models, PairCounts(len(models), pairs, np.array([cells[p] for p in sorted(cells)]))


def test_leaderboard_recomputed_from_release_equals_live_board_on_window(make_services: Any) -> None:
    services = make_services()
    rng = np.random.default_rng(5)
    models = ["ngram-storyteller", "wordnet-librarian", "tiny-transformer"]
    strength = {"ngram-storyteller": 0.0, "wordnet-librarian": 0.6, "tiny-transformer": -0.4}
    add_voter(services, "voter-noterms", terms=None)
    add_voter(services, "voter-withdrawn", withdrawn=True)
    seeds, unscrubbable = [], set()
    for _ in range(400):
        a, b = rng.choice(3, size=2, replace=False)
        ma, mb = models[a], models[b]
        p = 1 / (1 + np.exp(strength[mb] - strength[ma]))
        u = rng.random()
        outcome = "tie" if u < 0.1 else ("tie_bothbad" if u < 0.15 else ("model_a" if rng.random() < p else "model_b"))
        voter = ["voter-noterms", "voter-withdrawn", *(voter_id(k) for k in range(12))][int(rng.integers(14))]
        kind = rng.random()
        seed = Seed(voter=voter, model_a=ma, model_b=mb, outcome=outcome,
                    voted_at=T0 + timedelta(hours=int(rng.integers(-48, 24 * 20))),
                    battle_flags=["quarantined:review"] if kind < 0.04 else [],
                    vote_flags=["leaked_identity:output_names_model"] if 0.04 <= kind < 0.08 else [],
                    mode="named" if 0.08 <= kind < 0.12 else "anonymous",
                    prompts=["account 1234 5678 9012 3456 7890 12"] if 0.12 <= kind < 0.15 else ["What is a cat?"])
        if 0.12 <= kind < 0.15:
            unscrubbable.add(seed.battle_id)
        seeds.append(seed)
    insert(services, seeds)
    summary = _service(services).build(until=T0 + timedelta(days=17))
    start, end = (datetime.fromisoformat(summary[k].replace("Z", "+00:00")) for k in ("window_start", "window_end"))
    window = Window(start, end)
    assert window.end == T0 + timedelta(days=10) and window.start <= min(s.voted_at for s in seeds)
    assert sum(s.voted_at >= window.end for s in seeds) > 100  # the window restriction matters
    names_rel, counts_rel = release_pair_counts(Path(summary["path"]), "text")
    names_db, counts_db = _db_counts(services, window, unscrubbable)
    assert names_rel == names_db
    np.testing.assert_array_equal(counts_rel.pairs, counts_db.pairs)
    np.testing.assert_array_equal(counts_rel.counts, counts_db.counts)
    assert counts_rel.counts.sum() > 100
    report_rel = rating.rate(counts_rel, bootstrap_rounds=50, seed=3)
    report_db = rating.rate(counts_db, bootstrap_rounds=50, seed=3)
    np.testing.assert_allclose(report_rel.rating, report_db.rating, rtol=0, atol=1e-9)
    np.testing.assert_allclose(report_rel.ci_low, report_db.ci_low, rtol=0, atol=1e-9)
    assert summary["excluded"]["pii_unscrubbable"] >= 1 and summary["excluded"]["withdrawn"] >= 1


def test_release_board_equals_the_live_board_when_the_policy_keeps_everything(make_services: Any) -> None:
    # The live board itself (LeaderboardService, from the maintained counts) against a board recomputed from the
    # release file: with every voter consenting, nothing flagged and every vote inside the window, they are equal.
    services = make_services()
    rng = np.random.default_rng(11)
    models = ["ngram-storyteller", "wordnet-librarian", "tiny-transformer"]
    seeds = []
    for _ in range(300):
        a, b = rng.choice(3, size=2, replace=False)
        u, p_a = rng.random(), 0.7 if a < b else 0.3  # the earlier model in the list is the stronger one
        outcome = "tie" if u < 0.1 else "tie_bothbad" if u < 0.15 else "model_a" if rng.random() < p_a else "model_b"
        seeds.append(Seed(voter=voter_id(int(rng.integers(10))), model_a=models[a], model_b=models[b],
                          outcome=outcome, voted_at=T0 + timedelta(minutes=int(rng.integers(0, 24 * 60)))))
    insert(services, seeds)
    assert services.leaderboard.recount() == 300  # the counts the vote path maintains, from the same votes
    live = services.leaderboard.board("text")
    summary = _service(services).build(until=T0 + timedelta(days=9))
    assert summary["rows"] == 300 and not summary["excluded"]
    names, counts = release_pair_counts(Path(summary["path"]), "text")
    report = rating.rate(counts, bootstrap_rounds=0)
    recomputed = {name: float(r) for name, r in zip(names, report.rating, strict=True)}
    assert live["total_votes"] == int(counts.counts.sum()) == 300
    assert {r["model"]: r["votes"] for r in live["rows"]} == dict(zip(names, report.votes.astype(int).tolist(),
                                                                         strict=True))
    for row in live["rows"]:
        assert abs(row["rating"] - recomputed[row["model"]]) < 1e-3  # the board rounds ratings to 4 decimals


def test_media_row_for_missing_file_is_nulled(make_services: Any) -> None:
    services = make_services()
    sha = "ab" * 32
    with write_session(services.sessions) as session:
        session.add(Media(sha256=sha, mime="image/png", size_bytes=3, meta={}))
    insert(services, [Seed(voter=voter_id(1), arena="image", model_a="pattern-painter", model_b="scene-sketcher",
                           media=[(sha, None)])])
    summary = _service(services).build(until=UNTIL)
    assert read_rows(Path(summary["path"]))[0]["turns"][0]["media_a"] is None
    manifest = json.loads((Path(summary["path"]) / "manifest.json").read_text())
    assert manifest["media"] == {"bytes": 0, "files": 0, "missing": 1}


def test_json_columns_decoder_parses_text_once_and_passes_decoded_values() -> None:
    from arena.db.release_queries import json_decoder

    decode = json_decoder()
    first, again = decode('["overall", "lang:en"]'), decode('["overall", "lang:en"]')
    assert first == ["overall", "lang:en"] and first is again  # parsed once per batch
    assert decode('{"lyrics": "la"}') == {"lyrics": "la"} and decode("null") is None and decode(None) is None
    already = {"board": "vocal"}
    assert decode(already) is already  # a driver that decodes JSON itself (psycopg)


def test_release_on_postgres(pg_url: str, make_services: Any) -> None:
    # The release reads JSON columns as text and decodes them itself; PostgreSQL's driver types them differently.
    services = make_services(database_url=pg_url)
    cited = ([{"url": "https://example.org/tides", "title": "Tides", "snippet": "The moon pulls."}], [])
    seeds = [Seed(voter=voter_id(i % 5), voted_at=T0 + timedelta(minutes=i), citations=[cited],
                  prompts=[f"Hi, I'm Jordan Blake (jordan.blake@example.org), question {i}"]) for i in range(40)]
    insert(services, seeds)
    summary = _service(services).build(until=T0 + timedelta(days=9))
    assert summary["rows"] == 40 and not summary["excluded"]
    rows = read_rows(Path(summary["path"]))
    assert len(rows) == 40
    text = json.dumps(rows, default=str)
    assert "Jordan" not in text and "jordan.blake@example.org" not in text and "NAME_1" in text
    assert rows[0]["turns"][0]["citations_a"][0]["url"] == "https://example.org/tides"
    names, counts = release_pair_counts(Path(summary["path"]), "text")
    assert names == ["ngram-storyteller", "wordnet-librarian"] and counts.counts.sum() == 40


def test_dataset_card_code_runs_as_written(make_services: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Every Python block of a release's README, run in the release folder as a researcher would paste it
    # (pandas, pyarrow, datasets.load_dataset on the local file, the groupby board and the Arena helpers).
    services = make_services()
    rng = np.random.default_rng(5)
    models = ["ngram-storyteller", "wordnet-librarian", "tiny-transformer"]
    seeds = []
    for i in range(90):
        a, b = rng.choice(3, size=2, replace=False)
        seeds.append(Seed(voter=voter_id(i % 9), model_a=models[a], model_b=models[b],
                          outcome=("model_a", "model_b", "tie")[i % 3]))
    insert(services, spread(seeds))
    folder = Path(_service(services).build(until=UNTIL)["path"])
    card = (folder / "README.md").read_text("utf-8")
    blocks = re.findall(r"```python\n(.*?)```", card, flags=re.S)
    assert len(blocks) == 3 and "load_dataset" in blocks[0] and "release_pair_counts" in blocks[2]
    monkeypatch.chdir(folder)
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")  # a local file: nothing may be fetched
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    namespace: dict[str, Any] = {"folder": str(folder)}  # the folder as a string, as a user would type it
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    assert len(namespace["df"]) == len(namespace["ds"]) == namespace["table"].num_rows == 90
    assert int(namespace["cells"].sum()) == 90
    assert sorted(namespace["names"]) == sorted(models)
    ratings = [r for _, r in namespace["board"]]
    assert sorted({name for name, _ in namespace["board"]}) == sorted(models) and ratings == sorted(ratings)[::-1]
