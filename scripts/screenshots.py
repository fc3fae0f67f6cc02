"""Start Arena on a scratch data folder, play one battle per modality in headless chromium, save PNGs.

Usage: python scripts/screenshots.py OUT_DIR [ARENA ...]   (refreshes docs/screenshots/; needs Debian's chromium)
Before the app starts, 360 votes between the built-in text models are written through the vote service, so the
leaderboard tab (leaderboard.png) has enough data for its intervals and heatmaps to mean something.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
PROMPTS = {
    "text": ("⚔️ Text arena", "What is photosynthesis?"),
    "search": ("🔎 Search arena", "What causes the tides?"),
    "image": ("🖼️ Image arena", "A red house under a yellow sun beside a green tree"),
    "music": ("🎵 Music arena", "A calm slow piano piece in a minor key, 6 seconds"),
}


def _battle(page: Page, arena: str, tab: str, prompt: str, out: Path) -> None:
    page.get_by_role("tab", name=tab).click()
    page.locator(f"#prompt-{arena} textarea").fill(prompt)
    page.locator(f"#send-{arena}").click()
    if arena == "music":
        page.locator("#audio-a").wait_for(timeout=60_000)
        page.locator("#audio-b").wait_for(timeout=60_000)
        page.evaluate("() => { for (const a of document.querySelectorAll('audio')) { a.muted = true; a.play(); } }")
    page.locator(f"#vote-model_a-{arena}:not([disabled])").wait_for(timeout=60_000)
    page.locator(f"#vote-model_a-{arena}").click()
    page.locator(f"#reveal-{arena}").wait_for(state="visible", timeout=30_000)
    page.wait_for_function("() => [...document.querySelectorAll('img')].every(i => i.complete && i.naturalWidth > 0)",
                           timeout=15_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(out / f"{arena}-battle.png"), full_page=True)


def _seed_votes(data: Path, votes: int) -> None:
    """READY text battles between the built-in models, voted through VoteService (strengths differ by model)."""
    import asyncio
    import uuid
    from datetime import timedelta

    import numpy as np

    from arena.config import Settings
    from arena.db import repo
    from arena.db.engine import write_session
    from arena.db.schema import Battle, Output, utcnow
    from arena.services.container import build_services

    services = build_services(Settings(data_dir=data, include_builtin_models=True))
    rng = np.random.default_rng(2026)
    names = [m.name for m in services.catalog.for_modality("text")]
    strength = {name: 0.5 * i for i, name in enumerate(names)}
    try:
        for k in range(votes):
            a, b = (names[int(i)] for i in rng.choice(len(names), size=2, replace=False))
            voter = f"screenshot-voter-{k % 40:04d}"
            with write_session(services.sessions) as session:
                repo.ensure_voter(session, voter)
                battle = Battle(id=uuid.uuid4().hex, arena="text", mode="anonymous", voter_id=voter,
                                model_a_id=services.models.model_id(a), model_b_id=services.models.model_id(b),
                                pair_probability=1 / 3, status="ready", ready_at=utcnow() - timedelta(minutes=2))
                turn = repo.insert_battle(session, battle, f"Tell me something about topic {k}")
                repo.save_outputs(session, [Output(turn_id=turn.id, side=side, model_id=model, text="an answer",
                                                   finish_reason="stop")
                                            for side, model in (("a", battle.model_a_id), ("b", battle.model_b_id))])
            p_a = 1 / (1 + np.exp(strength[b] - strength[a]))
            draw = rng.random()
            outcome = "tie" if draw < 0.15 else "model_a" if draw < 0.15 + 0.85 * p_a else "model_b"
            services.votes.vote(battle.id, outcome, voter)
    finally:
        asyncio.run(services.aclose())


def _leaderboard(page: Page, out: Path) -> None:
    page.get_by_role("tab", name="🏆 Leaderboard").click()
    page.locator("#leaderboard-table").wait_for(timeout=60_000)
    page.get_by_role("button", name="↻ Refresh").click()
    page.wait_for_timeout(4000)
    page.screenshot(path=str(out / "leaderboard.png"), full_page=True)


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    data = Path(tempfile.mkdtemp(prefix="arena-shots-"))
    _seed_votes(data, 360)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "ARENA_PORT": str(port), "ARENA_DATA_DIR": str(data), "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=data, env=env,
                            stdout=(data / "log").open("w"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            if os.environ.get("ARENA_SHOTS_DEBUG"):
                page.on("requestfailed", lambda r: sys.stderr.write(f"failed {r.url} {r.failure}\n"))
                page.on("response",
                        lambda r: sys.stderr.write(f"resp {r.status} {r.url}\n") if "/media/" in r.url else None)
            page.goto(base, wait_until="load")
            page.locator("#prompt-text textarea").wait_for(timeout=60_000)
            arenas = sys.argv[2:] or list(PROMPTS)
            for arena in arenas:
                tab, prompt = PROMPTS[arena]
                _battle(page, arena, tab, prompt, out)
            _leaderboard(page, out)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
