"""Render every error as an RFC 9457 problem document."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import AppError, problem_body

log = logging.getLogger("vouch.http")

PROBLEM_JSON = "application/problem+json"

_HTTP_PROBLEMS = {
    400: ("bad-request", "Bad request"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("payload-too-large", "Request body too large"),
}


def problem_response(
    status: int,
    problem: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    return JSONResponse(
        problem_body(status, problem, title, detail, **extra),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _field_name(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {
            "field": _field_name(tuple(err.get("loc", ()))),
            "message": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in exc.errors()
    ]


def install(app: FastAPI) -> None:
    """Register the handlers that turn exceptions into problem responses."""

    @app.exception_handler(AppError)
    def _app_error(_request: Request, exc: AppError) -> JSONResponse:
        return problem_response(
            exc.status, exc.problem, exc.title, exc.detail, headers=exc.headers, **exc.extra
        )

    @app.exception_handler(RequestValidationError)
    def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
        return problem_response(
            422,
            "validation-error",
            "Invalid request",
            f"Invalid fields: {fields}.",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug, title = _HTTP_PROBLEMS.get(exc.status_code, ("http-error", "HTTP error"))
        return problem_response(
            exc.status_code, slug, title, str(exc.detail), headers=dict(exc.headers or {})
        )

    @app.exception_handler(IntegrityError)
    def _conflict(_request: Request, exc: IntegrityError) -> JSONResponse:
        # Reached only when two requests race for the same unique row.
        log.info("integrity conflict: %s", exc.orig)
        return problem_response(
            409,
            "conflict",
            "Conflict",
            "The change conflicts with one made at the same moment; retry.",
        )

    @app.exception_handler(OperationalError)
    def _unavailable(_request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", exc.orig)
        return problem_response(
            503,
            "database-unavailable",
            "Database unavailable",
            "The database could not complete the request; retry shortly.",
            headers={"Retry-After": "1"},
        )
