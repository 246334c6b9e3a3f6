from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.db import Database
from app.deps import get_database
from app.notifications import deliveries, fanout
from search.readiness import search_checks

router = APIRouter(tags=["health"])


def notification_checks(db: Database) -> dict[str, Any]:
    """Pieces of news not yet fanned out, deliveries waiting by channel and dead letters
    (None when the database cannot say)."""
    try:
        with db.session(write=False) as session:
            return {
                "notification_backlog": fanout.backlog(session),
                "delivery_backlog": deliveries.backlog(session),
                "dead_deliveries": deliveries.dead_count(session),
            }
    except Exception:
        return {"notification_backlog": None, "delivery_backlog": None, "dead_deliveries": None}


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: the database (and search) can serve")
def readyz(request: Request) -> JSONResponse:
    checks: dict[str, Any] = {}
    try:
        with get_database(request).engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unavailable: {type(exc).__name__}"
    ready = checks["database"] == "ok"
    # Search never makes the service unready: without it, reading and writing still work.
    checks.update(search_checks(request.app.state.settings, get_database(request)))
    checks.update(notification_checks(get_database(request)))
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", **checks}, status_code=200 if ready else 503
    )
