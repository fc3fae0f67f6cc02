"""sse: event-stream parsing rules (data joining, comments, fields, end of stream, size limit)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from arena.domain import ErrorCode
from arena.errors import ProviderError
from arena.providers.sse import ServerSentEvent, aiter_sse, sse_lines


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


def split_lines(chunks: list[bytes]) -> list[str]:
    async def source() -> AsyncIterator[bytes]:
        for chunk in chunks:
            yield chunk

    async def collect() -> list[str]:
        return [line async for line in sse_lines(source())]

    return asyncio.run(collect())


SAMPLE = "data: é€😀\r\ndata: two\r\rdata: \u2028 kept\n\nlast".encode()
SAMPLE_LINES = ["data: é€😀", "data: two", "", "data: \u2028 kept", "", "last"]


def test_lines_end_at_crlf_lf_or_cr_only_wherever_the_chunks_split():
    assert split_lines([SAMPLE]) == SAMPLE_LINES
    for cut in range(1, len(SAMPLE)):  # every split point, inside CRLF pairs and UTF-8 sequences included
        assert split_lines([SAMPLE[:cut], SAMPLE[cut:]]) == SAMPLE_LINES, cut
    assert split_lines([bytes([b]) for b in SAMPLE]) == SAMPLE_LINES


def test_lines_drop_a_bom_replace_bad_bytes_and_ignore_empty_chunks():
    assert split_lines([b"\xef\xbb\xbfdata: x\n", b"", b"data: \xff\xfe\n\n"]) == ["data: x", "data: \ufffd\ufffd", ""]
    assert split_lines([]) == []
    assert split_lines([b"data: no end"]) == ["data: no end"]
    assert split_lines([b"a\r", b"\n", b"b\r", b"c"]) == ["a", "b", "c"]
