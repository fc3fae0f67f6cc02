"""A tiny real OpenAI-compatible chat server on 127.0.0.1 whose answer is chosen per model name."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse


def _app(answers: Mapping[str, str]) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> StreamingResponse:
        body = await request.json()
        text = answers.get(body["model"], "A plain helpful answer.")

        def events() -> Iterator[str]:
            for word in text.split(" "):
                delta = {"choices": [{"index": 0, "delta": {"content": word + " "}, "finish_reason": None}]}
                yield f"data: {json.dumps(delta)}\n\n"
            yield f"data: {json.dumps({'choices': [{'index': 0, 'delta': {}, 'finish_reason': 'stop'}]})}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    return app


@contextmanager
def fake_openai(answers: Mapping[str, str]) -> Iterator[str]:
    """Serve `answers` (model -> text); yields the base URL (…/v1)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(_app(answers), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(5)


def chat_model(name: str, base_url: str, organization: str = "") -> dict[str, object]:
    """A catalogue table for a model served by the fake server."""
    return {"name": name, "modality": "text", "provider": "openai_chat", "organization": organization,
            "options": {"base_url": base_url, "model": name}}
