"""The one provider interface every modality implements: generate(request) -> async iterator of chunks."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import httpx

from arena.domain import Capabilities, Chunk, ErrorCode, GenerationRequest, ModelSpec
from arena.errors import ConfigError, ProviderError


@dataclass(frozen=True)
class ProviderContext:
    """Shared resources injected into providers (never created by a provider itself)."""

    http: httpx.AsyncClient
    assets_dir: Path = field(default_factory=lambda: Path(__file__).parent / "builtin" / "assets")
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


class Provider(ABC):
    """A model behind an arena pane.

    Subclasses declare `option_names` (keys allowed in the catalogue's `options` table); unknown keys are
    rejected at startup. A provider that cannot stream yields one final chunk; nothing fakes streaming.
    """

    option_names: ClassVar[frozenset[str]] = frozenset()
    required_options: ClassVar[frozenset[str]] = frozenset()
    default_capabilities: ClassVar[Capabilities] = Capabilities()

    def __init__(self, spec: ModelSpec, context: ProviderContext) -> None:
        unknown = set(spec.options) - set(self.option_names)
        if unknown:
            raise ConfigError(
                f"model {spec.name!r}: unknown option(s) {sorted(unknown)} for provider {spec.provider!r}; "
                f"allowed: {sorted(self.option_names)}"
            )
        missing = set(self.required_options) - set(spec.options)
        if missing:
            raise ConfigError(f"model {spec.name!r}: provider {spec.provider!r} needs option(s) {sorted(missing)}")
        self.spec = spec
        self.context = context

    @property
    def options(self) -> Mapping[str, Any]:
        """The validated options from the catalogue."""
        return self.spec.options

    def api_key(self) -> str | None:
        """The API key named by the `api_key_env` option, read from the environment (never stored)."""
        env_name = self.options.get("api_key_env")
        if not env_name:
            return None
        value = self.context.environ.get(str(env_name))
        if not value:
            raise ProviderError(
                ErrorCode.AUTH,
                f"model {self.spec.name!r} needs an API key: set the environment variable {env_name}",
            )
        return value

    @abstractmethod
    def generate(self, request: GenerationRequest) -> AsyncIterator[Chunk]:
        """Yield chunks for one turn; raise ProviderError with a typed code on failure."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release resources held by the provider (the injected HTTP client is not ours to close)."""
