"""One battle tab builder, parameterised by modality and mode (anonymous or named side-by-side)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import gradio as gr

from arena.domain import Modality
from arena.errors import ArenaError
from arena.services.container import Services
from arena.services.views import SideView, TurnView
from arena.ui import present

CHAT_MODALITIES = (Modality.TEXT, Modality.SEARCH)
INTRO = {
    Modality.TEXT: "Ask anything. Two anonymous models answer side by side; vote, then see who they were.",
    Modality.SEARCH: "Ask a factual question. Two anonymous search-augmented models answer with numbered sources.",
    Modality.IMAGE: "Describe a picture. Two anonymous image models draw it side by side.",
    Modality.MUSIC: "Describe some music (mention vocals or lyrics for a song). Listen to both clips — "
                    "voting opens after each has played for a few seconds.",
}


@dataclass(frozen=True)
class BattleState:
    """Per-session UI state: ids only (Gradio deep-copies State; no clients or sessions here)."""

    battle_id: str | None = None
    turn: int = 0
    locked: bool = False
    votable: bool = False  # the last turn finished cleanly; the buttons open once its event has fully completed


@dataclass
class _Parts:
    modality: Modality
    state: Any
    voter: Any
    prompt: Any
    send: Any
    pane_a: Any
    pane_b: Any
    status: Any
    reveal: Any
    votes: list[Any]
    new_round: Any
    regenerate: Any
    pick_a: Any
    pick_b: Any
    timer: Any
    feedback: Any
    feedback_boxes: list[Any]
    feedback_send: Any

    @property
    def chat(self) -> bool:
        return self.modality in CHAT_MODALITIES


def _outputs(p: _Parts) -> list[Any]:
    return [p.pane_a, p.pane_b, p.status, p.reveal, *p.votes, p.prompt, p.send, p.regenerate, p.state, p.timer,
            p.feedback]


def _frame(p: _Parts, a: Any, b: Any, status: str, *, votable: bool, busy: bool, state: BattleState,
           reveal: str | None = None, clear_prompt: bool = False, listen: bool = False) -> dict[Any, Any]:
    frame: dict[Any, Any] = {
        p.pane_a: a,
        p.pane_b: b,
        p.status: status,
        p.reveal: gr.update(value=reveal or "", visible=bool(reveal)),
        p.send: gr.update(interactive=not busy and not state.locked),
        p.regenerate: gr.update(interactive=not busy and state.battle_id is not None and not state.locked),
        p.state: state,
        p.timer: gr.Timer(active=listen),
        p.feedback: gr.update(visible=state.locked and p.modality == Modality.MUSIC),
    }
    for button in p.votes:
        frame[button] = gr.update(interactive=votable)
    placeholder = ("Press New round to start another battle" if state.locked
                   else "Type your prompt and press Enter" if state.battle_id is None
                   else "Ask a follow-up question" if p.chat else "Press New round for another prompt")
    prompt_update: dict[str, Any] = {"interactive": not state.locked, "placeholder": placeholder}
    if clear_prompt:
        prompt_update["value"] = ""
    frame[p.prompt] = gr.update(**prompt_update)
    return frame


def _pane(modality: Modality, label: str, elem_id: str) -> Any:
    if modality in CHAT_MODALITIES:
        return gr.Chatbot(label=label, height=440, buttons=["copy"], elem_id=elem_id)
    with gr.Group():
        gr.Markdown(f"**{label}**", elem_id=f"{elem_id}-label")
        return gr.HTML("", elem_id=elem_id, min_height=120 if modality == Modality.MUSIC else 300)


def build_battle_tab(services: Services, modality: Modality, *, named: bool, voter: Any) -> None:
    """Lay out one battle tab inside the current Blocks context and wire its events."""
    sfx = f"{modality.value}{'-named' if named else ''}"
    gr.Markdown("### Side-by-side (you pick the models)\nSide-by-side votes never count in the leaderboard."
                 if named else f"### Anonymous battle\n{INTRO[modality]}")
    pick_a: Any = gr.State(None)
    pick_b: Any = gr.State(None)
    if named:
        names = [m.name for m in services.catalog.for_modality(modality)]
        with gr.Row():
            pick_a = gr.Dropdown(names, value=names[0] if names else None, label="Model A")
            pick_b = gr.Dropdown(names, value=names[1] if len(names) > 1 else None, label="Model B")
    with gr.Row(equal_height=True):
        pane_a = _pane(modality, "Model A", f"pane-a-{sfx}")
        pane_b = _pane(modality, "Model B", f"pane-b-{sfx}")
    status = gr.Markdown("", elem_id=f"status-{sfx}")
    reveal = gr.Markdown("", visible=False, elem_id=f"reveal-{sfx}")
    with gr.Row():
        votes = [gr.Button(label, interactive=False, elem_id=f"vote-{key}-{sfx}")
                 for key, label in present.VOTE_LABELS.items()]
    with gr.Accordion("Tell us why (optional)", open=True, visible=False) as feedback:
        with gr.Row():
            boxes = [gr.Textbox(label=label, lines=2, max_length=2000, elem_id=f"feedback-{key}-{sfx}")
                     for key, label in (("a", "About A"), ("b", "About B"), ("overall", "Overall"))]
        feedback_send = gr.Button("Send feedback", elem_id=f"feedback-send-{sfx}")
    with gr.Row():
        prompt = gr.Textbox(show_label=False, placeholder="Type your prompt and press Enter", scale=8,
                            elem_id=f"prompt-{sfx}", max_lines=8)
        send = gr.Button("Send", variant="primary", scale=1, elem_id=f"send-{sfx}")
    with gr.Row():
        dice = gr.Button("🎲 Random prompt", elem_id=f"random-{sfx}")
        new_round = gr.Button("🆕 New round", elem_id=f"new-{sfx}")
        regenerate = gr.Button("🔄 Regenerate", interactive=False, elem_id=f"regen-{sfx}")
    timer = gr.Timer(1.0, active=False)
    parts = _Parts(modality, gr.State(BattleState()), voter, prompt, send, pane_a, pane_b, status, reveal, votes,
                   new_round, regenerate, pick_a, pick_b, timer, feedback, boxes, feedback_send)
    dice.click(lambda: services.presets.random(modality), None, prompt, queue=False)
    _wire(services, parts)


def _wire(services: Services, p: _Parts) -> None:
    inputs = [p.prompt, p.state, p.voter, p.pane_a, p.pane_b, p.pick_a, p.pick_b]

    async def on_send(prompt: str, state: BattleState, voter: str, pane_a: Any, pane_b: Any,
                      pick_a: str | None, pick_b: str | None, request: gr.Request) -> AsyncIterator[dict[Any, Any]]:
        session_id = getattr(request, "session_hash", "") or ""
        if not has_voter_id(voter):
            # Only a click that beats the page's load event (which sets the browser's voter id) gets here.
            yield {p.status: "⚠️ The page is still starting (no voter id yet); please send again in a moment."}
            return
        follow_up = state.battle_id is not None and not state.locked and p.chat
        try:
            services.guard.admit("battles", voter, _address(services, request))
            if follow_up:
                battle_id = state.battle_id or ""
                turn = await services.battles.follow_up(battle_id, prompt, voter)
            else:
                if state.battle_id is not None and not state.locked:
                    await asyncio.to_thread(_abandon_quietly, services, state.battle_id, voter)
                models = (pick_a, pick_b) if pick_a and pick_b else None
                started = await services.battles.start(arena=p.modality, prompt=prompt, voter_id=voter,
                                                       session_id=session_id, models=models)
                battle_id, turn, pane_a, pane_b = started.battle_id, 0, [], []
        except ArenaError as exc:
            yield {p.status: f"⚠️ {exc.message}"}
            return
        prev_a, prev_b = (list(pane_a or []), list(pane_b or [])) if p.chat else ([], [])
        async for frame in _stream(services, p, BattleState(battle_id, turn, False), voter, prev_a, prev_b):
            yield frame

    async def on_regenerate(state: BattleState, voter: str, request: gr.Request) -> AsyncIterator[dict[Any, Any]]:
        if state.battle_id is None:
            yield {p.status: "Nothing to regenerate yet: send a prompt first."}
            return
        try:
            started = await services.battles.regenerate(state.battle_id, voter,
                                                        getattr(request, "session_hash", "") or "")
        except ArenaError as exc:
            yield {p.status: f"⚠️ {exc.message}"}
            return
        async for frame in _stream(services, p, BattleState(started.battle_id, 0, False), voter, [], []):
            yield frame

    def on_vote(outcome: str, state: BattleState, voter: str, request: gr.Request) -> dict[Any, Any]:
        if state.battle_id is None:
            return {p.status: "Send a prompt first."}
        try:
            services.guard.admit("votes", voter, _address(services, request))
            reveal = services.votes.vote(state.battle_id, outcome, voter, client_token=f"ui-{state.battle_id}")
        except ArenaError as exc:
            return {p.status: f"⚠️ {exc.message}", **{b: gr.update(interactive=True) for b in p.votes}}
        locked = replace(state, locked=True)
        frame = _frame(p, gr.skip(), gr.skip(), "", votable=False, busy=False, state=locked,
                       reveal=present.reveal_markdown(reveal))
        if p.chat:
            frame[p.pane_a] = gr.update(label=f"Model A: {reveal.model_a_label}")
            frame[p.pane_b] = gr.update(label=f"Model B: {reveal.model_b_label}")
        return frame

    def on_tick(state: BattleState) -> dict[Any, Any]:
        if state.battle_id is None or state.locked:
            return {p.timer: gr.Timer(active=False)}
        status = services.music.status(state.battle_id)
        if status.enough:
            return {p.timer: gr.Timer(active=False), p.status: "✅ Both clips heard. Which is better?",
                    **{b: gr.update(interactive=True) for b in p.votes}}
        return {p.status: f"🎧 Keep listening: {status.message()}"}

    def on_feedback(state: BattleState, voter: str, a: str, b: str, overall: str) -> dict[Any, Any]:
        try:
            kept = services.music.feedback(state.battle_id or "", voter, {"a": a, "b": b, "overall": overall})
        except ArenaError as exc:
            return {p.status: f"⚠️ {exc.message}"}
        return {p.status: f"Thanks — {kept} feedback note(s) saved.", p.feedback: gr.update(visible=False)}

    def on_new_round(state: BattleState, voter: str) -> dict[Any, Any]:
        if state.battle_id is not None and not state.locked:
            _abandon_quietly(services, state.battle_id, voter)
        empty: Any = [] if p.chat else ""
        frame = _frame(p, gr.update(value=empty, label="Model A") if p.chat else empty,
                       gr.update(value=empty, label="Model B") if p.chat else empty, "",
                       votable=False, busy=False, state=BattleState(), clear_prompt=True)
        for box in p.feedback_boxes:
            frame[box] = ""
        return frame

    def open_votes(state: BattleState) -> list[Any]:
        return [gr.update(interactive=state.votable and not state.locked)] * len(p.votes)

    outputs = _outputs(p)
    for event in (p.send.click, p.prompt.submit):
        event(on_send, inputs, outputs, concurrency_limit=None).then(open_votes, p.state, p.votes, queue=False)
    p.regenerate.click(on_regenerate, [p.state, p.voter], outputs, concurrency_limit=None).then(
        open_votes, p.state, p.votes, queue=False)
    # Quick handlers answer in the HTTP response itself (queue=False): nothing depends on the event stream.
    p.new_round.click(on_new_round, [p.state, p.voter], outputs + p.feedback_boxes, queue=False)
    p.timer.tick(on_tick, p.state, [p.timer, p.status, *p.votes], queue=False)
    p.feedback_send.click(on_feedback, [p.state, p.voter, *p.feedback_boxes], [p.status, p.feedback], queue=False)
    for key, button in zip(present.VOTE_LABELS, p.votes, strict=True):
        button.click(lambda: [gr.update(interactive=False)] * len(p.votes), None, p.votes, queue=False).then(
            _voter_for(on_vote, key), [p.state, p.voter], outputs, queue=False)


def has_voter_id(value: Any) -> bool:
    """Whether the browser already holds a voter id (set on page load)."""
    return isinstance(value, str) and len(value) >= 8


def _voter_for(on_vote: Any, key: str) -> Any:
    def handler(state: BattleState, voter: str, request: gr.Request) -> dict[Any, Any]:
        return on_vote(key, state, voter, request)

    return handler


def _address(services: Services, request: gr.Request) -> str:
    client = getattr(request, "client", None)
    peer = getattr(client, "host", None)
    return services.guard.client_address(peer, dict(getattr(request, "headers", {}) or {}))


def _abandon_quietly(services: Services, battle_id: str, voter: str) -> None:
    with contextlib.suppress(ArenaError):  # already voted, failed or gone: nothing to abandon
        services.battles.abandon(battle_id, voter)


def _render(p: _Parts, side: SideView, previous: list[Any], view: TurnView, key: str, voter: str) -> Any:
    streaming = view.status.value == "generating"
    if p.chat:
        return present.chat_history(previous, view.prompt, side, streaming=streaming)
    if p.modality == Modality.IMAGE:
        return present.image_html(side, streaming=streaming)
    return present.audio_html(side, streaming=streaming, battle_id=view.battle_id, side_key=key, voter=voter)


async def _stream(services: Services, p: _Parts, state: BattleState, voter: str,
                  prev_a: list[Any], prev_b: list[Any]) -> AsyncIterator[dict[Any, Any]]:
    async for view in services.battles.stream_turn(state.battle_id or "", state.turn):
        streaming = view.status.value == "generating"
        music_gate = p.modality == Modality.MUSIC and view.votable
        status = present.status_line(view)
        if music_gate:
            status = f"🎧 Listen to both clips for at least {services.music.min_listen_s:.0f} s, then vote."
        # Buttons stay shut here: Gradio re-sends a generator's last frame when the event completes, which could
        # land after a quick vote and undo its reveal. `open_votes` opens them once the event is over.
        yield _frame(
            p, _render(p, view.a, prev_a, view, "a", voter), _render(p, view.b, prev_b, view, "b", voter),
            status, votable=False, busy=streaming, clear_prompt=p.chat, listen=music_gate,
            state=replace(state, votable=view.votable and not music_gate),
        )
