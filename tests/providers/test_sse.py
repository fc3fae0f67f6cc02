"""sse: event-stream parsing rules (data joining, comments, fields, end of stream, size limit)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from arena.domain import ErrorCode
from arena.errors import ProviderError
from arena.providers.sse import ServerSentEvent, aiter_sse


def parse(text: str, **kwargs: int) -> list[ServerSentEvent]:
    async def lines() -> AsyncIterator[str]:
        for line in text.splitlines():
            yield line

    async def collect() -> list[ServerSentEvent]:
        return [event async for event in aiter_sse(lines(), **kwargs)]

    return asyncio.run(collect())


def test_data_lines_join_and_blank_lines_dispatch():
    events = parse("data: one\ndata:two\n\ndata:  three\n\n")
    assert events == [ServerSentEvent("one\ntwo"), ServerSentEvent(" three")]


def test_comments_event_names_ids_and_unknown_fields():
    events = parse(": keep-alive\nevent: delta\nid: 7\nretry: 100\nfoo: bar\ndata: x\n\ndata: y\n\n")
    assert events == [ServerSentEvent("x", event="delta", id="7"), ServerSentEvent("y", id="7")]


def test_events_without_data_are_dropped():
    assert parse("event: ping\n\n: just a comment\n\nnot-a-field\n\n") == []


def test_pending_data_is_dispatched_at_end_of_stream():
    assert parse("data: [DONE]") == [ServerSentEvent("[DONE]")]


def test_carriage_returns_are_stripped():
    assert parse("data: a\r\n\r\ndata: b\r\n") == [ServerSentEvent("a"), ServerSentEvent("b")]


def test_oversized_event_is_malformed():
    with pytest.raises(ProviderError) as info:
        parse("data: " + "x" * 50 + "\n\n", max_chars=40)
    assert info.value.code is ErrorCode.MALFORMED
