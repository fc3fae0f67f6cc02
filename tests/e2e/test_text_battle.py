"""Real browser: type a prompt, wait for both answers, vote, see names; the vote and counts are in the DB."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import wait_for_voter_id

pytestmark = pytest.mark.e2e

BUILTIN_TEXT = {"N-gram storyteller (local demo)", "WordNet librarian (local demo)", "Tiny transformer (local demo)"}


def _open(page: Any, base: str) -> None:
    page.goto(base, wait_until="load")
    page.locator("#prompt-text textarea").wait_for(timeout=30_000)
    wait_for_voter_id(page)


def _wait_votable(page: Any) -> None:
    try:
        page.locator("#vote-model_a-text:not([disabled])").wait_for(timeout=60_000)
    except Exception as exc:
        raise AssertionError(f"no votable battle; status: {page.locator('#status-text').inner_text()!r}") from exc


def _battle(page: Any, prompt: str) -> None:
    page.locator("#prompt-text textarea").fill(prompt)
    page.locator("#send-text").click()
    _wait_votable(page)


def test_text_battle_vote_reveal_and_db(server: tuple[str, Path], browser: Any, tmp_path: Path) -> None:
    base, data = server
    page = browser.new_page(viewport={"width": 1400, "height": 1300})
    _open(page, base)
    _battle(page, "What is photosynthesis?")
    pane_a = page.locator("#pane-a-text").inner_text()
    pane_b = page.locator("#pane-b-text").inner_text()
    for pane in (pane_a, pane_b):  # an answer beyond the echoed prompt in both panes
        assert len(pane.replace("What is photosynthesis?", "").strip()) > 40, pane
    assert not any(name.split(" (")[0] in pane_a + pane_b for name in BUILTIN_TEXT)
    page.locator("#vote-model_a-text").click()
    reveal = page.locator("#reveal-text")
    reveal.wait_for(state="visible", timeout=30_000)
    expect(reveal).to_contain_text("Model A:", timeout=15_000)
    shown = reveal.inner_text()
    assert sum(name in shown for name in BUILTIN_TEXT) == 2, shown  # both names, and only after the vote
    assert page.locator("#prompt-text textarea").is_disabled()
    shots = Path(os.environ.get("ARENA_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "text-battle.png"), full_page=True)
    with sqlite3.connect(data / "arena.db") as db:
        votes = db.execute("SELECT outcome, mode, counted FROM votes").fetchall()
        counts = db.execute("SELECT SUM(wins_lo + wins_hi + ties + bothbad) FROM pair_counts "
                            "WHERE arena='text' AND category='overall'").fetchone()[0]
    assert votes == [("model_a", "anonymous", 1)]
    assert counts == 1
    page.locator("#new-text").click()
    page.wait_for_function("!document.querySelector('#prompt-text textarea').disabled")
    page.close()


def test_ac14_two_sessions_do_not_share_state(server: tuple[str, Path], browser: Any) -> None:
    base, data = server
    ctx1, ctx2 = browser.new_context(), browser.new_context()
    p1, p2 = ctx1.new_page(), ctx2.new_page()
    for page in (p1, p2):
        _open(page, base)
    p1.locator("#prompt-text textarea").fill("zebra")
    p2.locator("#prompt-text textarea").fill("volcano")
    p1.locator("#send-text").click()
    p2.locator("#send-text").click()
    for page in (p1, p2):
        _wait_votable(page)
    s1, s2 = p1.locator("#pane-a-text").inner_text(), p2.locator("#pane-b-text").inner_text()
    assert "zebra" in s1 and "volcano" not in s1
    assert "volcano" in s2 and "zebra" not in s2
    p1.locator("#vote-model_a-text").click()
    p2.locator("#vote-model_b-text").click()
    for page in (p1, p2):
        page.locator("#reveal-text").wait_for(state="visible", timeout=30_000)
    with sqlite3.connect(data / "arena.db") as db:
        rows = db.execute(
            "SELECT t.prompt, b.voter_id, b.session_id, v.voter_id, v.outcome FROM votes v "
            "JOIN battles b ON b.id = v.battle_id JOIN turns t ON t.battle_id = b.id "
            "WHERE t.prompt IN ('zebra', 'volcano') ORDER BY t.prompt").fetchall()
    rows.sort(key=lambda r: r[0] != "zebra")
    assert [r[0] for r in rows] == ["zebra", "volcano"]
    assert rows[0][1] != rows[1][1] and rows[0][2] != rows[1][2]
    assert rows[0][1] == rows[0][3] and rows[1][1] == rows[1][3]
    assert [r[4] for r in rows] == ["model_a", "model_b"]
    old_session = rows[0][2]
    p1.reload(wait_until="load")
    p1.locator("#prompt-text textarea").wait_for(timeout=30_000)
    p1.locator("#prompt-text textarea").fill("zebra again")
    p1.locator("#send-text").click()
    _wait_votable(p1)
    with sqlite3.connect(data / "arena.db") as db:
        new_session = db.execute("SELECT b.session_id FROM battles b JOIN turns t ON t.battle_id = b.id "
                                 "WHERE t.prompt = 'zebra again'").fetchone()[0]
    assert new_session and new_session != old_session
    ctx1.close()
    ctx2.close()


def test_ac10_triple_click_stores_one_vote(server: tuple[str, Path], browser: Any) -> None:
    base, data = server
    page = browser.new_page()
    _open(page, base)
    _battle(page, "triple click test")
    button = page.locator("#vote-model_b-text")
    # Three clicks within 300 ms, dispatched straight to the element (a disabled button ignores them).
    page.evaluate("""() => { const b = document.querySelector('#vote-model_b-text');
                             b.click(); setTimeout(() => b.click(), 100); setTimeout(() => b.click(), 250); }""")
    expect(button).to_be_disabled(timeout=5_000)
    page.locator("#reveal-text").wait_for(state="visible", timeout=30_000)
    with sqlite3.connect(data / "arena.db") as db:
        n = db.execute("SELECT COUNT(*) FROM votes v JOIN turns t ON t.battle_id = v.battle_id "
                       "WHERE t.prompt = 'triple click test'").fetchone()[0]
    assert n == 1
    page.close()
