"""Parse a Server-Sent Events stream (the text/event-stream format) into events.

Follows the WHATWG parsing rules (fields `data`, `event`, `id`; comment lines start with ':'; a blank
line dispatches) with one lenient exception: data still pending when the stream ends is dispatched
instead of discarded, because some OpenAI-compatible servers omit the final blank line.

`sse_lines` turns the raw body into lines itself: the stream is UTF-8 and lines end at CRLF, LF or CR
only, as the standard says. httpx's `aiter_lines` goes through two more layers (text chunks, then a
splitlines-based decoder that also breaks lines at U+2028, U+0085, form feeds... which JSON strings may
carry raw) and costs more CPU per streamed token.
"""

from __future__ import annotations

import codecs
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass

from arena.domain import ErrorCode
from arena.errors import ProviderError

MAX_EVENT_CHARS = 4_000_000


@dataclass(frozen=True)
class ServerSentEvent:
    """One dispatched event: its type (default "message"), its data lines joined by newlines, its id."""

    data: str
    event: str = "message"
    id: str | None = None


class _EventBuilder:
    """Accumulates the fields of the event being read; one per stream, never shared."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self.data: list[str] = []
        self.size = 0
        self.event = ""
        self.last_id: str | None = None

    def feed(self, line: str) -> None:
        """Apply one non-blank line to the pending event."""
        if line.startswith(":"):
            return
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self.size += len(value) + 1
            if self.size > self.max_chars:
                raise ProviderError(
                    ErrorCode.MALFORMED,
                    f"an SSE event exceeded {self.max_chars} characters; the server is not sending a "
                    "well-formed chat stream",
                )
            self.data.append(value)
        elif name == "event":
            self.event = value
        elif name == "id" and "\0" not in value:
            self.last_id = value

    def dispatch(self) -> ServerSentEvent | None:
        """Finish the pending event; an event without data lines is dropped, as the standard says."""
        event = None
        if self.data:
            event = ServerSentEvent(data="\n".join(self.data), event=self.event or "message", id=self.last_id)
        self.data = []
        self.size = 0
        self.event = ""
        return event


async def aiter_sse(
    lines: AsyncIterable[str], *, max_chars: int = MAX_EVENT_CHARS
) -> AsyncIterator[ServerSentEvent]:
    """Yield events from an async iterable of lines (line terminators already removed).

    Raises ProviderError(MALFORMED) when one event's data grows past `max_chars`.
    """
    builder = _EventBuilder(max_chars)
    async for raw in lines:
        line = raw.rstrip("\r\n")
        if line:
            builder.feed(line)
            continue
        event = builder.dispatch()
        if event is not None:
            yield event
    event = builder.dispatch()
    if event is not None:
        yield event


async def sse_lines(chunks: AsyncIterable[bytes]) -> AsyncIterator[str]:
    """Yield the lines (without terminators) of a UTF-8 event stream arriving as byte chunks.

    Lines end at "\r\n", "\n" or "\r" (a "\r" at the end of one chunk and "\n" at the start of the next are
    one terminator); a leading byte-order mark is dropped; bytes that are not UTF-8 become U+FFFD; an
    unterminated last line is yielded at the end.
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    tail = ""  # text after the last terminator
    after_cr = False  # the previous chunk ended in "\r": a "\n" starting this one belongs to it
    first = True
    async for chunk in chunks:
        text = decoder.decode(chunk)
        if not text:
            continue
        if first:
            first = False
            text = text.removeprefix("\ufeff")
        if after_cr and text.startswith("\n"):
            text = text[1:]
        after_cr = text.endswith("\r")
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if "\n" not in text:
            tail += text
            continue
        lines = (tail + text).split("\n")
        tail = lines.pop()
        for line in lines:
            yield line
    tail += decoder.decode(b"", final=True)
    if tail:
        yield tail
