"""Real browser, the data tab: accept the terms (token shown once, replaced on a second acceptance), withdraw
with the token, and a release built by `arena release build` listed with working download links."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.pages import wait_for_voter_id

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def _open_data_tab(page: Any, base: str) -> None:
    page.goto(base, wait_until="load")
    page.locator("#prompt-text textarea").wait_for(timeout=60_000)
    wait_for_voter_id(page)
    page.get_by_role("tab", name="📦 Data").click()
    page.locator("#accept-terms").wait_for(timeout=30_000)


def _build_release(data: Path) -> str:
    """`arena release build` on the server's database, with `--until` past the embargo of today's votes."""
    until = (datetime.now(UTC) + timedelta(days=9)).strftime("%Y-%m-%d")
    env = {**os.environ, "ARENA_DATA_DIR": str(data), "PYTHONPATH": str(ROOT)}
    env.pop("ARENA_CONFIG", None)
    env.pop("ARENA_DATABASE_URL", None)
    done = subprocess.run([sys.executable, "-c", "import sys; from arena.cli import main; sys.exit(main())",
                           "release", "build", "--until", until], cwd=data, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_terms_token_replacement_and_withdrawal(server: tuple[str, Path], browser: Any) -> None:
    base, _data = server
    page = browser.new_page(viewport={"width": 1400, "height": 1300})
    _open_data_tab(page, base)
    page.locator("#accept-terms").click()
    expect(page.get_by_text("Tick the box first")).to_be_visible(timeout=15_000)
    page.get_by_label("I agree that my prompts").check()
    page.locator("#accept-terms").click()
    token_box = page.locator("#withdraw-token textarea, #withdraw-token input").first
    expect(token_box).to_have_value(re.compile(r"^wd_"), timeout=15_000)
    first = token_box.input_value()
    page.locator("#accept-terms").click()  # a second acceptance: a new token, and the page says so
    expect(page.get_by_text("replaces the token you were given before")).to_be_visible(timeout=15_000)
    expect(token_box).not_to_have_value(first, timeout=15_000)
    second = token_box.input_value()
    assert second.startswith("wd_")
    page.locator("#token-input input, #token-input textarea").first.fill(first)
    page.locator("#withdraw").click()
    expect(page.get_by_text("only the token shown last works")).to_be_visible(timeout=15_000)
    page.locator("#token-input input, #token-input textarea").first.fill(second)
    page.locator("#withdraw").click()
    expect(page.get_by_text("You are withdrawn")).to_be_visible(timeout=15_000)
    page.close()


def test_a_built_release_is_listed_with_working_links(server: tuple[str, Path], browser: Any,
                                                      tmp_path: Path) -> None:
    base, data = server
    voter = "e2e-data-voter-01"
    with httpx.Client(base_url=base, timeout=60) as client:
        assert client.post("/api/voters/terms", json={"voter": voter}).status_code == 200
        for prompt in ("What is a comet?", "Name three rivers."):
            battle = client.post("/api/battles", json={"arena": "text", "prompt": prompt, "voter": voter})
            assert battle.status_code == 200, battle.text
            vote = client.post(f"/api/battles/{battle.json()['battle_id']}/vote",
                               json={"outcome": "model_a", "voter": voter})
            assert vote.status_code == 200, vote.text
    _build_release(data)
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    _open_data_tab(page, base)
    table = page.locator("#releases-table")
    expect(table.locator("a", has_text="battles.parquet")).to_be_visible(timeout=15_000)
    href = table.locator("a", has_text="battles.parquet").get_attribute("href")
    assert href and href.startswith("/releases/arena-")
    parquet = httpx.get(base + href, timeout=30)
    assert parquet.status_code == 200 and parquet.content[:4] == b"PAR1"
    assert httpx.get(base + href.replace("battles.parquet", "SHA256SUMS"), timeout=30).status_code == 200
    shots = Path(os.environ.get("ARENA_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "data-tab.png"), full_page=True)
    page.close()
