"""The error tree. Every error the API reports is an `AppError` rendered as RFC 9457."""

from typing import Any

PROBLEM_BASE = "/problems/"


class AppError(Exception):
    """A failure the client can act on: an HTTP status, a problem type and a detail.

    `keep_changes` marks errors whose request must still commit what it wrote
    (a failed login still records its audit event).
    """

    status: int = 400
    problem: str = "bad-request"
    title: str = "Bad request"
    keep_changes: bool = False

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


class InvalidInput(AppError):
    status, problem, title = 422, "validation-error", "Invalid request"


class InvalidLink(AppError):
    status, problem, title = 400, "invalid-link", "Invalid link"


class InvalidCursor(AppError):
    status, problem, title = 400, "invalid-cursor", "Invalid cursor"


class NotAuthenticated(AppError):
    status, problem, title = 401, "not-authenticated", "Authentication required"

    def __init__(self, detail: str = "A valid bearer token is required.", **extra: Any):
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"}, **extra)


class InvalidCredentials(NotAuthenticated):
    problem, title = "invalid-credentials", "Invalid credentials"
    keep_changes = True


class Forbidden(AppError):
    status, problem, title = 403, "forbidden", "Forbidden"


class LocalLoginOff(Forbidden):
    """A password sign-in where passwords are turned off (`VOUCH_LOCAL_LOGIN=false`); the
    refused attempt's audit event is kept."""

    problem, title = "local-login-off", "Passwords are turned off"
    keep_changes = True


class SelfReview(Forbidden):
    problem, title = "self-review", "You may not review your own answer"


class OwnAnswerVote(Forbidden):
    problem, title = "own-answer", "You may not vote on your own answer"


class NotFound(AppError):
    status, problem, title = 404, "not-found", "Not found"


class Conflict(AppError):
    status, problem, title = 409, "conflict", "Conflict"


class PayloadTooLarge(AppError):
    status, problem, title = 413, "payload-too-large", "Request body too large"


class RequestTimeout(AppError):
    status, problem, title = 408, "request-timeout", "Request not received in time"


class UriTooLong(AppError):
    status, problem, title = 414, "uri-too-long", "URL too long"


class HeadersTooLarge(AppError):
    status, problem, title = 431, "headers-too-large", "Request headers too large"


class UnsupportedMediaType(AppError):
    status, problem, title = 415, "unsupported-media-type", "Unsupported media type"


class RateLimited(AppError):
    status, problem, title = 429, "rate-limited", "Too many attempts"

    def __init__(self, detail: str, retry_after: int):
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class InternalError(AppError):
    status, problem, title = 500, "internal-error", "Internal error"


class ServiceUnavailable(AppError):
    status, problem, title = 503, "service-unavailable", "Service unavailable"


def problem_body(
    status: int, problem: str, title: str, detail: str, **extra: Any
) -> dict[str, Any]:
    """An RFC 9457 problem document."""
    return {
        "type": PROBLEM_BASE + problem,
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
