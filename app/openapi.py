"""The OpenAPI document says what the API really answers: its errors as RFC 9457 problems,
and the links by which one call's new id feeds the next.

FastAPI documents each route's own success and a 422 of its own shape. Every route also
answers the problems of the layers around it (the token check, the body guard, the
database handler), so those are added here, from what each operation has: security →
401 and 403; path parameters, or a topic to filter by → 404; a body → 413 and 415;
a body or any parameter → 400 (a body that is no JSON, a NUL in the URL, a cursor not
issued here) and 414 (a URL over the cap); a write → 409 (two changes at the same
moment), and by a signed-in user 429 (the write rate); and every route that touches
the database → 503.
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem document.",
    "type": "object",
    "properties": {
        "type": {"type": "string", "examples": ["/problems/not-found"]},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "For invalid input: one entry per field.",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                },
                "required": ["field", "message"],
            },
        },
        "request_id": {"type": "string"},
    },
    "required": ["type", "title", "status", "detail"],
}

_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer"},
    }
}
DESCRIPTIONS = {
    400: "Bad request: a body that does not parse, a cursor this API did not issue, a NUL "
    "character in the URL.",
    401: "No valid bearer token (for a login: a wrong username or password).",
    403: "The signed-in user may not do this (role, topic or ownership).",
    404: "No such record, or one the signed-in user may not see.",
    409: "A change made at the same moment, or one that no longer applies; retry.",
    413: "The request body is larger than the server accepts.",
    414: "The URL (path and query string) is longer than the server accepts.",
    415: "The request body is not JSON.",
    422: "Invalid input: `errors` names each field.",
    429: "Too many requests; `Retry-After` says when to try again.",
    503: "The database (or, for search, the search engine) is unavailable; retry shortly.",
}
# Query parameters that name a record (a topic's slug): a name that is no record is a 404.
_NAMES_A_RECORD = frozenset({"topic"})
_WRITES = frozenset({"post", "put", "patch", "delete"})
_NO_DATABASE = frozenset({"/api/v1/healthz"})
# Operations that also answer 401 and 429 without a token: login and its throttling.
_THROTTLED = frozenset({("post", "/api/v1/auth/token")})

# (operation that creates, response field) → operations that take it as a parameter.
LINKS: dict[tuple[str, str], dict[str, tuple[str, str, str]]] = {
    ("post", "/api/v1/questions"): {
        "GetQuestion": ("get", "/api/v1/questions/{question_id}", "question_id"),
        "EditQuestion": ("patch", "/api/v1/questions/{question_id}", "question_id"),
        "DeleteQuestion": ("delete", "/api/v1/questions/{question_id}", "question_id"),
        "AnswerQuestion": ("post", "/api/v1/questions/{question_id}/answers", "question_id"),
        "CommentOnQuestion": ("post", "/api/v1/questions/{question_id}/comments", "question_id"),
        "QuestionRevisions": ("get", "/api/v1/questions/{question_id}/revisions", "question_id"),
    },
    ("post", "/api/v1/questions/{question_id}/answers"): {
        "EditAnswer": ("patch", "/api/v1/answers/{answer_id}", "answer_id"),
        "DeleteAnswer": ("delete", "/api/v1/answers/{answer_id}", "answer_id"),
        "ReviewAnswer": ("post", "/api/v1/answers/{answer_id}/reviews", "answer_id"),
        "VoteOnAnswer": ("post", "/api/v1/answers/{answer_id}/votes", "answer_id"),
        "FlagAnswer": ("post", "/api/v1/answers/{answer_id}/flags", "answer_id"),
        "CommentOnAnswer": ("post", "/api/v1/answers/{answer_id}/comments", "answer_id"),
        "AnswerRevisions": ("get", "/api/v1/answers/{answer_id}/revisions", "answer_id"),
    },
    ("post", "/api/v1/users"): {
        "EditUser": ("patch", "/api/v1/users/{user_id}", "user_id"),
    },
    ("post", "/api/v1/topics"): {
        "EditTopic": ("patch", "/api/v1/topics/{slug}", "slug"),
        "TopicResources": ("get", "/api/v1/topics/{slug}/resources", "slug"),
        "AddResource": ("post", "/api/v1/topics/{slug}/resources", "slug"),
    },
    ("post", "/api/v1/auth/tokens"): {
        "RevokePersonalToken": ("delete", "/api/v1/auth/tokens/{token_id}", "token_id"),
    },
    ("post", "/api/v1/webhooks"): {
        "DeleteWebhook": ("delete", "/api/v1/webhooks/{webhook_id}", "webhook_id"),
    },
}
_LINK_FIELD = {"slug": "slug"}  # the created record's field for each parameter; else `id`


def install(app: FastAPI) -> None:
    """Make `app.openapi()` return the completed document (built once)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
            )
            app.openapi_schema = complete(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status in _statuses(path, method, operation):
                operation["responses"][str(status)] = _problem(status)
    _link(schema)
    return schema


def _statuses(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    parameters = operation.get("parameters", [])
    statuses = []
    if parameters or "requestBody" in operation:
        # A body that is not JSON at all; a cursor not issued here; a NUL in the URL.
        statuses.append(400)
    if operation.get("security"):
        statuses += [401, 403]
    elif (method, path) in _THROTTLED:
        statuses += [401, 403]  # 403: passwords turned off (VOUCH_LOCAL_LOGIN=false)
    if any(p["in"] == "path" or p["name"] in _NAMES_A_RECORD for p in parameters):
        statuses.append(404)
    if method in _WRITES:
        statuses.append(409)
    if "requestBody" in operation:
        statuses += [413, 415]
    if parameters or "requestBody" in operation:
        statuses.append(422)
    if parameters:
        statuses.append(414)  # a URL over the cap (VOUCH_MAX_URL_BYTES)
    if (method, path) in _THROTTLED or (method in _WRITES and operation.get("security")):
        statuses.append(429)  # login throttling; the per-user write rate
    if path not in _NO_DATABASE:
        statuses.append(503)
    return statuses


def _problem(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {"description": DESCRIPTIONS[status], "content": _PROBLEM}
    if status in (429, 503):
        response["headers"] = _RETRY_AFTER
    return response


def _link(schema: dict[str, Any]) -> None:
    paths = schema["paths"]
    for (method, path), targets in LINKS.items():
        responses = paths[path][method]["responses"]
        created = responses.get("201") or responses["200"]
        created["links"] = {
            name: {
                "operationRef": f"#/paths/{_pointer(target)}/{target_method}",
                "parameters": {param: f"$response.body#/{_LINK_FIELD.get(param, 'id')}"},
            }
            for name, (target_method, target, param) in targets.items()
            if target_method in paths.get(target, {})
        }


def _pointer(path: str) -> str:
    """`path` as one JSON pointer token (RFC 6901)."""
    return path.replace("~", "~0").replace("/", "~1")


API_PREFIX = "/api/v1"


def _is_list(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "array" or any(_is_list(s) for s in schema.get("anyOf", []))


def single_valued_queries(schema: dict[str, Any]) -> dict[tuple[str, str], frozenset[str]]:
    """(method, path template) → the query parameters that take one value, as documented."""
    table: dict[tuple[str, str], frozenset[str]] = {}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            table[(method.upper(), path)] = frozenset(
                p["name"]
                for p in operation.get("parameters", [])
                if p["in"] == "query" and not _is_list(p.get("schema", {}))
            )
    return table


async def refuse_repeated_parameters(request: Request) -> None:
    """422 for a query parameter of one value given more than once (`?limit=5&limit=9`):
    the framework would take the last one quietly, which is not what the schema says."""
    if len(request.query_params) == len(request.query_params.multi_items()):
        return  # nothing repeated: the usual case costs one comparison
    table = getattr(request.app.state, "single_valued_queries", None)
    if table is None:
        table = single_valued_queries(request.app.openapi())
        request.app.state.single_valued_queries = table
    path = getattr(request.scope.get("route"), "path_format", "")
    method = "GET" if request.method == "HEAD" else request.method
    # Routes of included routers know their path below the API's prefix (FastAPI keeps
    # routers nested), or whole (older versions flattened them).
    single = table.get((method, path)) or table.get((method, API_PREFIX + path), frozenset())
    names = [name for name, _ in request.query_params.multi_items()]
    repeated = sorted({name for name in single if names.count(name) > 1})
    if repeated:
        raise RequestValidationError(
            [
                {"loc": ("query", name), "msg": "Give this parameter once.", "type": "repeated"}
                for name in repeated
            ]
        )
