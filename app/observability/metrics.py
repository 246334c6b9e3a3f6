"""The counters the service keeps as it runs: requests, login failures, search failures,
deliveries.

In one process they live in memory. Under `vouch serve --workers N` the supervisor gives
every worker process the same `PROMETHEUS_MULTIPROC_DIR` (see `app/serving.py`): the
client library then writes each process's values to files there, and a scrape from any
process sums the files of all of them (`app/observability/router.py`).
"""

import os
import threading

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics

# The variable the client library itself reads, at import, to choose where values live;
# read here only to agree with it (it is not one of Vouch's settings).
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# This process's metrics; never the library's default registry, which would add the
# client's own process and garbage-collector metrics in one mode and not the other.
REGISTRY = CollectorRegistry()
# No `_created` series beside each counter: the multiprocess mode has none either, and
# they would double what a scrape carries.
disable_created_metrics()

# Seconds: the write path's target is p95 <= 100 ms, a search's ~50 ms.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# Requests that reached no route (unknown paths, and those the middleware refused before
# routing) share this label: a raw path as a label would grow without bound.
UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

HTTP_REQUESTS = Counter(
    "vouch_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "vouch_http_request_duration_seconds",
    "Time from a request's arrival to its response's end, by method, route template and status.",
    ["method", "route", "status"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
LOGIN_FAILURES = Counter(
    "vouch_login_failures",
    "Refused logins (POST /auth/token and the sign-in page), by reason: unknown-user, "
    "bad-password, inactive, rate-limited, local-login-off, and single sign-on's own.",
    ["reason"],
    registry=REGISTRY,
)
SEARCH_FAILURES = Counter(
    "vouch_search_failures",
    "Failures the search relay saw in this process, by reason: task_failed (Meilisearch "
    "finished a task unsuccessfully), meilisearch_error (an error answer or no answer), "
    "index_settings, index_check, unexpected.",
    ["reason"],
    registry=REGISTRY,
)
DELIVERIES = Counter(
    "vouch_deliveries",
    "Delivery tries recorded in this process, by channel (email, webhook) and outcome: "
    "sent, failed (to be tried again), dead (given up), dropped (nobody left to tell).",
    ["channel", "outcome"],
    registry=REGISTRY,
)

_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
_children_lock = threading.Lock()


def method_label(method: str) -> str:
    """The method, or `other` for one HTTP does not define (a label must stay bounded)."""
    return method if method in _METHODS else "other"


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request and its duration (a dictionary look-up, an increment
    and an observation: a few microseconds). `method` as `method_label` gives it."""
    key = (method, route, status)
    found = _children.get(key)
    if found is None:
        with _children_lock:
            found = (
                HTTP_REQUESTS.labels(key[0], route, str(status)),
                HTTP_DURATION.labels(key[0], route, str(status)),
            )
            _children[key] = found
    counter, histogram = found
    counter.inc()
    histogram.observe(seconds)


def multiprocess_dir() -> str | None:
    """The folder the worker processes share their values in; None in one process."""
    return os.environ.get(MULTIPROC_ENV) or None
