"""Stream answers with citations from OpenAI-compatible search models (Perplexity, OpenAI search-preview).

Two citation shapes are understood, streamed or in one body:
- Perplexity style: a top-level `citations` list of URLs, where the answer's [n] is citations[n-1];
  titles and snippets come from `search_results` when the server sends them.
- OpenAI style: `annotations` on the message or delta, each `{"type": "url_citation", "url_citation":
  {"url", "title", "start_index", "end_index"}}` (the flat form without the inner object is accepted too).
Citations are yielded once each, in order of first appearance, before the text of the same chunk.
Only http(s) URLs are passed on: anything else would be a link the voter's browser should never open.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from arena.domain import Chunk, Citation, CitationChunk
from arena.providers.openai_chat import OpenAIChatProvider, StreamState, first_choice_part

logger = logging.getLogger(__name__)


@dataclass
class SearchStreamState(StreamState):
    """Chat stream state plus the citations already yielded."""

    listed: int = 0
    seen_urls: set[str] = field(default_factory=set)


def _is_web_url(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


def _search_results(payload: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Perplexity's `search_results` keyed by URL (titles and snippets for the bare `citations` list)."""
    results = payload.get("search_results")
    if not isinstance(results, list):
        return {}
    return {item["url"]: item for item in results if isinstance(item, dict) and _is_web_url(item.get("url"))}


def _annotation_citation(annotation: object) -> Citation | None:
    """A Citation from one url_citation annotation, or None for other annotation types."""
    if not isinstance(annotation, dict) or annotation.get("type") != "url_citation":
        return None
    body = annotation.get("url_citation", annotation)
    if not isinstance(body, dict) or not _is_web_url(body.get("url")):
        logger.debug("skipping a url_citation annotation without an http(s) url")
        return None
    return Citation(url=body["url"], title=str(body.get("title") or ""))


class OpenAISearchProvider(OpenAIChatProvider):
    """A search-augmented chat model whose server returns the sources it used."""

    def _new_state(self) -> StreamState:
        return SearchStreamState()

    def _on_payload(self, payload: Mapping[str, Any], state: StreamState) -> list[Chunk]:
        """Citation chunks new in this payload, then the text chunks the chat provider finds."""
        assert isinstance(state, SearchStreamState)
        citations = self._listed_citations(payload, state) + self._annotated_citations(payload, state)
        return [*(CitationChunk(citation) for citation in citations), *super()._on_payload(payload, state)]

    def _listed_citations(self, payload: Mapping[str, Any], state: SearchStreamState) -> list[Citation]:
        """New entries of the top-level `citations` list, in list order so that [n] stays citations[n-1].

        Duplicates are kept for the same reason; entries that are not http(s) URLs are dropped.
        """
        listed = payload.get("citations")
        if not isinstance(listed, list) or len(listed) <= state.listed:
            return []
        details = _search_results(payload)
        fresh: list[Citation] = []
        for entry in listed[state.listed :]:
            url = entry.get("url") if isinstance(entry, dict) else entry
            if not _is_web_url(url):
                logger.debug("skipping a citation that is not an http(s) url")
                continue
            detail = details.get(url, entry if isinstance(entry, dict) else {})
            fresh.append(
                Citation(
                    url=url, title=str(detail.get("title") or ""), snippet=str(detail.get("snippet") or "")
                )
            )
            state.seen_urls.add(url)
        state.listed = len(listed)
        return fresh

    def _annotated_citations(self, payload: Mapping[str, Any], state: SearchStreamState) -> list[Citation]:
        """url_citation annotations on the first choice not yielded before (deduplicated by URL)."""
        part, _ = first_choice_part(payload)
        annotations = part.get("annotations")
        if not isinstance(annotations, list):
            return []
        fresh: list[Citation] = []
        for annotation in annotations:
            citation = _annotation_citation(annotation)
            if citation is not None and citation.url not in state.seen_urls:
                state.seen_urls.add(citation.url)
                fresh.append(citation)
        return fresh
