"""Pure mapping from service views to what the Gradio components show (no Gradio, no I/O)."""

from __future__ import annotations

import html
from typing import Any

from arena.services.views import Reveal, SideView, TurnView

VOTE_LABELS = {
    "model_a": "👈 A is better",
    "model_b": "👉 B is better",
    "tie": "🤝 Tie",
    "tie_bothbad": "👎 Both are bad",
}


def side_markdown(side: SideView, *, streaming: bool) -> str:
    """One side's answer as Markdown: text, numbered sources, and a clear message on failure."""
    parts: list[str] = []
    if side.searches:
        queries = ", ".join(f"“{html.escape(q)}”" for q in side.searches)
        parts.append(f"<small>🔎 searched {queries}</small>\n")
    parts.append(side.text if side.text else ("…" if streaming and not side.done else ""))
    if side.citations:
        sources = "\n".join(
            f"{i}. [{html.escape(c.title or c.url)}]({c.url})"
            + (f" — {html.escape(c.snippet[:160])}" if c.snippet else "")
            for i, c in enumerate(side.citations, start=1)
        )
        parts.append(f"\n\n**Sources**\n\n{sources}")
    if side.error_code:
        parts.append(f"\n\n⚠️ **This model failed** ({side.error_code}): {html.escape(side.error or '')}")
    return "".join(parts)


def chat_history(
    previous: list[dict[str, Any]], prompt: str, side: SideView, *, streaming: bool
) -> list[dict[str, Any]]:
    """Chatbot messages: earlier turns plus this turn's prompt and (partial) answer."""
    return [*previous, {"role": "user", "content": prompt},
            {"role": "assistant", "content": side_markdown(side, streaming=streaming)}]


def status_line(view: TurnView) -> str:
    """A one-line status under the panes."""
    if view.status.value == "generating":
        return "⏳ Both models are answering…"
    if view.votable:
        return "✅ Both answers are in. Which is better? Vote below — the names are revealed after your vote."
    failed = [name for name, side in (("A", view.a), ("B", view.b)) if side.error_code]
    if failed:
        return (f"⚠️ Model {' and '.join(failed)} failed, so this battle cannot be voted on. "
                "Press **New round** (or **Regenerate** for a new pair).")
    return ""


def reveal_markdown(reveal: Reveal) -> str:
    """The reveal banner after a vote."""
    verdict = VOTE_LABELS.get(reveal.outcome, reveal.outcome)
    note = "" if reveal.counted else (
        " (not counted in the anonymous leaderboard"
        + (f": {', '.join(reveal.flags)}" if reveal.flags else ": side-by-side mode") + ")"
    )
    return (
        f"### Model A: **{html.escape(reveal.model_a_label)}** · Model B: **{html.escape(reveal.model_b_label)}**\n"
        f"Your vote: {verdict}{note}. Thanks! Press **New round** to battle again."
    )


def _failure_html(side: SideView) -> str:
    message = html.escape(side.error or "")
    return f"<div class='pane-msg'>⚠️ <b>This model failed</b> ({side.error_code}): {message}</div>"


def image_html(side: SideView, *, streaming: bool) -> str:
    """One image pane: the picture, or a wait/failure message."""
    if side.error_code:
        return _failure_html(side)
    if side.media_url:
        w, h = side.media_meta.get("width", ""), side.media_meta.get("height", "")
        size = f"<small>{w}×{h}</small>" if w and h else ""
        return f"<div class='pane-media'><img src='{side.media_url}' alt='generated image' " \
               f"style='max-width:100%;border-radius:8px'/>{size}</div>"
    return "<div class='pane-msg'>⏳ drawing…</div>" if streaming else ""


def audio_html(side: SideView, *, streaming: bool, battle_id: str, side_key: str, voter: str) -> str:
    """One music pane: an audio player whose play/pause/seek/progress/end events are reported to the server."""
    if side.error_code:
        return _failure_html(side)
    if side.media_url:
        duration = side.media_meta.get("duration_s")
        info = f"<small>{float(duration):.1f} s</small>" if duration else ""
        return (f"<div class='pane-media'><audio controls preload='auto' src='{side.media_url}' "
                f"data-battle='{html.escape(battle_id)}' data-side='{side_key}' data-voter='{html.escape(voter)}' "
                f"id='audio-{side_key}' style='width:100%'></audio>{info}</div>")
    return "<div class='pane-msg'>⏳ composing…</div>" if streaming else ""


# Reports music listening to the server (media events do not bubble, so listen in the capture phase).
LISTEN_JS = """
() => {
  const last = new WeakMap();
  const send = (audio, event) => {
    const battle = audio.dataset.battle, side = audio.dataset.side, voter = audio.dataset.voter;
    if (!battle || !side) return;
    fetch(`/api/battles/${battle}/listen`, {method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({voter: voter, side: side, event: event, position_s: audio.currentTime || 0})});
  };
  const on = (type, event) => document.addEventListener(type, (e) => {
    const a = e.target;
    if (!(a instanceof HTMLAudioElement) || !a.dataset.battle) return;
    if (event === 'progress') {
      const now = Date.now();
      if (now - (last.get(a) || 0) < 1000) return;
      last.set(a, now);
    }
    send(a, event);
  }, true);
  on('play', 'play'); on('pause', 'pause'); on('seeked', 'seek'); on('timeupdate', 'progress'); on('ended', 'ended');
}
"""
