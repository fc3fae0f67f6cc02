"""The Gradio Blocks: battle tabs per modality, side-by-side, leaderboard and about tabs."""

from __future__ import annotations

from typing import Any

import gradio as gr

from arena.domain import Modality
from arena.services.container import Services
from arena.ui.battle_tab import build_battle_tab, has_voter_id
from arena.ui.data_tab import build_data_tab
from arena.ui.leaderboard_tab import build_leaderboard_tab

CSS = """
.gradio-container {max-width: 1400px !important}
#reveal-text, [id^=reveal-] {border: 2px solid var(--color-accent); border-radius: 8px; padding: 8px 14px}
#releases-table th, #releases-table td {word-break: normal; overflow-wrap: normal}
#releases-table td:nth-child(1), #releases-table td:nth-child(2) {white-space: nowrap}
"""

ABOUT = """
## About Arena
Arena is an open platform for live human-preference evaluation of generative models. Two anonymous models
answer your prompt; you vote; only then are their names revealed. Votes feed a Bradley-Terry leaderboard
with bootstrap confidence intervals.

* Your voter id is a random string kept in this browser (never your IP address).
* The built-in models are small **local demo models** that run offline; real providers are configured in
  `arena.toml`.
* Side-by-side votes (where you pick the models) never count in the leaderboard.
"""

def build_theme() -> gr.themes.Base:
    """Gradio's default theme, with bold text drawn from the complete Bold font file.

    The SemiBold file of Source Sans Pro that gradio ships is a subset without some capitals, so a bold
    "A" fell back to another font ("Arena", "Accept the data terms"); CSS matches weight 600 to the 700 face.
    """
    font: list[gr.themes.Font | str] = [gr.themes.LocalFont("Source Sans Pro", weights=(400, 700)), "ui-sans-serif",
                                        "system-ui", "sans-serif"]
    return gr.themes.Default(font=font)


TAB_TITLES = {Modality.TEXT: "⚔️ Text arena", Modality.SEARCH: "🔎 Search arena",
              Modality.IMAGE: "🖼️ Image arena", Modality.MUSIC: "🎵 Music arena"}


def build_ui(services: Services) -> gr.Blocks:
    """Build the Blocks for one Services graph (per-user state lives in gr.State / gr.BrowserState)."""
    with gr.Blocks(title="Arena") as demo:
        voter = gr.BrowserState(None, storage_key="arena_voter_id")
        gr.Markdown("# ⚔️ Arena — which answer is better?")
        with gr.Tabs():
            for modality in Modality:
                if len(services.catalog.for_modality(modality)) < 2:
                    continue
                with gr.Tab(TAB_TITLES[modality], id=f"tab-{modality.value}"):
                    build_battle_tab(services, modality, named=False, voter=voter)
            with gr.Tab("🆚 Side-by-side", id="tab-named"):
                build_battle_tab(services, Modality.TEXT, named=True, voter=voter)
            with gr.Tab("🏆 Leaderboard", id="tab-leaderboard") as board_tab:
                build_leaderboard_tab(services, board_tab, voter)
            with gr.Tab("📦 Data", id="tab-data"):
                build_data_tab(services.releases, services.voters, voter)
            with gr.Tab("ℹ️ About", id="tab-about"):
                gr.Markdown(ABOUT)

        def ensure_voter(current: Any) -> str:
            return current if has_voter_id(current) else services.new_voter_id()

        demo.load(ensure_voter, voter, voter, queue=False)
    return demo
