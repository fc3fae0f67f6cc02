"""The live model directory: catalogue, providers and ids, with maintainers' add/pause/retire applied at runtime."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from arena.catalog import Catalog, spec_from_table
from arena.db import repo
from arena.db.engine import write_session
from arena.domain import ModelSpec, ModelStatus
from arena.errors import ConfigError, ConflictError, NotFoundError, ValidationError
from arena.providers.base import Provider, ProviderContext
from arena.providers.registry import build_provider


class ModelDirectory:
    """Copy-on-write view of the catalogue; readers get an immutable Catalog snapshot."""

    def __init__(self, sessions: sessionmaker[Session], catalog: Catalog, providers: Mapping[str, Provider],
                 model_ids: Mapping[str, int], context: ProviderContext) -> None:
        self._sessions = sessions
        self._catalog = catalog
        self._providers = dict(providers)
        self._ids = dict(model_ids)
        self._context = context
        self._lock = threading.Lock()

    @property
    def catalog(self) -> Catalog:
        """The current catalogue snapshot."""
        return self._catalog

    def provider(self, name: str) -> Provider:
        """The provider answering for `name`."""
        return self._providers[name]

    def model_id(self, name: str) -> int:
        """The database id of `name`."""
        return self._ids[name]

    def providers(self) -> list[Provider]:
        """Every provider (for shutdown)."""
        return list(self._providers.values())

    def add(self, table: Mapping[str, Any]) -> ModelSpec:
        """Add a model from a catalogue table (same keys as [[models]] in arena.toml)."""
        try:
            spec = spec_from_table(table)
        except ConfigError as exc:
            raise ValidationError(exc.message) from exc
        with self._lock:
            if spec.name in self._catalog.names():
                raise ConflictError(f"model {spec.name!r} already exists; pause or retire it instead")
            try:
                provider = build_provider(spec, self._context)
            except ConfigError as exc:
                raise ValidationError(exc.message) from exc
            with write_session(self._sessions) as session:
                ids = repo.sync_models(session, [spec])
            self._providers[spec.name] = provider
            self._ids[spec.name] = ids[spec.name]
            self._catalog = Catalog((*self._catalog.models, spec))
        return spec

    def set_status(self, name: str, status: str, note: str = "") -> ModelSpec:
        """Activate, pause (no new battles) or retire (hidden from the board, past votes still count)."""
        try:
            new = ModelStatus(status)
        except ValueError as exc:
            raise ValidationError(f"status must be one of {[s.value for s in ModelStatus]}") from exc
        with self._lock:
            spec = self._catalog.get(name)
            with write_session(self._sessions) as session:
                if not repo.set_model_status(session, name, new.value, note):
                    raise NotFoundError(f"model {name!r} is not in the database")
            updated = replace(spec, status=new)
            self._catalog = Catalog(tuple(updated if m.name == name else m for m in self._catalog.models))
        return updated

    def reload_status(self) -> None:
        """Pick up status changes other processes made (scheduled)."""
        with self._sessions() as session:
            current = {m.name: m.status for m in repo.list_models(session)}
        with self._lock:
            self._catalog = Catalog(tuple(
                replace(m, status=ModelStatus(current[m.name])) if m.name in current else m
                for m in self._catalog.models))
