"""Start Arena on a scratch data folder, play one battle per modality in headless chromium, save PNGs.

Usage: python scripts/screenshots.py OUT_DIR   (used to refresh docs/screenshots/; needs Debian's chromium)
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


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    data = Path(tempfile.mkdtemp(prefix="arena-shots-"))
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
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
