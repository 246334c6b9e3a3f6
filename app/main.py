"""The application factory."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI

from app import health, openapi, problem_handlers, web
from app.answers.router import router as answers_router
from app.audit.router import router as audit_router
from app.auth import passwords
from app.auth.oidc import Provider
from app.auth.router import router as auth_router
from app.comments.router import router as comments_router
from app.config import Settings, get_settings
from app.db import Database
from app.middleware import PageCompression, RequestContextMiddleware
from app.notifications.router import router as notifications_router
from app.notifications.worker import start_notification_workers
from app.observability.router import router as metrics_router
from app.questions.router import router as questions_router
from app.recognition.router import router as recognition_router
from app.resources.router import router as resources_router
from app.reviews.router import router as reviews_router
from app.search_api.router import router as search_router
from app.signals.router import router as signals_router
from app.topics.router import router as topics_router
from app.users.router import router as users_router
from app.web import errors as web_errors
from search.client import Searcher
from search.worker import start_search_worker

API_PREFIX = "/api/v1"


def api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    for domain in (
        # First: the busiest routes are matched soonest, and `/questions/similar` must
        # come before the questions router, which would take it for an id.
        search_router,
        health.router,
        auth_router,
        users_router,
        topics_router,
        questions_router,
        answers_router,
        comments_router,
        audit_router,
        reviews_router,
        signals_router,
        resources_router,
        recognition_router,
        notifications_router,
    ):
        router.include_router(domain)
    return router


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """Build the API; tests pass their own settings and database."""
    settings = settings or get_settings()
    logging.basicConfig(level=settings.log_level.upper())
    db = database or Database(settings.database_url)
    passwords.configure(settings.argon2_time_cost, settings.argon2_memory_kib)

    searcher = Searcher(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        workers = [start_search_worker(db, settings), *start_notification_workers(db, settings)]
        yield
        for worker in workers:
            if worker is not None:
                worker.stop()
        searcher.close()
        if database is None:
            db.dispose()

    app = FastAPI(
        title="Vouch",
        version="0.1.0",
        summary="Questions answered by colleagues, validated by experts.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.searcher = searcher
    app.state.oidc = Provider(settings) if settings.sso_on else None
    problem_handlers.install(app, page_errors=web_errors.error_page)
    app.include_router(api_router())
    app.include_router(metrics_router)
    openapi.install(app)
    web.install(app)
    app.add_middleware(PageCompression)
    app.add_middleware(
        RequestContextMiddleware,
        max_body_bytes=settings.max_body_bytes,
        max_url_bytes=settings.max_url_bytes,
        form_targets=(origin_of(settings.oidc_issuer),) if settings.sso_on else (),
    )
    return app
