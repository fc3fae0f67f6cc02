"""Provider type name -> provider class, resolved lazily so heavy built-ins load only when used."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import MappingProxyType

from arena.domain import ModelSpec
from arena.errors import ConfigError
from arena.providers.base import Provider, ProviderContext

PROVIDER_PATHS: Mapping[str, str] = MappingProxyType(
    {
        # HTTP adapters
        "openai_chat": "arena.providers.openai_chat:OpenAIChatProvider",
        "openai_search": "arena.providers.openai_search:OpenAISearchProvider",
        "search_compose": "arena.providers.search:ComposedSearchProvider",
        "openai_images": "arena.providers.openai_images:OpenAIImagesProvider",
        "http_music": "arena.providers.http_music:HttpMusicProvider",
        # built-in offline models (the embedded default)
        "builtin_ngram": "arena.providers.builtin.ngram:NgramProvider",
        "builtin_retrieval": "arena.providers.builtin.retrieval:RetrievalProvider",
        "builtin_transformer": "arena.providers.builtin.transformer:TransformerProvider",
        "builtin_search": "arena.providers.builtin.search_answerer:BuiltinSearchProvider",
        "builtin_image_pattern": "arena.providers.builtin.images:PatternImageProvider",
        "builtin_image_scene": "arena.providers.builtin.images:SceneImageProvider",
        "builtin_music_midi": "arena.providers.builtin.music:MidiComposerProvider",
        "builtin_music_sine": "arena.providers.builtin.music:SineComposerProvider",
    }
)


def provider_class(name: str) -> type[Provider]:
    """Resolve a provider type name to its class, with a clear error for unknown names."""
    path = PROVIDER_PATHS.get(name)
    if path is None:
        raise ConfigError(f"unknown provider {name!r}; known providers: {sorted(PROVIDER_PATHS)}")
    module_name, _, attr = path.partition(":")
    module = importlib.import_module(module_name)
    cls = getattr(module, attr)
    if not (isinstance(cls, type) and issubclass(cls, Provider)):
        raise ConfigError(f"provider {name!r} does not resolve to a Provider class ({path})")
    return cls


def build_provider(spec: ModelSpec, context: ProviderContext) -> Provider:
    """Instantiate the provider for one catalogue entry."""
    return provider_class(spec.provider)(spec, context)
