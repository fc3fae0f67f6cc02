"""Data tab: the releases table with links, terms acceptance showing the token once, withdraw and delete."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import gradio as gr

from arena.services.releases import ReleaseService
from arena.services.voters import VoterService
from arena.ui.data_tab import build_data_tab, releases_markdown
from tests.services.release_seed import T0, Seed, insert, spread, voter_id


def _tab(services: Any) -> tuple[gr.Blocks, dict[str, Any], ReleaseService, VoterService]:
    releases = ReleaseService(services.sessions, services.settings, services.catalog, services.media)
    voters = VoterService(services.sessions, services.settings)
    with gr.Blocks() as demo:
        voter = gr.BrowserState(None)
        build_data_tab(releases, voters, voter)
    handlers = {f.fn.__name__: f.fn for f in demo.fns.values() if f.fn is not None}
    return demo, handlers, releases, voters


def test_releases_table_lists_window_counts_policy_and_links(make_services: Any) -> None:
    services = make_services()
    insert(services, spread([Seed(voter=voter_id(i % 5)) for i in range(6)]))
    _demo, _handlers, releases, _voters = _tab(services)
    assert releases_markdown([]) == "_No release has been published yet._"
    summary = releases.build(until=T0 + timedelta(days=30))
    table = releases_markdown(releases.list_releases())
    for needle in (summary["name"], "2026-03-02 09:00 → 2026-03-25 09:00", "| 6 |", "embargo 7 d, k = 5",
                   f"[battles.parquet](/releases/{summary['name']}/battles.parquet)", "(/releases/", "SHA256SUMS"):
        assert needle in table


def test_accept_withdraw_delete_handlers(make_services: Any) -> None:
    services = make_services()
    _demo, handlers, _releases, voters = _tab(services)
    box, message = handlers["on_accept"](False, voter_id(1))
    assert box["visible"] is False and "Tick the box" in message
    box, message = handlers["on_accept"](True, voter_id(1))
    token = box["value"]
    assert box["visible"] is True and token.startswith("wd_") and "not be shown again" in message
    assert voters.status(voter_id(1))["terms_version"] == services.settings.release.terms_version
    assert "replaces" not in message
    box, message = handlers["on_accept"](True, voter_id(1))  # accepting twice: a new token, and it says so
    assert "replaces the token you were given before" in message and box["value"] != token
    assert "only the token shown last" in handlers["on_withdraw"](token)
    token = box["value"]
    assert "⚠️" in handlers["on_withdraw"]("wd_" + "0" * 30)
    assert "withdrawn" in handlers["on_withdraw"](token)
    assert "Deleted: 0 prompts" in handlers["on_delete"](token)
    _box, message = handlers["on_accept"](True, voter_id(1))
    assert "⚠️" in message and "withdrawn" in message
    _box, message = handlers["on_accept"](True, None)
    assert "⚠️" in message
