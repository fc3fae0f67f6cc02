"""One battle tab builder, parameterised by modality and mode (anonymous or named side-by-side)."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import gradio as gr

from arena.domain import Modality
from arena.errors import ArenaError
from arena.services.container import Services
from arena.services.views import TurnView
from arena.ui import present


@dataclass(frozen=True)
class BattleState:
    """Per-session UI state: ids only (Gradio deep-copies State; no clients or sessions here)."""

    battle_id: str | None = None
    turn: int = 0
    locked: bool = False


@dataclass
class _Parts:
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
    pick_a: Any = None
    pick_b: Any = None


def _outputs(p: _Parts) -> list[Any]:
    return [p.pane_a, p.pane_b, p.status, p.reveal, *p.votes, p.prompt, p.send, p.regenerate, p.state]


def _frame(p: _Parts, a: Any, b: Any, status: str, *, votable: bool, busy: bool, state: BattleState,
           reveal: str | None = None, clear_prompt: bool = False) -> dict[Any, Any]:
    frame: dict[Any, Any] = {
        p.pane_a: a,
        p.pane_b: b,
        p.status: status,
        p.reveal: gr.update(value=reveal or "", visible=bool(reveal)),
        p.send: gr.update(interactive=not busy and not state.locked),
        p.regenerate: gr.update(interactive=not busy and state.battle_id is not None and not state.locked),
        p.state: state,
    }
    for button in p.votes:
        frame[button] = gr.update(interactive=votable)
    placeholder = ("Press New round to start another battle" if state.locked
                   else "Type your prompt and press Enter" if state.battle_id is None else "Ask a follow-up question")
    prompt_update: dict[str, Any] = {"interactive": not state.locked, "placeholder": placeholder}
    if clear_prompt:
        prompt_update["value"] = ""
    frame[p.prompt] = gr.update(**prompt_update)
    return frame


def build_battle_tab(services: Services, modality: Modality, *, named: bool, voter: Any) -> None:
    """Lay out one battle tab inside the current Blocks context and wire its events."""
    title = "Side-by-side (you pick the models)" if named else "Anonymous battle"
    gr.Markdown(
        f"### {title}\n"
        + ("Pick two models, ask, compare. Side-by-side votes never count in the leaderboard."
           if named else
           "Ask anything. Two anonymous models answer side by side; vote for the better one, then see who they were.")
    )
    pick_a = pick_b = None
    if named:
        names = [m.name for m in services.catalog.for_modality(modality)]
        with gr.Row():
            pick_a = gr.Dropdown(names, value=names[0] if names else None, label="Model A")
            pick_b = gr.Dropdown(names, value=names[1] if len(names) > 1 else None, label="Model B")
    with gr.Row(equal_height=True):
        pane_a = gr.Chatbot(label="Model A", height=420, buttons=["copy"], elem_id=f"pane-a-{modality.value}{'-named' if named else ''}")
        pane_b = gr.Chatbot(label="Model B", height=420, buttons=["copy"], elem_id=f"pane-b-{modality.value}{'-named' if named else ''}")
    status = gr.Markdown("", elem_id=f"status-{modality.value}{'-named' if named else ''}")
    reveal = gr.Markdown("", visible=False, elem_id=f"reveal-{modality.value}{'-named' if named else ''}")
    with gr.Row():
        votes = [gr.Button(label, interactive=False, elem_id=f"vote-{key}-{modality.value}{'-named' if named else ''}")
                 for key, label in present.VOTE_LABELS.items()]
    with gr.Row():
        prompt = gr.Textbox(show_label=False, placeholder="Type your prompt and press Enter", scale=8,
                            elem_id=f"prompt-{modality.value}{'-named' if named else ''}", max_lines=8)
        send = gr.Button("Send", variant="primary", scale=1, elem_id=f"send-{modality.value}{'-named' if named else ''}")
    with gr.Row():
        new_round = gr.Button("🎲 New round", elem_id=f"new-{modality.value}{'-named' if named else ''}")
        regenerate = gr.Button("🔄 Regenerate", interactive=False,
                               elem_id=f"regen-{modality.value}{'-named' if named else ''}")
    parts = _Parts(gr.State(BattleState()), voter, prompt, send, pane_a, pane_b, status, reveal, votes,
                   new_round, regenerate, pick_a, pick_b)
    _wire(services, modality, parts)


def _wire(services: Services, modality: Modality, p: _Parts) -> None:
    picks = [p.pick_a, p.pick_b] if p.pick_a is not None else [gr.State(None), gr.State(None)]
    inputs = [p.prompt, p.state, p.voter, p.pane_a, p.pane_b, *picks]

    async def on_send(prompt: str, state: BattleState, voter: str, chat_a: list[Any], chat_b: list[Any],
                      pick_a: str | None, pick_b: str | None, request: gr.Request) -> AsyncIterator[dict[Any, Any]]:
        session_id = getattr(request, "session_hash", "") or ""
        try:
            if state.battle_id is None or state.locked:
                models = (pick_a, pick_b) if pick_a and pick_b else None
                started = await asyncio.to_thread(
                    services.battles.start, arena=modality, prompt=prompt, voter_id=voter,
                    session_id=session_id, models=models)
                battle_id, turn, chat_a, chat_b = started.battle_id, 0, [], []
            else:
                battle_id = state.battle_id
                turn = await asyncio.to_thread(services.battles.follow_up, battle_id, prompt, voter)
        except ArenaError as exc:
            yield {p.status: f"⚠️ {exc.message}"}
            return
        state = BattleState(battle_id, turn, False)
        async for frame in _stream(services, p, state, list(chat_a or []), list(chat_b or [])):
            yield frame

    async def on_regenerate(state: BattleState, voter: str, request: gr.Request) -> AsyncIterator[dict[Any, Any]]:
        if state.battle_id is None:
            yield {p.status: "Nothing to regenerate yet: send a prompt first."}
            return
        try:
            started = await asyncio.to_thread(services.battles.regenerate, state.battle_id, voter,
                                              getattr(request, "session_hash", "") or "")
        except ArenaError as exc:
            yield {p.status: f"⚠️ {exc.message}"}
            return
        async for frame in _stream(services, p, BattleState(started.battle_id, 0, False), [], []):
            yield frame

    def on_vote(outcome: str, state: BattleState, voter: str) -> dict[Any, Any]:
        if state.battle_id is None:
            return {p.status: "Send a prompt first."}
        try:
            reveal = services.votes.vote(state.battle_id, outcome, voter, client_token=f"ui-{state.battle_id}")
        except ArenaError as exc:
            return {p.status: f"⚠️ {exc.message}", **{b: gr.update(interactive=True) for b in p.votes}}
        locked = replace(state, locked=True)
        frame = _frame(p, gr.skip(), gr.skip(), "", votable=False, busy=False, state=locked,
                       reveal=present.reveal_markdown(reveal))
        frame[p.pane_a] = gr.update(label=f"Model A: {reveal.model_a_label}")
        frame[p.pane_b] = gr.update(label=f"Model B: {reveal.model_b_label}")
        return frame

    def on_new_round(state: BattleState, voter: str) -> dict[Any, Any]:
        if state.battle_id is not None and not state.locked:
            try:
                services.battles.abandon(state.battle_id, voter)
            except ArenaError:
                pass  # already over (failed or voted): nothing to abandon
        fresh = BattleState()
        frame = _frame(p, gr.update(value=[], label="Model A"), gr.update(value=[], label="Model B"), "",
                       votable=False, busy=False, state=fresh, clear_prompt=True)
        return frame

    outputs = _outputs(p)
    p.send.click(on_send, inputs, outputs, concurrency_limit=None)
    p.prompt.submit(on_send, inputs, outputs, concurrency_limit=None)
    p.regenerate.click(on_regenerate, [p.state, p.voter], outputs, concurrency_limit=None)
    p.new_round.click(on_new_round, [p.state, p.voter], outputs)
    for key, button in zip(present.VOTE_LABELS, p.votes, strict=True):
        button.click(lambda: [gr.update(interactive=False)] * len(p.votes), None, p.votes, queue=False).then(
            lambda state, voter, _k=key: on_vote(_k, state, voter), [p.state, p.voter], outputs)


async def _stream(services: Services, p: _Parts, state: BattleState, prev_a: list[Any],
                  prev_b: list[Any]) -> AsyncIterator[dict[Any, Any]]:
    view: TurnView | None = None
    async for view in services.battles.stream_turn(state.battle_id or "", state.turn):
        streaming = view.status.value == "generating"
        yield _frame(
            p,
            present.chat_history(prev_a, view.prompt, view.a, streaming=streaming),
            present.chat_history(prev_b, view.prompt, view.b, streaming=streaming),
            present.status_line(view), votable=view.votable, busy=streaming, state=state, clear_prompt=True,
        )
