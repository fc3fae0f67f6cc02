"""Data tab: published releases (window, size, counts, policy, downloads), data terms, withdrawal and deletion."""

from __future__ import annotations

from typing import Any

import gradio as gr

from arena.errors import ArenaError
from arena.services.releases import ReleaseService
from arena.services.voters import VoterService

INTRO = """
## Open data releases
Arena publishes its battles on a schedule for research: prompts, both answers, votes and feedback, with
personal data (e-mails, phone numbers, cards, IP addresses, keys, ids, names) replaced by placeholders,
battles that cannot be scrubbed left out, and voters shown only as a pseudonym that changes with every
release. Only voters who accepted the data terms are included. Every release lists how many battles it
left out and why, and its leaderboard can be rebuilt from its files.
"""


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


def _moment(iso: str) -> str:
    """An ISO 8601 UTC time as "2026-03-02 09:00"."""
    return iso[:16].replace("T", " ")


def releases_markdown(releases: list[dict[str, Any]]) -> str:
    """The releases table (with download links) as Markdown."""
    if not releases:
        return "_No release has been published yet._"
    lines = ["| release | window (UTC) | battles | left out | size | policy | download |",
             "|---|---|---|---|---|---|---|"]
    for r in releases:
        left_out = ", ".join(f"{k} {v}" for k, v in sorted(r["excluded"].items())) or "none"
        policy = r["policy"]
        links = " · ".join(f"[{f['path']}]({f['url']})" for f in r["files"])
        lines.append(
            f"| {r['name']} | {_moment(r['window_start'])} → {_moment(r['window_end'])} | {r['rows']} | {left_out} | "
            f"{_size(int(r['bytes']))} | embargo {policy.get('embargo_days', 0):g} d, k = "
            f"{policy.get('k_anonymity', '?')}, {r['pipeline_version']} | {links} |"
        )
    return "\n".join(lines)


def build_data_tab(releases: ReleaseService, voters: VoterService, voter_browser_state: Any) -> None:
    """Lay out the data tab inside the current Blocks context and wire its handlers."""
    terms_version = voters.settings.release.terms_version
    gr.Markdown(INTRO)
    table = gr.Markdown(lambda: releases_markdown(releases.list_releases()), elem_id="releases-table")
    with gr.Row():
        refresh = gr.Button("↻ Refresh releases", size="sm", scale=0, min_width=180)
    refresh.click(lambda: releases_markdown(releases.list_releases()), None, table)

    gr.Markdown(f"### Data terms (version {terms_version})")
    agree = gr.Checkbox(label=f"I agree that my prompts, the answers and my votes may be published in scrubbed, "
                              f"pseudonymous data releases (terms version {terms_version}).", value=False)
    accept = gr.Button("Accept the data terms", elem_id="accept-terms")
    token_box = gr.Textbox(label="Your withdrawal token: shown once, copy it now", interactive=False, visible=False,
                           elem_id="withdraw-token")
    terms_status = gr.Markdown("")

    def on_accept(agreed: bool, voter: str | None) -> tuple[dict[str, Any], str]:
        if not agreed:
            return gr.update(visible=False, value=""), "Tick the box first to accept the data terms."
        try:
            accepted = voters.accept_terms(voter or "")
        except ArenaError as exc:
            return gr.update(visible=False, value=""), f"⚠️ {exc.message}"
        replaced = " It replaces the token you were given before, which no longer works." if accepted.replaced else ""
        return gr.update(visible=True, value=accepted.token), (
            "✅ Thank you. Keep the token above: with it you can withdraw from future releases or have your "
            f"content deleted. It will not be shown again.{replaced}")

    accept.click(on_accept, [agree, voter_browser_state], [token_box, terms_status])

    gr.Markdown("### Withdraw or delete")
    token_in = gr.Textbox(label="Withdrawal token", placeholder="wd_…", type="password", elem_id="token-input")
    with gr.Row():
        withdraw = gr.Button("Withdraw from future releases", elem_id="withdraw")
        delete = gr.Button("Delete my prompts and feedback", variant="stop", elem_id="delete")
    outcome = gr.Markdown("")

    def on_withdraw(token: str) -> str:
        try:
            voters.withdraw(token)
        except ArenaError as exc:
            return f"⚠️ {exc.message}"
        return "✅ You are withdrawn: none of your battles will appear in any release built from now on."

    def on_delete(token: str) -> str:
        try:
            result = voters.request_deletion(token)
        except ArenaError as exc:
            return f"⚠️ {exc.message}"
        erased = result["erased"]
        return (f"✅ Deleted: {erased['prompts']} prompts, {erased['outputs']} answers, {erased['feedback']} "
                "feedback texts. You are also withdrawn from every future release.")

    withdraw.click(on_withdraw, token_in, outcome)
    delete.click(on_delete, token_in, outcome)
