"""The web interface: server-rendered pages beside the API, on the same services.

`install(app)` mounts the static files, the page routes (every state-changing one
behind the CSRF check) and the error pages.
"""

from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from app.web import (
    admin,
    admin_notifications,
    answers,
    audit,
    auth,
    errors,
    learning_needs,
    notifications,
    profile,
    questions,
    recognition,
    reviews,
    search,
    sso,
    tokens,
    unsubscribe,
)
from app.web.session import verify_csrf

STATIC = Path(__file__).parent / "static"

# Each area's page routes; `search` first, so /search is not read as anything else.
AREAS = (
    auth.router,
    sso.router,
    search.router,
    questions.router,
    answers.router,
    reviews.router,
    learning_needs.router,
    notifications.router,
    recognition.router,
    profile.router,
    tokens.router,
    audit.router,
    admin.router,
    admin_notifications.router,
)


def pages() -> APIRouter:
    router = APIRouter(
        include_in_schema=False,
        default_response_class=HTMLResponse,
        dependencies=[Depends(verify_csrf)],
    )
    for area in AREAS:
        router.include_router(area)
    return router


def install(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(pages())
    # Outside the CSRF check: its POST is a mail client's one-click unsubscribe, where
    # the signed token is the proof and no form of ours carries a CSRF token.
    app.include_router(
        unsubscribe.router, include_in_schema=False, default_response_class=HTMLResponse
    )
    errors.install(app)
