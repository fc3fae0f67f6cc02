"""Load and validate the model catalogue (arena.toml [[models]] or the built-in offline models)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from arena.domain import Capabilities, Modality, ModelSpec, ModelStatus
from arena.errors import ConfigError, NotFoundError
from arena.providers.registry import PROVIDER_PATHS

_DEMO_LICENSE = "Apache-2.0 (Arena built-in demo)"
_DEMO_ORG = "Arena (local demo)"

BUILTIN_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("ngram-storyteller", Modality.TEXT, "builtin_ngram", "N-gram storyteller (local demo)",
              _DEMO_ORG, _DEMO_LICENSE, local_demo=True),
    ModelSpec("wordnet-librarian", Modality.TEXT, "builtin_retrieval", "WordNet librarian (local demo)",
              _DEMO_ORG, _DEMO_LICENSE, local_demo=True),
    ModelSpec("tiny-transformer", Modality.TEXT, "builtin_transformer", "Tiny transformer (local demo)",
              _DEMO_ORG, _DEMO_LICENSE, local_demo=True),
    ModelSpec("search-careful", Modality.SEARCH, "builtin_search", "Careful searcher (local demo)",
              _DEMO_ORG, _DEMO_LICENSE, local_demo=True, options={"quality": "careful"}),
    ModelSpec("search-hasty", Modality.SEARCH, "builtin_search", "Hasty searcher (local demo)",
              _DEMO_ORG, _DEMO_LICENSE, local_demo=True, options={"quality": "hasty"}),
    ModelSpec("pattern-painter", Modality.IMAGE, "builtin_image_pattern", "Pattern painter (local demo)",
              _DEMO_ORG, _DEMO_LICENSE, local_demo=True),
    ModelSpec("scene-sketcher", Modality.IMAGE, "builtin_image_scene", "Scene sketcher (local demo)",
              _DEMO_ORG, _DEMO_LICENSE, local_demo=True),
    ModelSpec("midi-composer", Modality.MUSIC, "builtin_music_midi", "MIDI composer (local demo)",
              _DEMO_ORG, _DEMO_LICENSE, local_demo=True,
              capabilities=Capabilities(streaming=False, lyrics=True, max_duration_s=30.0)),
    ModelSpec("sine-composer", Modality.MUSIC, "builtin_music_sine", "Sine composer (local demo)",
              _DEMO_ORG, _DEMO_LICENSE, local_demo=True,
              capabilities=Capabilities(streaming=False, lyrics=True, max_duration_s=30.0)),
)

_MODEL_KEYS = {
    "name", "modality", "provider", "display_name", "organization", "license", "publish_outputs",
    "local_demo", "weight", "status", "capabilities", "options",
}
_CAPABILITY_KEYS = {"streaming", "multi_turn", "lyrics", "instrumental", "max_duration_s"}


def _enum(cls: Any, value: Any, where: str) -> Any:
    try:
        return cls(value)
    except ValueError as exc:
        raise ConfigError(f"{where}: {value!r} is not one of {[m.value for m in cls]}") from exc


def spec_from_table(table: Mapping[str, Any]) -> ModelSpec:
    """Turn one [[models]] table into a ModelSpec, rejecting unknown keys and providers."""
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError("every [[models]] entry needs a non-empty name")
    where = f"model {name!r}"
    unknown = set(table) - _MODEL_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}; known: {sorted(_MODEL_KEYS)}")
    provider = table.get("provider")
    if provider not in PROVIDER_PATHS:
        raise ConfigError(f"{where}: unknown provider {provider!r}; known: {sorted(PROVIDER_PATHS)}")
    caps = table.get("capabilities", {})
    bad_caps = set(caps) - _CAPABILITY_KEYS
    if bad_caps:
        raise ConfigError(f"{where}: unknown capability key(s) {sorted(bad_caps)}; known: {sorted(_CAPABILITY_KEYS)}")
    weight = float(table.get("weight", 1.0))
    if weight <= 0:
        raise ConfigError(f"{where}: weight must be > 0")
    return ModelSpec(
        name=name.strip(),
        modality=_enum(Modality, table.get("modality", "text"), where),
        provider=str(provider),
        display_name=str(table.get("display_name", "")),
        organization=str(table.get("organization", "")),
        license=str(table.get("license", "")),
        publish_outputs=bool(table.get("publish_outputs", True)),
        local_demo=bool(table.get("local_demo", False)),
        weight=weight,
        status=_enum(ModelStatus, table.get("status", "active"), where),
        capabilities=Capabilities(**caps),
        options=dict(table.get("options", {})),
    )


@dataclass(frozen=True)
class Catalog:
    """The validated, immutable model catalogue."""

    models: tuple[ModelSpec, ...]

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for spec in self.models:
            if spec.name in seen:
                raise ConfigError(f"model name {spec.name!r} appears twice in the catalogue; names must be unique")
            seen.add(spec.name)

    def get(self, name: str) -> ModelSpec:
        """The model called `name`, or NotFoundError listing what exists."""
        for spec in self.models:
            if spec.name == name:
                return spec
        raise NotFoundError(f"unknown model {name!r}; see GET /api/models for the catalogue")

    def for_modality(self, modality: Modality, *, include_inactive: bool = False) -> list[ModelSpec]:
        """Models of one modality, active ones only unless asked otherwise."""
        return [
            m for m in self.models
            if m.modality == modality and (include_inactive or m.status == ModelStatus.ACTIVE)
        ]

    def names(self) -> list[str]:
        """All model names."""
        return [m.name for m in self.models]


def load_catalog(tables: Sequence[Mapping[str, Any]], *, include_builtins: bool = False) -> Catalog:
    """Catalogue from config tables; with none configured, the built-in offline models."""
    configured: Iterable[ModelSpec] = [spec_from_table(t) for t in tables]
    models = list(configured)
    if not models or include_builtins:
        models = list(BUILTIN_MODELS) + models
    return Catalog(tuple(models))
