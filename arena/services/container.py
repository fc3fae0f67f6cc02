"""Build every service once from Settings (the object graph create_app serves); nothing global."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import httpx
import numpy as np
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from arena.catalog import Catalog, load_catalog
from arena.config import Settings
from arena.db import repo
from arena.db.engine import check_integrity, make_engine, make_session_factory, write_session
from arena.db.migrate import upgrade
from arena.integrity.anomaly import AnomalyConfig, AnomalyDetector
from arena.integrity.identity import IdentityLeakConfig, IdentityLeakDetector
from arena.integrity.moderation import ListModerationPolicy
from arena.media import MediaStore, build_media_store
from arena.presets import PresetPrompts
from arena.providers.asyncio_net import provider_client
from arena.providers.base import Provider, ProviderContext
from arena.providers.builtin.search_engine import CorpusSearchEngine
from arena.providers.registry import build_provider
from arena.services.battles import BattleService
from arena.services.guard import Guard
from arena.services.leaderboard import LeaderboardService
from arena.services.media_policy import MediaPolicy
from arena.services.models import ModelDirectory
from arena.services.music import MusicService
from arena.services.outputs import OutputRecorder
from arena.services.releases import ReleaseService
from arena.services.review import ReviewService
from arena.services.voters import VoterService
from arena.services.votes import VoteService
from arena.style_features import style_features


@dataclass(frozen=True)
class Services:
    """The application's shared objects; the UI and the API receive this and nothing else."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    catalog: Catalog
    providers: dict[str, Provider]
    http: httpx.AsyncClient
    media: MediaStore
    battles: BattleService
    votes: VoteService
    leaderboard: LeaderboardService
    music: MusicService
    presets: PresetPrompts
    corpus: CorpusSearchEngine
    guard: Guard
    models: ModelDirectory
    review: ReviewService
    releases: ReleaseService
    voters: VoterService

    @staticmethod
    def new_voter_id() -> str:
        """A fresh random pseudonymous voter id for a browser that has none."""
        return secrets.token_urlsafe(16)

    async def aclose(self) -> None:
        """Release providers, the HTTP client and the database pool."""
        for provider in self.models.providers():
            await provider.aclose()
        await self.http.aclose()
        self.engine.dispose()


OUTBOUND_CONNECTIONS = 1024  # concurrent provider connections of one process (two per streaming battle)


def build_services(settings: Settings, *, migrate: bool = True, rng: np.random.Generator | None = None) -> Services:
    """Open (and migrate) the database, load the catalogue, build providers and services."""
    media = build_media_store(settings)  # first: a media backend without its credentials fails before any I/O
    engine = make_engine(settings.resolved_database_url)
    check_integrity(engine)
    if migrate:
        upgrade(engine)
    sessions = make_session_factory(engine)
    catalog = load_catalog(settings.models, include_builtins=settings.include_builtin_models)
    with write_session(sessions) as session:
        model_ids = repo.sync_models(session, catalog.models)
    # Every battle streams two answers at once: httpx's default pool (100 connections) would make the 51st
    # concurrent battle wait for a free connection and fail with a pool timeout. Bounded, not unlimited.
    limits = httpx.Limits(max_connections=OUTBOUND_CONNECTIONS, max_keepalive_connections=OUTBOUND_CONNECTIONS // 4)
    http = provider_client(limits, httpx.Timeout(30.0, connect=5.0))
    context = ProviderContext(http=http)
    providers = {spec.name: build_provider(spec, context) for spec in catalog.models}
    leaderboard = LeaderboardService(sessions=sessions, settings=settings.leaderboard)
    policy = MediaPolicy(max_bytes=settings.max_media_bytes)
    recorder = OutputRecorder(media=media, max_media_bytes=settings.max_media_bytes, style=style_features,
                              check_media=policy)
    models = ModelDirectory(sessions, catalog, providers, model_ids, context)
    battles = BattleService(
        sessions=sessions, models=models, media=media,
        settings=settings, rng=rng or np.random.default_rng(), recorder=recorder,
        leak_detector=IdentityLeakDetector(IdentityLeakConfig.from_mapping(settings.identity_leaks)),
        moderation=ListModerationPolicy.from_mapping(settings.moderation),
    )
    music = MusicService(sessions, min_listen_s=settings.min_listen_s)
    votes = VoteService(sessions=sessions, gates=(music.check_vote,), on_counted=leaderboard.mark_dirty)
    presets = PresetPrompts(np.random.default_rng())
    corpus = CorpusSearchEngine(context.assets_dir)
    guard = Guard(settings.rate_limits, settings.trusted_proxies)
    review = ReviewService(sessions, AnomalyDetector(AnomalyConfig.from_mapping(settings.anomaly)))
    releases = ReleaseService(sessions, settings, catalog, media, workers=settings.release.workers)
    voters = VoterService(sessions, settings)
    return Services(settings, engine, sessions, catalog, providers, http, media, battles, votes, leaderboard, music,
                    presets, corpus, guard, models, review, releases, voters)
