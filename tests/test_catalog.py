"""The catalogue: built-ins by default, TOML entries validated with clear errors."""

from __future__ import annotations

import pytest

from arena.catalog import BUILTIN_MODELS, load_catalog, spec_from_table
from arena.domain import Modality
from arena.errors import ConfigError, NotFoundError


def test_builtins_are_the_default_catalogue() -> None:
    catalog = load_catalog([])
    assert catalog.models == BUILTIN_MODELS
    assert len(catalog.for_modality(Modality.TEXT)) >= 3
    assert all(m.local_demo for m in catalog.models)
    for modality in Modality:
        assert len(catalog.for_modality(modality)) >= 2


def test_configured_models_replace_builtins_unless_asked() -> None:
    table = {"name": "gpt", "provider": "openai_chat", "options": {"base_url": "http://127.0.0.1:1/v1", "model": "m"}}
    assert load_catalog([table]).names() == ["gpt"]
    assert "gpt" in load_catalog([table], include_builtins=True).names()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"provider": "openai_chat"}, "non-empty name"),
        ({"name": "x", "provider": "nope"}, "unknown provider"),
        ({"name": "x", "provider": "openai_chat", "colour": 1}, "unknown key"),
        ({"name": "x", "provider": "openai_chat", "modality": "video"}, "not one of"),
        ({"name": "x", "provider": "openai_chat", "weight": 0}, "weight"),
        ({"name": "x", "provider": "openai_chat", "capabilities": {"fly": True}}, "capability"),
    ],
)
def test_bad_entries_are_rejected(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        spec_from_table(table)


def test_duplicate_names_rejected_and_unknown_lookup() -> None:
    table = {"name": "dup", "provider": "openai_chat"}
    with pytest.raises(ConfigError, match="twice"):
        load_catalog([table, table])
    with pytest.raises(NotFoundError, match="unknown model"):
        load_catalog([]).get("nope")
