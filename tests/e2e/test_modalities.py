"""Real browser, one battle per modality: prompt -> both outputs shown -> vote -> reveal (music gated by listening)."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.pages import wait_for_voter_id

pytestmark = pytest.mark.e2e

TABS = {"search": "🔎 Search arena", "image": "🖼️ Image arena", "music": "🎵 Music arena"}


def _start(page: Any, base: str, arena: str, prompt: str) -> None:
    page.goto(base, wait_until="load")
    page.locator("#prompt-text textarea").wait_for(timeout=60_000)
    wait_for_voter_id(page)
    page.get_by_role("tab", name=TABS[arena]).click()
    page.locator(f"#prompt-{arena} textarea").fill(prompt)
    page.locator(f"#send-{arena}").click()


def _vote_and_reveal(page: Any, arena: str) -> str:
    page.locator(f"#vote-model_b-{arena}:not([disabled])").wait_for(timeout=60_000)
    page.locator(f"#vote-model_b-{arena}").click()
    reveal = page.locator(f"#reveal-{arena}")
    try:
        expect(reveal).to_contain_text("Model A:", timeout=30_000)
    except AssertionError as exc:
        page.screenshot(path=str(Path(tempfile.gettempdir()) / f"arena-e2e-fail-{arena}.png"), full_page=True)
        raise AssertionError(f"no reveal; status: {page.locator(f'#status-{arena}').inner_text()!r}") from exc
    return str(reveal.inner_text())


def _choose(page: Any, dropdown: str, option: str) -> None:
    """Pick an option of a Gradio dropdown the way a person does: open it, click the option."""
    page.locator(f"{dropdown} input").click()
    page.get_by_role("option", name=option, exact=True).click()


def _board_votes(base: str, arena: str, category: str = "overall") -> int:
    response = httpx.get(f"{base}/api/leaderboard/{arena}", params={"category": category}, timeout=30)
    assert response.status_code == 200, response.text
    return int(response.json()["total_votes"])


def _vote_rows(data: Path, arena: str) -> list[tuple[str, str]]:
    with sqlite3.connect(data / "arena.db") as db:
        return db.execute("SELECT v.outcome, b.arena FROM votes v JOIN battles b ON b.id = v.battle_id "
                          "WHERE b.arena = ?", (arena,)).fetchall()


def test_search_battle_shows_citations(server: tuple[str, Path], browser: Any) -> None:
    base, data = server
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    _start(page, base, "search", "What causes the tides?")
    page.locator("#vote-model_b-search:not([disabled])").wait_for(timeout=60_000)
    for pane in ("#pane-a-search", "#pane-b-search"):
        expect(page.locator(pane)).to_contain_text("Sources")
        assert page.locator(f"{pane} a[href*='/corpus/wordnet/']").count() >= 1
    shown = _vote_and_reveal(page, "search")
    assert "searcher" in shown
    assert _vote_rows(data, "search") == [("model_b", "search")]
    assert _board_votes(base, "search") == 1  # its own board, counted
    link = page.locator("#pane-a-search a[href*='/corpus/wordnet/']").first.get_attribute("href")
    assert httpx.get(f"{base}{link}", timeout=10).status_code == 200
    page.close()


def test_image_battle_shows_two_images(server: tuple[str, Path], browser: Any) -> None:
    base, data = server
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    _start(page, base, "image", "A red house under a yellow sun")
    page.locator("#vote-model_b-image:not([disabled])").wait_for(timeout=60_000)
    page.wait_for_function("() => { const i = [...document.querySelectorAll('img[src^=\"/media/\"]')];"
                           " return i.length === 2 && i.every(x => x.complete && x.naturalWidth > 0); }",
                           timeout=20_000)
    srcs = page.eval_on_selector_all("img[src^='/media/']", "els => els.map(e => e.getAttribute('src'))")
    assert len(set(srcs)) == 2
    response = httpx.get(f"{base}{srcs[0]}", timeout=10)
    assert response.headers["content-type"] == "image/png"
    _vote_and_reveal(page, "image")
    assert _vote_rows(data, "image") == [("model_b", "image")]
    assert _board_votes(base, "image") == 1
    page.close()


def test_music_vote_needs_listening(server: tuple[str, Path], browser: Any) -> None:
    base, data = server
    page = browser.new_page(viewport={"width": 1400, "height": 1200})
    _start(page, base, "music", "A calm slow piano piece in a minor key, 6 seconds")
    page.locator("#audio-a").wait_for(timeout=60_000)
    page.locator("#audio-b").wait_for(timeout=60_000)
    assert page.locator("#vote-model_b-music").is_disabled()
    battle = page.locator("#audio-a").get_attribute("data-battle")
    voter = page.locator("#audio-a").get_attribute("data-voter")
    early = httpx.post(f"{base}/api/battles/{battle}/vote", json={"outcome": "model_b", "voter": voter}, timeout=10)
    assert early.status_code == 409 and "listen to both clips" in early.json()["error"]["message"]
    page.evaluate("() => { for (const a of document.querySelectorAll('audio')) { a.muted = true; a.play(); } }")
    _vote_and_reveal(page, "music")
    assert _vote_rows(data, "music") == [("model_b", "music")]
    with sqlite3.connect(data / "arena.db") as db:
        heard = db.execute("SELECT o.side, o.listened_s FROM outputs o JOIN turns t ON t.id = o.turn_id "
                           "WHERE t.battle_id = ? ORDER BY o.side", (battle,)).fetchall()
        events = db.execute("SELECT DISTINCT event FROM listening_events WHERE battle_id = ?", (battle,)).fetchall()
    assert all(seconds >= 5.0 for _side, seconds in heard)
    assert {"play", "progress"} <= {e for (e,) in events}
    page.locator("#feedback-overall-music textarea").fill("A was too slow for me")
    page.locator("#feedback-send-music").click()
    expect(page.locator("#status-music")).to_contain_text("feedback note", timeout=15_000)
    # A calm piano piece is instrumental: it counts on the music board and its instrumental board only.
    assert (_board_votes(base, "music"), _board_votes(base, "music", "instrumental")) == (1, 1)
    assert _board_votes(base, "music", "vocal") == 0
    page.get_by_role("tab", name="🏆 Leaderboard").click()
    _choose(page, "#board-arena", "music")
    expect(page.locator("#board-summary")).to_contain_text("1 counted votes", timeout=30_000)
    _choose(page, "#board-category", "instrumental")
    expect(page.locator("#board-category input")).to_have_value("instrumental", timeout=30_000)
    expect(page.locator("#board-summary")).to_contain_text("1 counted votes", timeout=30_000)
    expect(page.locator("#leaderboard-table")).to_contain_text("(local demo)", timeout=30_000)
    page.close()
