"""Parse a Server-Sent Events stream (the text/event-stream format) into events.

Follows the WHATWG parsing rules (fields `data`, `event`, `id`; comment lines start with ':'; a blank
line dispatches) with one lenient exception: data still pending when the stream ends is dispatched
instead of discarded, because some OpenAI-compatible servers omit the final blank line.
"""

from __future__ import annotations

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
