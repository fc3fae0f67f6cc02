"""docs/providers.md stays true: its TOML examples build valid providers and its music server works."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import httpx
import pytest

from arena.catalog import spec_from_table
from arena.domain import GenerationRequest, MediaChunk, Message, Modality
from arena.providers.base import ProviderContext
from arena.providers.registry import build_provider

DOC = Path(__file__).resolve().parents[2] / "docs" / "providers.md"


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)


def documented_models() -> list[dict[str, Any]]:
    return [table for block in code_blocks("toml") for table in tomllib.loads(block).get("models", [])]


def test_docs_cover_every_http_provider():
    providers = {table["provider"] for table in documented_models()}
    assert providers == {"openai_chat", "openai_search", "search_compose", "openai_images", "http_music"}


@pytest.mark.parametrize("table", documented_models(), ids=lambda table: table["name"])
def test_documented_examples_build(table):
    context = ProviderContext(http=httpx.AsyncClient(trust_env=False), environ={})
    provider = build_provider(spec_from_table(table), context)
    assert provider.spec.name == table["name"]


def test_documented_music_server_speaks_the_protocol(serve, generate):
    (source,) = code_blocks("python")
    namespace: dict[str, Any] = {}
    exec(compile(source, str(DOC), "exec"), namespace)
    server = serve(namespace["app"])
    request = GenerationRequest(
        messages=(Message("user", "calm piano"),),
        modality=Modality.MUSIC,
        options={"duration_s": 1.25},
        seed=3,
    )
    media, _ = generate("http_music", {"base_url": server.url}, request)
    assert (
        isinstance(media, MediaChunk)
        and media.meta["duration_s"] == 1.25
        and media.meta["sample_rate"] == 32000
    )
