"""ASGI middleware: request ids, body limits, content types, a last-resort 500, and each
request's metrics and access log line."""

import html
import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import (
    AppError,
    InternalError,
    PayloadTooLarge,
    UnsupportedMediaType,
    UriTooLong,
    problem_body,
)
from app.observability.logs import ACCESS_LOGGER
from app.observability.metrics import method_label, observe_request
from app.observability.routes import RouteTemplates
from app.problem_handlers import is_api_path

log = logging.getLogger("vouch.http")
access_log = logging.getLogger(ACCESS_LOGGER)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _is_json(content_type: str | None) -> bool:
    media = _media_type(content_type)
    return media == "application/json" or media.endswith("+json")


_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def page_headers(form_targets: tuple[str, ...] = ()) -> list[tuple[bytes, bytes]]:
    """Every web page's headers: scripts and styles from this origin only (no inline
    script, no eval), never framed, no referrer beyond this site, and not kept in shared
    caches. Forms post here only, or to (or are redirected to) `form_targets`: the
    identity provider's origin, where signing out ends.
    """
    form_action = " ".join(["'self'", *form_targets])
    policy = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'; form-action {form_action}; frame-ancestors 'none'; "
        "base-uri 'none'; object-src 'none'"
    )
    return [
        (b"content-security-policy", policy.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    ]


_NO_STORE = (b"cache-control", b"no-store")
_PAGE_ERROR = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} · Vouch</title>'
    '<link rel="stylesheet" href="/static/style.css"></head><body><main class="page">'
    '<section class="error-page"><p class="error-page__status">Error {status}</p>'
    '<h1>{title}</h1><p>{detail}</p><p><a href="/">Back to the questions</a></p>'
    "</section></main></body></html>"
)


class _TooLarge(HTTPException):
    """Raised from `receive` when a body without Content-Length outgrows the cap.

    An HTTPException, because FastAPI re-raises those from body parsing (any other
    error becomes a 400) and its handler then renders the 413 problem.
    """

    def __init__(self, max_body_bytes: int) -> None:
        super().__init__(413, f"Request bodies are limited to {max_body_bytes} bytes.")


class PageCompression:
    """gzip for the web pages and their static files; the JSON API is left as it is, so
    its hot paths (search) spend no CPU on compression."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Level 3, not 9: the 224 KB thread page compresses in 0.7 instead of 2.4 ms, to
        # 12.9 instead of 9.4 KB.
        self.gzip = GZipMiddleware(app, minimum_size=1024, compresslevel=3)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not is_api_path(scope["path"]):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class RequestContextMiddleware:
    """Gives every request an id (echoed as `X-Request-ID`), says how long the server took
    (`Server-Timing`), and guards request bodies.

    A body larger than `max_body_bytes` gets 413 (JSON and forms alike), a URL (path and
    query string) longer than `max_url_bytes` 414, a body that is not JSON gets
    415, and any exception that escapes the application becomes a 500 problem
    that still carries the request id, so a user can quote it to support.

    Once answered, the request is counted by its route template and status
    (`vouch_http_requests_total`, `vouch_http_request_duration_seconds`) and logged as
    one `vouch.access` line: request id, user id, method, route template, status and
    duration; never the path, query, headers or body (they may carry secrets).
    """

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        max_url_bytes: int = 4096,
        form_targets: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.page_headers = page_headers(form_targets)
        self.max_body_bytes = max_body_bytes
        self.max_url_bytes = max_url_bytes
        self.routes = RouteTemplates()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        extra_headers = [(b"x-request-id", request_id.encode())]
        if not is_api_path(scope["path"]):
            extra_headers += self.page_headers
            if not scope["path"].startswith("/static/"):
                extra_headers.append(_NO_STORE)

        arrived = time.perf_counter()
        status = 500  # until a response starts: what the client gets if none does
        recorded = False

        def record() -> None:
            nonlocal recorded
            if not recorded:
                recorded = True
                self._record(scope, request_id, status, time.perf_counter() - arrived)

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.body" and not message.get("more_body"):
                # Counted before the last byte leaves, so a client that has its answer
                # and then reads /metrics finds its request counted.
                record()
            elif message["type"] == "http.response.start":
                status = message["status"]
                # The time the server took, from the request's arrival to its response
                # being ready to send (rendered and compressed): `Server-Timing`.
                took = f"app;dur={(time.perf_counter() - arrived) * 1000:.1f}".encode()
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    *extra_headers,
                    (b"server-timing", took),
                ]
            await send(message)

        async def problem(error: AppError) -> None:
            if is_api_path(scope["path"]):
                body = problem_body(error.status, error.problem, error.title, error.detail)
                encoded, media = json.dumps(body).encode(), b"application/problem+json"
            else:
                # A page's last resort: plain HTML, since the templates may be what failed.
                encoded = _PAGE_ERROR.format(
                    status=error.status,
                    title=html.escape(error.title),
                    detail=html.escape(error.detail),
                ).encode()
                media = b"text/html; charset=utf-8"
            await send_with_id(
                {
                    "type": "http.response.start",
                    "status": error.status,
                    "headers": [
                        (b"content-type", media),
                        (b"content-length", str(len(encoded)).encode()),
                    ],
                }
            )
            await send_with_id({"type": "http.response.body", "body": encoded})

        try:
            await self._answer(scope, receive, send_with_id, problem, request_id)
        finally:
            record()

    async def _answer(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        problem: Callable[[AppError], Awaitable[None]],
        request_id: str,
    ) -> None:
        """The request through the guards and the app; `send` adds the headers."""
        rejection = self._reject_url(scope) or self._reject_body(scope)
        if rejection is not None:
            await problem(rejection)
            return

        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise _TooLarge(self.max_body_bytes)
            return message

        async def send_noting_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, send_noting_start)
        except _TooLarge:
            if not started:
                await problem(self._too_large())
        except Exception:
            log.exception("unhandled error in request %s", request_id)
            if not started:
                await problem(
                    InternalError(
                        f"Something went wrong on our side; quote request id {request_id}."
                    )
                )

    def _record(self, scope: Scope, request_id: str, status: int, seconds: float) -> None:
        method, route = method_label(scope["method"]), self.routes.template(scope)
        observe_request(method, route, status, seconds)
        if not access_log.isEnabledFor(logging.INFO):
            return
        duration_ms = round(seconds * 1000, 2)
        user_id = scope.get("state", {}).get("user_id")
        client = scope.get("client")
        access_log.info(
            "%s %s %d %.1f ms request %s user %s",
            method,
            route,
            status,
            duration_ms,
            request_id,
            user_id if user_id is not None else "-",
            extra={
                "request_id": request_id,
                "user_id": user_id,
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": duration_ms,
                "client": client[0] if client else None,
            },
        )

    def _too_large(self) -> AppError:
        return PayloadTooLarge(f"Request bodies are limited to {self.max_body_bytes} bytes.")

    def _reject_url(self, scope: Scope) -> AppError | None:
        path = scope.get("raw_path") or scope["path"].encode()
        if len(path) + len(scope.get("query_string", b"")) > self.max_url_bytes:
            return UriTooLong(
                f"URLs (path and query string) are limited to {self.max_url_bytes} bytes."
            )
        # No path or query value may hold NUL: PostgreSQL text cannot, so a lookup would fail.
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            return AppError("The URL contains a NUL character (%00).")
        return None

    def _reject_body(self, scope: Scope) -> AppError | None:
        if scope["method"] not in _BODY_METHODS:
            return None
        length_header = _header(scope, b"content-length")
        try:
            length: Any = int(length_header) if length_header is not None else None
        except ValueError:
            return AppError("Content-Length is not a number.")
        if length is not None and length > self.max_body_bytes:
            return self._too_large()
        has_body = length is None and _header(scope, b"transfer-encoding") is not None
        if not (has_body or (length or 0) > 0):
            return None
        content_type = _header(scope, b"content-type")
        if is_api_path(scope["path"]):
            if not _is_json(content_type):
                return UnsupportedMediaType(
                    "Request bodies must be JSON (Content-Type: application/json)."
                )
        elif _media_type(content_type) not in _FORM_TYPES:
            return UnsupportedMediaType("Pages take form submissions only.")
        return None
