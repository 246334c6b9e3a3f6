"""`vouch worker`'s own GET /metrics: the counters only that process moves (the search
relay's failures, the deliveries it sent), which the API's /metrics cannot see when the
worker runs apart from it.

Served from a thread of the worker on `worker_metrics_host:worker_metrics_port` when the
port is set, under the same token rule as the API's endpoint. The database's gauges
(backlogs, their age, the audit head) are the API's to publish: every API process reads
them whoever runs the workers.
"""

import json
import threading
from collections.abc import Iterable
from http import HTTPStatus
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from fastapi.security.utils import get_authorization_scheme_param
from prometheus_client import make_wsgi_app

from app.config import Settings
from app.errors import AppError, NotFound, problem_body
from app.observability.metrics import REGISTRY
from app.observability.router import check_scraper


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass  # a scrape every few seconds is not worth a log line


def _bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, read as FastAPI's
    `HTTPBearer` reads it, or None."""
    scheme, token = get_authorization_scheme_param(header)
    return (token or None) if scheme.lower() == "bearer" else None


def _problem(error: AppError, start_response: StartResponse) -> Iterable[bytes]:
    problem = problem_body(error.status, error.problem, error.title, error.detail)
    body = json.dumps(problem).encode()
    start_response(
        f"{error.status} {HTTPStatus(error.status).phrase}",
        [
            ("Content-Type", "application/problem+json"),
            ("Content-Length", str(len(body))),
            *error.headers.items(),
        ],
    )
    return [body]


def metrics_app(settings: Settings) -> WSGIApplication:
    """GET /metrics with this process's counters, for the holder of the metrics token."""
    counters = make_wsgi_app(REGISTRY)

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            if environ.get("PATH_INFO") != "/metrics":
                raise NotFound("There is nothing here: the worker's metrics are at /metrics.")
            check_scraper(settings, _bearer(environ.get("HTTP_AUTHORIZATION")))
        except AppError as error:
            return _problem(error, start_response)
        return counters(environ, start_response)

    return app


def serve(settings: Settings) -> WSGIServer | None:
    """Start serving the worker's metrics in a thread; None when no port is set. Stop it
    with `shutdown()`."""
    if not settings.worker_metrics_port:
        return None
    server = make_server(
        settings.worker_metrics_host,
        settings.worker_metrics_port,
        metrics_app(settings),
        server_class=_Server,
        handler_class=_Quiet,
    )
    threading.Thread(target=server.serve_forever, name="vouch-worker-metrics", daemon=True).start()
    return server
