"""Leaderboard tab: per arena and category, the ranked table with confidence intervals."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pandas as pd

from arena.categories import OVERALL
from arena.errors import ArenaError
from arena.services.container import Services

COLUMNS = ["Rank (UB)", "Model", "Rating", "95% CI", "Votes", "Organization", "License"]


def board_frame(board: dict[str, Any]) -> pd.DataFrame:
    """The board's rows as the table the tab shows."""
    rows = [
        [r["rank_ub"], r["label"] + (" ⚠️ provisional" if r["provisional"] else ""), round(r["rating"], 1),
         f"+{r['ci_high'] - r['rating']:.1f} / -{r['rating'] - r['ci_low']:.1f}", r["votes"],
         r["organization"], r["license"]]
        for r in board["rows"]
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def build_leaderboard_tab(services: Services, tab: gr.Tab) -> None:
    """Lay out the leaderboard tab and wire its refresh."""
    with gr.Row():
        arena = gr.Dropdown(["text", "search", "image", "music"], value="text", label="Arena")
        category = gr.Dropdown([OVERALL], value=OVERALL, label="Category", allow_custom_value=True)
        refresh = gr.Button("↻ Refresh")
    summary = gr.Markdown("")
    table = gr.Dataframe(headers=COLUMNS, interactive=False, elem_id="leaderboard-table")

    def show(arena_name: str, category_name: str) -> tuple[str, pd.DataFrame]:
        try:
            board = services.leaderboard.board(arena_name, category_name or OVERALL)
        except ArenaError as exc:
            return f"⚠️ {exc.message}", pd.DataFrame(columns=COLUMNS)
        if not board["rows"]:
            return f"No counted votes yet in the **{arena_name}** arena ({category_name}). Go vote!", board_frame(board)
        return (
            f"**{board['total_votes']}** counted votes · Bradley-Terry, ties = half a win, "
            f"95% bootstrap CIs · components: {board['components']}",
            board_frame(board),
        )

    refresh.click(show, [arena, category], [summary, table])
    arena.change(show, [arena, category], [summary, table])
    category.change(show, [arena, category], [summary, table])
    tab.select(show, [arena, category], [summary, table])
