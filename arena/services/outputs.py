"""Turn a side's stream of chunks into what the voter sees and, at the end, the values of its stored output row."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from arena.domain import CitationChunk, ErrorCode, Finish, MediaChunk, SearchTrace, Side, TextDelta
from arena.errors import ProviderError
from arena.media import MediaStore
from arena.services.views import SideView

END = object()  # sentinel a side task puts on the queue when its stream ended

# What the voter is told per error code. The provider's own message (stored in outputs.error_message and logged)
# can name the model, its server or its vendor, so it never reaches the browser before the vote.
VOTER_ERRORS: dict[ErrorCode, str] = {
    ErrorCode.TIMEOUT: "the model took too long to answer",
    ErrorCode.CONNECTION: "the model's server could not be reached or dropped the connection",
    ErrorCode.AUTH: "the model's server refused Arena's credentials (a maintainer needs to fix its API key)",
    ErrorCode.RATE_LIMITED: "the model's server is rate-limiting Arena; try again in a minute",
    ErrorCode.BAD_REQUEST: "the model's server rejected the request",
    ErrorCode.NOT_FOUND: "the model's server does not know this model (a maintainer needs to fix the catalogue)",
    ErrorCode.SERVER_ERROR: "the model's server had an internal error",
    ErrorCode.MALFORMED: "the model sent an answer Arena could not read",
    ErrorCode.CONTENT_FILTER: "the model's server refused to answer this prompt",
    ErrorCode.TOO_LARGE: "the model's answer was larger than Arena accepts",
    ErrorCode.UNSAFE: "the model's output was blocked by the safety check",
    ErrorCode.EMPTY: "the model returned an empty answer",
    ErrorCode.STORAGE: "storage is full or unavailable; the answer could not be saved (try again later)",
    ErrorCode.INTERNAL: "the model crashed while answering",
}


@dataclass(frozen=True)
class StoredMedia:
    """A media chunk after its bytes went to the media store."""

    sha256: str
    mime: str
    size: int
    meta: Mapping[str, Any]


@dataclass
class SideRecording:
    """Timings and results of one side while it streams (lives only inside one stream_turn call)."""

    started: float
    first_chunk: float | None = None
    finished: float | None = None
    finish: Finish | None = None
    media: StoredMedia | None = None
    trace: list[dict[str, Any]] = field(default_factory=list)
    style: Callable[[str], dict[str, Any]] = field(default=lambda _text: {})
    error_detail: str | None = None

    def apply(self, view: SideView, item: object, now: float) -> SideView:
        """Fold one queue item (chunk, END or ProviderError) into the side's view."""
        if self.first_chunk is None:
            self.first_chunk = now
        if isinstance(item, TextDelta):
            return view.with_text(item.text)
        if isinstance(item, CitationChunk):
            return replace(view, citations=(*view.citations, item.citation))
        if isinstance(item, SearchTrace):
            self.trace.append({"query": item.query, "results": item.results})
            return replace(view, searches=(*view.searches, item.query))
        if isinstance(item, StoredMedia):
            self.media = item
            return replace(view, media_url=f"/media/{item.sha256}", media_mime=item.mime, media_meta=dict(item.meta))
        if isinstance(item, Finish):
            self.finish = item
            return view
        self.finished = now
        if isinstance(item, ProviderError):
            self.error_detail = item.message
            message = VOTER_ERRORS.get(item.code, VOTER_ERRORS[ErrorCode.INTERNAL])
            return replace(view, done=True, error_code=item.code.value, error=message)
        if item is END:
            return self._check_complete(view)
        return replace(view, done=True, error_code=ErrorCode.MALFORMED.value,
                       error=f"the model sent something Arena does not understand ({type(item).__name__})")

    def _check_complete(self, view: SideView) -> SideView:
        if self.finish is None:
            return replace(view, done=True, error_code=ErrorCode.MALFORMED.value,
                           error="the model's answer ended without a finish signal (truncated stream)")
        if not view.text.strip() and self.media is None:
            return replace(view, done=True, error_code=ErrorCode.EMPTY.value, error="the model returned nothing")
        return replace(view, done=True)

    def to_output(self, turn_id: int, side: Side, model_id: int, view: SideView) -> dict[str, Any]:
        """The values of the `outputs` row stored for this side (written with Core, not as an ORM object)."""
        def ms(t: float | None) -> float | None:
            return None if t is None else round((t - self.started) * 1000.0, 3)

        style = self.style(view.text) if view.ok and view.text else {}
        if self.media is not None:
            media_style = {k: self.media.meta[k] for k in ("duration_s", "width", "height", "instrumental")
                           if k in self.media.meta}
            style = {**style, **media_style}
        if view.citations:
            domains = sorted({_domain(c.url) for c in view.citations})
            style = {**style, "citations": len(view.citations), "cited_domains": domains}
        return dict(
            turn_id=turn_id,
            side=side.value,
            model_id=model_id,
            text=view.text,
            latency_ms=ms(self.finished),
            first_chunk_ms=ms(self.first_chunk),
            prompt_tokens=self.finish.prompt_tokens if self.finish else None,
            completion_tokens=self.finish.completion_tokens if self.finish else None,
            finish_reason=self.finish.finish_reason if self.finish and view.ok else None,
            error_code=view.error_code,
            error_message=self.error_detail or view.error,
            style=style,
            citations=[{"url": c.url, "title": c.title, "snippet": c.snippet} for c in view.citations],
            trace=self.trace,
            media_sha256=self.media.sha256 if self.media else None,
        )


def _domain(url: str) -> str:
    rest = url.split("://", 1)[-1]
    return rest.split("/", 1)[0].lower() or "local"


@dataclass(frozen=True)
class OutputRecorder:
    """Creates side recordings and stores media bytes (content-addressed) within the size limit."""

    media: MediaStore
    max_media_bytes: int = 20_000_000
    style: Callable[[str], dict[str, Any]] = field(default=lambda _text: {})
    check_media: Callable[[bytes, str], None] = field(default=lambda _data, _mime: None)

    def start(self, now: float) -> SideRecording:
        """A fresh recording for one side, started at `now`."""
        return SideRecording(started=now, style=self.style)

    def store_media(self, chunk: MediaChunk) -> StoredMedia:
        """Validate and store a media chunk; ProviderError if it is too large or does not decode."""
        if len(chunk.data) > self.max_media_bytes:
            raise ProviderError(
                ErrorCode.TOO_LARGE,
                f"the model returned {len(chunk.data):,} bytes of media; the limit is {self.max_media_bytes:,}",
            )
        self.check_media(chunk.data, chunk.mime)
        sha = self.media.put(chunk.data)
        return StoredMedia(sha, chunk.mime, len(chunk.data), dict(chunk.meta))
