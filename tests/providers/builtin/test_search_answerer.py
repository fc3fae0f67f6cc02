"""The built-in search answerers: traces, numbered citations in order, and careful vs hasty quality."""

from __future__ import annotations

import re
from typing import Any

import pytest

from arena.domain import CitationChunk, Finish, ModelSpec, SearchTrace, TextDelta
from arena.errors import ConfigError
from arena.providers.builtin.search_answerer import BuiltinSearchProvider


def chunk_order(chunks: list[Any]) -> list[str]:
    kinds = {SearchTrace: "trace", TextDelta: "text", CitationChunk: "cite", Finish: "finish"}
    order: list[str] = []
    for chunk in chunks:
        kind = kinds[type(chunk)]
        if not order or order[-1] != kind:
            order.append(kind)
    return order


@pytest.mark.parametrize("quality", ["careful", "hasty"])
def test_chunks_come_in_protocol_order(builtins: Any, make_request: Any, quality: str) -> None:
    result = builtins.run("builtin_search", make_request("what is photosynthesis"), quality=quality)
    assert chunk_order(result.chunks) == ["trace", "text", "cite", "finish"]
    markers = sorted({int(m) for m in re.findall(r"\[(\d+)\]", result.text)})
    assert markers == list(range(1, len(result.citations) + 1))
    assert result.citations[0].citation.title == "photosynthesis (noun)"
    assert result.finish.completion_tokens == len(result.deltas)


def test_careful_searches_more_and_cites_more_than_hasty(builtins: Any, make_request: Any) -> None:
    req = make_request("how do black holes form")
    careful = builtins.run("builtin_search", req, quality="careful")
    hasty = builtins.run("builtin_search", req, quality="hasty")
    assert len(careful.traces) > 1 and len(hasty.traces) == 1
    assert len(careful.citations) >= 3 and len(hasty.citations) == 1
    assert len(careful.text) > 2 * len(hasty.text)
    assert careful.citations[0].citation.title == "black hole (noun)"


def test_hasty_uses_plain_ranking_and_can_miss(builtins: Any, make_request: Any) -> None:
    req = make_request("what is a bank")
    careful = builtins.run("builtin_search", req, quality="careful")
    hasty = builtins.run("builtin_search", req, quality="hasty")
    assert "sloping land" in careful.text
    assert hasty.citations[0].citation != careful.citations[0].citation


def test_citations_point_into_the_app_and_match_snippets(builtins: Any, make_request: Any) -> None:
    result = builtins.run("builtin_search", make_request("what is a volcano"), quality="careful")
    for cite in result.citations:
        assert cite.citation.url.startswith("/corpus/wordnet/")
        assert cite.citation.snippet.split(" (e.g.")[0].rstrip(".") in result.text


def test_deterministic_and_prompt_dependent(builtins: Any, make_request: Any) -> None:
    one = builtins.run("builtin_search", make_request("define gravity"), quality="careful")
    two = builtins.run("builtin_search", make_request("define gravity"), quality="careful")
    other = builtins.run("builtin_search", make_request("define music"), quality="careful")
    assert one.chunks == two.chunks
    assert one.text != other.text


def test_follow_up_searches_with_the_previous_topic(builtins: Any, make_request: Any) -> None:
    result = builtins.run(
        "builtin_search", make_request("what is a volcano", "...", "and its lava?"), quality="careful"
    )
    assert "volcano" in result.traces[0].query
    assert "lava" in result.text.lower()


def test_no_match_still_finishes(builtins: Any, make_request: Any) -> None:
    result = builtins.run("builtin_search", make_request("qwzxv plorbish"), quality="careful")
    assert result.citations == []
    assert "No entry" in result.text
    assert result.finish.completion_tokens == len(result.deltas)


def test_unknown_quality_is_a_config_error(builtins: Any) -> None:
    spec = ModelSpec(name="bad", modality="search", provider="builtin_search", options={"quality": "sloppy"})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="quality"):
        BuiltinSearchProvider(spec, builtins.context)


def test_lead_names_the_word_that_was_asked_about(builtins: Any, make_request: Any) -> None:
    # WordNet files the sense 'fissure through which lava erupts' under 'vent, volcano'.
    result = builtins.run("builtin_search", make_request("what is a volcano"), quality="careful")
    assert result.text.startswith("**Volcano**")
