"""Stream answers from an OpenAI-compatible /chat/completions endpoint (OpenAI, vLLM, Ollama, llama.cpp).

The request asks for `stream: true` (Server-Sent Events) and, unless `stream_usage = false`, for a final
usage chunk. A server that ignores `stream` and answers with one JSON body is accepted too (one TextDelta).
Subclasses (openai_search) extend `_on_payload` to pull more than text out of each streamed JSON object.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

from arena.domain import Capabilities, Chunk, ErrorCode, Finish, GenerationRequest, ModelSpec, TextDelta
from arena.errors import ConfigError, ProviderError
from arena.providers.base import Provider, ProviderContext
from arena.providers.http_common import (
    HTTP_OPTION_NAMES,
    auth_headers,
    check_status,
    http_settings,
    int_option,
    mapping_option,
    number_option,
    open_response,
    read_capped,
    redact,
    str_option,
    transport_error,
)
from arena.providers.sse import aiter_sse, sse_lines

JSON_BODY_LIMIT = 16 * 1024 * 1024
NOT_FOUND_HINT = (
    "check that base_url ends with /v1 and that the server serves this model "
    "(OpenAI: model name; vLLM: --served-model-name; Ollama: `ollama pull <model>`)"
)


@dataclass
class StreamState:
    """What one generation has seen so far; created per call, never shared."""

    events: int = 0
    text_chars: int = 0
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    done: bool = False


def first_choice_part(payload: Mapping[str, Any]) -> tuple[Mapping[str, Any], str | None]:
    """The `delta` (streamed) or `message` (whole body) of the first choice, and its finish_reason."""
    choices = payload.get("choices")
    if choices is None or choices == []:
        return {}, None
    if not isinstance(choices, list) or not isinstance(choices[0], dict):
        raise ProviderError(ErrorCode.MALFORMED, "the server's 'choices' field is not a list of objects")
    choice = choices[0]
    part = choice.get("delta") or choice.get("message") or {}
    if not isinstance(part, dict):
        raise ProviderError(
            ErrorCode.MALFORMED, "the server's choice has a 'delta'/'message' that is not an object"
        )
    reason = choice.get("finish_reason")
    return part, reason if isinstance(reason, str) and reason else None


def content_text(part: Mapping[str, Any]) -> str:
    """The text of a delta/message; accepts a string or a list of {"type": "text", "text": ...} parts."""
    content = part.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(item.get("text", "")) for item in content if isinstance(item, dict))
    return ""


class OpenAIChatProvider(Provider):
    """A chat model behind any server that speaks the OpenAI chat-completions protocol."""

    option_names: ClassVar[frozenset[str]] = HTTP_OPTION_NAMES | frozenset(
        {"model", "temperature", "top_p", "max_tokens", "system_prompt", "stream_usage", "extra_body"}
    )
    required_options: ClassVar[frozenset[str]] = frozenset({"base_url", "model"})
    default_capabilities: ClassVar[Capabilities] = Capabilities(streaming=True, multi_turn=True)

    def __init__(self, spec: ModelSpec, context: ProviderContext) -> None:
        super().__init__(spec, context)
        self.settings = http_settings(spec, read_timeout=60.0)
        self.model = str_option(spec, "model") or ""
        self.temperature = number_option(spec, "temperature", None, low=0.0, high=2.0)
        self.top_p = number_option(spec, "top_p", None, low=0.0, high=1.0)
        self.max_tokens = int_option(spec, "max_tokens", None, low=1, high=10_000_000)
        self.system_prompt = str_option(spec, "system_prompt")
        self.extra_body = dict(mapping_option(spec, "extra_body"))
        stream_usage = spec.options.get("stream_usage", True)
        if not isinstance(stream_usage, bool):
            raise ConfigError(f"model {spec.name!r}: option 'stream_usage' must be true or false")
        self.stream_usage = stream_usage

    def build_messages(self, request: GenerationRequest) -> list[dict[str, str]]:
        """The conversation in OpenAI's message format, with the configured system prompt first."""
        messages = [{"role": message.role, "content": message.content} for message in request.messages]
        if self.system_prompt and not any(message.role == "system" for message in request.messages):
            messages.insert(0, {"role": "system", "content": self.system_prompt})
        return messages

    def build_payload(self, request: GenerationRequest) -> dict[str, Any]:
        """The JSON body: extra_body first, so the fields the arena controls always win."""
        payload: dict[str, Any] = {
            **self.extra_body,
            "model": self.model,
            "messages": self.build_messages(request),
            "stream": True,
        }
        if self.stream_usage:
            payload["stream_options"] = {"include_usage": True}
        optional = {"temperature": self.temperature, "top_p": self.top_p, "max_tokens": self.max_tokens}
        payload.update({key: value for key, value in optional.items() if value is not None})
        if request.seed is not None:
            payload["seed"] = request.seed
        return payload

    async def generate(self, request: GenerationRequest) -> AsyncIterator[Chunk]:
        """Yield TextDelta pieces as the server streams them, then one Finish."""
        if not request.messages:
            raise ProviderError(
                ErrorCode.BAD_REQUEST, f"model {self.spec.name!r}: the request has no messages"
            )
        api_key = self.api_key()
        http_request = self.context.http.build_request(
            "POST",
            f"{self.settings.base_url}/chat/completions",
            json=self.build_payload(request),
            headers=auth_headers(self.settings, api_key),
            timeout=self.settings.timeout,
        )
        response = await open_response(self.context.http, http_request, self.settings)
        try:
            await check_status(response, self.settings, secret=api_key, not_found_hint=NOT_FOUND_HINT)
            state = self._new_state()
            content_type = response.headers.get("content-type", "")
            chunks = (
                self._json_chunks(response, state)
                if "json" in content_type
                else self._sse_chunks(response, state)
            )
            async for chunk in chunks:
                yield chunk
            yield self._finish(state)
        except ProviderError as exc:
            if api_key and api_key in exc.message:
                raise ProviderError(exc.code, redact(exc.message, api_key)) from None
            raise
        finally:
            await response.aclose()

    def _new_state(self) -> StreamState:
        """A fresh per-call state; subclasses return a richer one."""
        return StreamState()

    def _decode(self, data: str) -> Mapping[str, Any]:
        """Parse one JSON object from the server, or fail with MALFORMED."""
        try:
            payload = json.loads(data)
        except json.JSONDecodeError as exc:
            raise ProviderError(
                ErrorCode.MALFORMED,
                f"model {self.spec.name!r}: the server sent invalid JSON ({exc.msg} at {exc.pos}): "
                f"{data[:120]!r}; is base_url an OpenAI-compatible endpoint?",
            ) from exc
        if not isinstance(payload, dict):
            raise ProviderError(
                ErrorCode.MALFORMED, f"model {self.spec.name!r}: the server sent JSON that is not an object"
            )
        return payload

    def _on_payload(self, payload: Mapping[str, Any], state: StreamState) -> list[Chunk]:
        """Chunks carried by one streamed (or whole) completion object; records finish and usage."""
        error = payload.get("error")
        if error:
            message = error.get("message", "") if isinstance(error, dict) else str(error)
            raise ProviderError(
                ErrorCode.SERVER_ERROR,
                f"model {self.spec.name!r}: the server reported an error mid-answer: {str(message)[:500]}; "
                "check the server's logs and try again",
            )
        part, reason = first_choice_part(payload)
        state.finish_reason = reason or state.finish_reason
        usage = payload.get("usage")
        if isinstance(usage, dict):
            prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
            state.prompt_tokens = prompt if isinstance(prompt, int) else state.prompt_tokens
            state.completion_tokens = completion if isinstance(completion, int) else state.completion_tokens
        text = content_text(part)
        if not text:
            return []
        state.text_chars += len(text.strip())
        return [TextDelta(text)]

    async def _sse_chunks(self, response: httpx.Response, state: StreamState) -> AsyncIterator[Chunk]:
        """Chunks from an SSE body, until `data: [DONE]` or the end of the stream."""
        try:
            async for event in aiter_sse(sse_lines(response.aiter_bytes())):
                if event.data.strip() == "[DONE]":
                    state.done = True
                    break
                state.events += 1
                for chunk in self._on_payload(self._decode(event.data), state):
                    yield chunk
        except httpx.RequestError as exc:
            during = "in the middle of the answer" if state.events else "before the answer started"
            raise transport_error(exc, self.settings, during) from exc
        if not state.done and state.finish_reason is None:
            what = "carried no events" if state.events == 0 else "ended without a finish_reason or [DONE]"
            raise ProviderError(
                ErrorCode.MALFORMED,
                f"model {self.spec.name!r}: the server's event stream {what}; "
                "is base_url an OpenAI-compatible chat endpoint (ending in /v1)?",
            )

    async def _json_chunks(self, response: httpx.Response, state: StreamState) -> AsyncIterator[Chunk]:
        """Chunks from a server that ignored `stream: true` and sent one chat.completion object."""
        body = await read_capped(response, self.settings, limit=JSON_BODY_LIMIT, what="response")
        state.events += 1
        for chunk in self._on_payload(self._decode(body.decode("utf-8", errors="replace")), state):
            yield chunk
        state.done = True

    def _finish(self, state: StreamState) -> Finish:
        """The closing chunk; an answer without any visible text is a failure, not a result."""
        if state.text_chars == 0:
            if state.finish_reason == "content_filter":
                raise ProviderError(
                    ErrorCode.CONTENT_FILTER,
                    f"model {self.spec.name!r}: the server's content filter withheld the answer; "
                    "try another prompt",
                )
            raise ProviderError(
                ErrorCode.EMPTY,
                f"model {self.spec.name!r}: the server returned an empty answer (finish_reason="
                f"{state.finish_reason or 'none'}); check the model's chat template and max_tokens",
            )
        return Finish(
            finish_reason=state.finish_reason or "stop",
            prompt_tokens=state.prompt_tokens,
            completion_tokens=state.completion_tokens,
        )
