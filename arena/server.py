"""create_app(settings): one FastAPI app serving the Gradio UI at /, the JSON API at /api and media."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import gradio as gr
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from arena.admin_api import build_admin_api
from arena.api import build_api, corpus_page, install_error_handlers, media_response
from arena.config import Settings
from arena.release_api import build_release_api
from arena.scheduler import JobRunner
from arena.services.container import Services, build_services
from arena.ui.app import CSS, build_theme, build_ui
from arena.ui.present import LISTEN_JS
from arena.vote_route import VoteFastPath

log = logging.getLogger(__name__)


def create_app(settings: Settings, services: Services | None = None) -> FastAPI:
    """Build the whole application for `settings` (migrating the database on the way)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    services = services or build_services(settings)
    stale = services.battles.fail_stale(older_than_s=2 * settings.generation_timeout_s)
    if stale:
        log.warning("marked %d battles left generating by a previous process as failed", stale)

    jobs = JobRunner(services.sessions)
    jobs.add("leaderboard-refresh", settings.leaderboard.refresh_seconds, services.leaderboard.refresh_all)
    jobs.add("anomaly-scan", settings.anomaly_scan_seconds, services.review.scan)
    jobs.add("model-status", 30.0, services.models.reload_status, exclusive=False)
    if settings.release.enabled:
        jobs.add("release-schedule", 3600.0, services.releases.run_scheduled)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        jobs.start()
        yield
        jobs.shutdown()
        await services.aclose()

    app = FastAPI(title="Arena", version="0.1.0", lifespan=lifespan)
    app.state.services = services
    app.add_middleware(VoteFastPath, services=services)
    install_error_handlers(app)
    app.include_router(build_api(services))
    app.include_router(build_admin_api(services))
    app.include_router(build_release_api(services.releases, services.voters, services.releases.releases_dir))

    @app.api_route("/api/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
                   include_in_schema=False)
    def unrouted(rest: str, request: Request) -> JSONResponse:
        # Without this, unknown /api paths would fall through to the UI mount and answer in its own shape.
        return JSONResponse(status_code=404, content={"error": {
            "message": f"no such endpoint: {request.method} /api/{rest} (the API is listed at /docs)",
            "type": "NotFoundError"}})

    @app.get("/media/{sha256}", include_in_schema=False)
    def media(sha256: str) -> Response:
        return media_response(services, sha256)

    @app.get("/corpus/wordnet/{synset_id}", include_in_schema=False, response_class=HTMLResponse)
    def corpus_entry(synset_id: str) -> HTMLResponse:
        return corpus_page(services, synset_id)

    demo = build_ui(services)
    demo.queue(default_concurrency_limit=None, max_size=2048)
    return gr.mount_gradio_app(app, demo, path="/", css=CSS, js=LISTEN_JS, theme=build_theme(), footer_links=[],
                               ssr_mode=False)
