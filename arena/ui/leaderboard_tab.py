"""Leaderboard tab: per arena, category and method, the ranked table, CI plot, heatmaps, downloads, personal board."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd
import plotly.graph_objects as go

from arena.categories import OVERALL
from arena.errors import ArenaError
from arena.services.container import Services
from arena.services.leaderboard import PERSONAL_MIN_VOTES

COLUMNS = ["Rank (UB)", "Model", "Rating", "95% CI", "Votes", "Organization", "License"]
STYLE_COLUMNS = ["Rank (UB)", "Model", "Style-controlled", "Raw", "95% CI", "Votes", "Organization", "License"]
METHOD_LABELS = {"Raw Bradley-Terry": "bt", "Style-controlled": "style"}


def _label(row: dict[str, Any]) -> str:
    flags = [" ⚠️ provisional" if row.get("provisional") else "", " 📌 reference (fixed)" if row.get("fixed") else ""]
    return row["label"] + "".join(flags)


def board_frame(board: dict[str, Any]) -> pd.DataFrame:
    """The board's rows as the table the tab shows."""
    if board["method"] == "style":
        rows = [[r["rank_ub"], _label(r), round(r["rating"], 1), round(r["raw_rating"], 1),
                 f"+{r['ci_high'] - r['rating']:.1f} / -{r['rating'] - r['ci_low']:.1f}", r["votes"],
                 r["organization"], r["license"]] for r in board["rows"]]
        return pd.DataFrame(rows, columns=STYLE_COLUMNS)
    rows = [[r["rank_ub"], _label(r), round(r["rating"], 1),
             f"+{r['ci_high'] - r['rating']:.1f} / -{r['rating'] - r['ci_low']:.1f}", r["votes"],
             r["organization"], r["license"]] for r in board["rows"]]
    return pd.DataFrame(rows, columns=COLUMNS)


def ci_figure(board: dict[str, Any]) -> go.Figure:
    """Ratings with their 95% intervals, best at the top."""
    rows = sorted(board["rows"], key=lambda r: r["rating"])
    fig = go.Figure(go.Scatter(
        x=[r["rating"] for r in rows], y=[r["label"] for r in rows], mode="markers",
        marker={"size": 10, "color": "#ea580c"},
        error_x={"type": "data", "symmetric": False, "array": [r["ci_high"] - r["rating"] for r in rows],
                 "arrayminus": [r["rating"] - r["ci_low"] for r in rows]},
    ))
    fig.update_layout(title="Rating with 95% confidence interval", xaxis_title="rating", height=140 + 36 * len(rows),
                      margin={"l": 10, "r": 10, "t": 50, "b": 40})
    return fig


def heatmap(board: dict[str, Any], key: str, title: str) -> go.Figure:
    """Win fraction (row beats column) or battle counts between models, ordered by rating."""
    names = board.get("models", [])
    matrix = board.get(key, [])
    if not names or not matrix:
        return go.Figure().update_layout(title=f"{title}: no data yet", height=200)
    shown = [r for r in board["rows"] if r["model"] in names]
    order = [names.index(r["model"]) for r in shown]
    labels = [r.get("label") or r["model"] for r in shown]  # the names the table shows
    values = [[matrix[i][j] if i != j else None for j in order] for i in order]
    fmt = "{:.2f}" if key == "win_fraction" else "{:d}"
    text = [[fmt.format(v) if v is not None else "" for v in row] for row in values]
    fig = go.Figure(go.Heatmap(z=values, x=labels, y=labels, colorscale="RdBu" if key == "win_fraction" else "Blues",
                               zmid=0.5 if key == "win_fraction" else None, text=text, texttemplate="%{text}"))
    fig.update_layout(title=title, yaxis={"autorange": "reversed"}, height=180 + 40 * len(labels),
                      margin={"l": 10, "r": 10, "t": 50, "b": 10})
    return fig


def _downloads(board: dict[str, Any], frame: pd.DataFrame) -> list[str]:
    folder = Path(tempfile.mkdtemp(prefix="arena-board-"))
    stem = f"leaderboard-{board['arena']}-{board['category'].replace(':', '_')}-{board['method']}"
    csv_path, json_path = folder / f"{stem}.csv", folder / f"{stem}.json"
    pd.DataFrame(board["rows"]).to_csv(csv_path, index=False)
    json_path.write_text(json.dumps(board, indent=2, sort_keys=True))
    return [str(csv_path), str(json_path)]


def build_leaderboard_tab(services: Services, tab: gr.Tab, voter: Any) -> None:
    """Lay out the leaderboard tab and wire its refresh."""
    with gr.Row():
        arena = gr.Dropdown(["text", "search", "image", "music"], value="text", label="Arena", elem_id="board-arena")
        category = gr.Dropdown([OVERALL], value=OVERALL, label="Category", allow_custom_value=True,
                               elem_id="board-category")
        method = gr.Radio(list(METHOD_LABELS), value="Raw Bradley-Terry", label="Method")
        refresh = gr.Button("↻ Refresh", scale=0)
    summary = gr.Markdown("", elem_id="board-summary")
    table = gr.Dataframe(headers=COLUMNS, interactive=False, elem_id="leaderboard-table")
    ci_plot = gr.Plot(label="Confidence intervals")
    with gr.Row():
        wins = gr.Plot(label="Win fraction")
        battles = gr.Plot(label="Battle counts")
    files = gr.File(label="Download (CSV, JSON)", file_count="multiple", interactive=False)
    with gr.Accordion(f"Your personal board (once you have cast {PERSONAL_MIN_VOTES} votes)", open=False):
        personal_btn = gr.Button("Show my board")
        personal = gr.Dataframe(headers=["Rank (UB)", "Model", "Rating", "Votes"], interactive=False)
        personal_note = gr.Markdown("")

    def show(arena_name: str, category_name: str, method_label: str) -> tuple[Any, ...]:
        method_key = METHOD_LABELS.get(method_label, "bt")
        try:
            board = services.leaderboard.board(arena_name, category_name or OVERALL, method_key)
            cats = services.leaderboard.categories(arena_name)
        except ArenaError as exc:
            return (f"⚠️ {exc.message}", pd.DataFrame(columns=COLUMNS), None, None, None, None, gr.skip())
        frame = board_frame(board)
        note = (f"**{board['total_votes']}** counted votes · ties = half a win · "
                + ("95% bootstrap CIs" if method_key == "bt" else "style control (contextual BT), sandwich CIs")
                + (f" · ⚠️ {board['components']} disconnected groups: ranks compare within a group only"
                   if board.get("components", 1) > 1 else ""))
        if not board["rows"]:
            note = f"No counted votes yet in the **{arena_name}** arena ({category_name}). Go vote!"
        dropdown = gr.update(choices=cats, value=category_name if category_name in cats else OVERALL)
        return (note, frame, ci_figure(board), heatmap(board, "win_fraction", "Win fraction (row beats column)"),
                heatmap(board, "battle_count", "Battles between models"), _downloads(board, frame), dropdown)

    def show_personal(voter_id: str, arena_name: str) -> tuple[pd.DataFrame, str]:
        board = services.leaderboard.personal(voter_id or "", arena_name)
        if not board["rows"]:
            return pd.DataFrame(), (f"You have {board['voter_votes']} counted votes here; your own board appears "
                                    f"from {board['needed']}.")
        rows = [[r["rank_ub"], r["label"], round(r["rating"], 1), r["votes"]] for r in board["rows"]]
        return pd.DataFrame(rows, columns=["Rank (UB)", "Model", "Rating", "Votes"]), "Your votes alone imply:"

    outputs = [summary, table, ci_plot, wins, battles, files, category]
    for trigger in (refresh.click, arena.change, category.change, method.change, tab.select):
        trigger(show, [arena, category, method], outputs)
    personal_btn.click(show_personal, [voter, arena], [personal, personal_note])
