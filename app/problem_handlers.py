"""Render every error as an RFC 9457 problem document."""

import logging
import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import AppError, problem_body

log = logging.getLogger("vouch.http")

PROBLEM_JSON = "application/problem+json"

_API_ROOT = "/api/"
# The API's own documentation pages, and the metrics for a scraper: the API's, not the web
# interface's (their errors are problem documents).
_API_PAGES = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/metrics"})


def is_api_path(path: str) -> bool:
    """Whether `path` belongs to the JSON API (problem documents) rather than a web page."""
    return path.startswith(_API_ROOT) or path in _API_PAGES


_HTTP_PROBLEMS = {
    400: ("bad-request", "Bad request"),
    404: ("not-found", "Not found"),
    403: ("forbidden", "Forbidden"),
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


# Renders an error for a web page instead of a problem document: (request, status,
# title, detail, headers) → response. Installed by the web interface.
PageErrors = Callable[[Request, int, str, str, dict[str, str]], Response]


def install(app: FastAPI, page_errors: PageErrors | None = None) -> None:
    """Register the handlers that turn exceptions into problem responses (or, for a web
    page, into the error page `page_errors` renders)."""

    def respond(
        request: Request,
        status: int,
        problem: str,
        title: str,
        detail: str,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> Response:
        if page_errors is not None and not is_api_path(request.url.path):
            return page_errors(request, status, title, detail, headers or {})
        return problem_response(status, problem, title, detail, headers=headers, **extra)

    @app.exception_handler(AppError)
    def _app_error(request: Request, exc: AppError) -> Response:
        return respond(
            request, exc.status, exc.problem, exc.title, exc.detail, exc.headers, **exc.extra
        )

    @app.exception_handler(RequestValidationError)
    def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = _validation_errors(exc)
        if any(e["field"].startswith("path.") for e in errors) and not is_api_path(
            request.url.path
        ):
            # /questions/abc names no page, whatever the reason it cannot be read.
            return respond(request, 404, "not-found", "Not found", "There is no such page.")
        fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
        return respond(
            request,
            422,
            "validation-error",
            "Invalid request",
            f"Invalid fields: {fields}.",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    def _http(request: Request, exc: StarletteHTTPException) -> Response:
        slug, title = _HTTP_PROBLEMS.get(exc.status_code, ("http-error", "HTTP error"))
        headers = dict(exc.headers or {})
        if exc.status_code == 405 and (allow := allowed_methods(app, request.url.path)):
            headers["Allow"] = allow
        return respond(request, exc.status_code, slug, title, str(exc.detail), headers)

    @app.exception_handler(IntegrityError)
    def _conflict(request: Request, exc: IntegrityError) -> Response:
        # Reached only when two requests race for the same unique row.
        log.info("integrity conflict: %s", exc.orig)
        return respond(
            request,
            409,
            "conflict",
            "Conflict",
            "The change conflicts with one made at the same moment; retry.",
        )

    @app.exception_handler(OperationalError)
    def _unavailable(request: Request, exc: OperationalError) -> Response:
        log.warning("database unavailable: %s", exc.orig)
        return respond(
            request,
            503,
            "database-unavailable",
            "Database unavailable",
            "The database could not complete the request; retry shortly.",
            {"Retry-After": "1"},
        )


def allowed_methods(app: FastAPI, path: str) -> str | None:
    """The methods the API documents for `path` (a literal path before a template), or
    None for a path it does not document. Starlette's 405 names only the methods of the
    first route that matched, and FastAPI makes one route per method."""
    paths = app.openapi()["paths"]
    if path not in paths:
        path = next((t for t in paths if re.fullmatch(re.sub(r"\{[^}/]+\}", "[^/]+", t), path)), "")
    return ", ".join(sorted(m.upper() for m in paths[path])) if path else None
