"""Metrics and logs under load: what /metrics and the JSON log say beside what the load
generator itself counted.

    .venv/bin/python -m bench.ops_bench [--threads 300] [--seconds 3] [--web-workers 2]

A private PostgreSQL (fsync off: this measures what the service reports, not the disk),
`--threads` threads seeded as the write benchmark does, then `vouch serve --workers N`
with JSON logs at INFO and a metrics token. The write benchmark's load generator sends
each of its four writes for `--seconds` at concurrency 16, then `GET /healthz` 2,000
times at concurrency 1. After the load, one scrape of /metrics: per route, the requests
counted (all statuses, summed over the processes) and the p95 read from the latency
histogram (interpolated within its bucket, as Prometheus's histogram_quantile does),
beside the client's own count and p95; then the access lines in the server's log.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from app.auth.passwords import configure
from app.db import Database
from app.migrate import upgrade
from bench.common import api_server, postgres
from bench.search_bench import http_client, p95
from bench.write_bench import CONCURRENCY, WRITES, drive, seed, sign_in_people

TOKEN = "ops-bench-metrics-token"
ROUTES = {
    "POST /questions": "/api/v1/questions",
    "POST /questions/{id}/answers": "/api/v1/questions/{question_id}/answers",
    "POST /answers/{id}/reviews": "/api/v1/answers/{answer_id}/reviews",
    "POST /answers/{id}/votes": "/api/v1/answers/{answer_id}/votes",
}
HEALTHZ = "/api/v1/healthz"


def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """The `q` quantile of cumulative (upper bound, count) buckets, interpolated
    linearly within the bucket it falls in."""
    buckets = sorted(buckets)
    total = buckets[-1][1]
    if total == 0:
        return float("nan")
    rank = q * total
    lower, below = 0.0, 0.0
    for upper, count in buckets:
        if count >= rank:
            if upper == float("inf"):
                return lower
            return lower + (upper - lower) * (rank - below) / max(count - below, 1e-9)
        lower, below = upper, count
    return lower


def scraped(api_root: str) -> tuple[Counter[tuple[str, str]], dict[tuple[str, str], list]]:
    """Requests counted and latency buckets, by (method, route), all statuses summed."""
    text = httpx.get(f"{api_root}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).text
    counts: Counter[tuple[str, str]] = Counter()
    buckets: dict[tuple[str, str], dict[float, float]] = defaultdict(lambda: defaultdict(float))
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = (sample.labels.get("method", ""), sample.labels.get("route", ""))
            if sample.name == "vouch_http_requests_total":
                counts[key] += sample.value
            elif sample.name == "vouch_http_request_duration_seconds_bucket":
                buckets[key][float(sample.labels["le"])] += sample.value
    return counts, {k: sorted(v.items()) for k, v in buckets.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=3.0, help="per write")
    parser.add_argument("--web-workers", type=int, default=2)
    args = parser.parse_args()
    print(f"command: python -m bench.ops_bench {' '.join(sys.argv[1:])}".rstrip())
    print(f"machine: {os.cpu_count()} cores; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    configure(1, 64)
    with postgres() as url, tempfile.TemporaryDirectory(prefix="vouch-ops-bench-") as tmp:
        upgrade(url)
        db = Database(url)
        answers = seed(db, args.threads)
        db.dispose()
        log_path = Path(tmp) / "server.log"
        env = {
            "VOUCH_LOG_LEVEL": "INFO",
            "VOUCH_LOG_FORMAT": "json",
            "VOUCH_METRICS_TOKEN": TOKEN,
            "VOUCH_SEARCH_WORKER_IN_PROCESS": "false",
            "VOUCH_MEILI_URL": "http://127.0.0.1:9",
        }
        with log_path.open("wb") as log, api_server(url, args.web_workers, log, **env) as api:
            root = api.removesuffix("/api/v1")
            tokens = sign_in_people(api)
            before, before_buckets = scraped(root)
            results = []
            for write in WRITES:
                top = answers if "/answers/{id}" in write.name else args.threads
                targets = [1 + (n * 7919) % top for n in range(20_000)]
                results.append(
                    drive(api, tokens[write.who], write, targets, args.seconds, CONCURRENCY)
                )
            healthz: list[float] = []
            with http_client() as client:
                for _ in range(2000):
                    began = time.perf_counter()
                    client.get(f"{api}/healthz")
                    healthz.append((time.perf_counter() - began) * 1000)
            after, after_buckets = scraped(root)
        lines = log_path.read_text().splitlines()

    def delta(key: tuple[str, str]) -> tuple[float, float]:
        old = dict(before_buckets.get(key, []))
        new = [(le, n - old.get(le, 0.0)) for le, n in after_buckets.get(key, [])]
        return after[key] - before[key], histogram_quantile(0.95, new) * 1000

    print(
        f"\n{args.web_workers} API processes, concurrency {CONCURRENCY} for {args.seconds} s "
        f"per write, then GET /healthz x2000 at concurrency 1; one scrape after the load:"
    )
    print("| route | client requests | /metrics requests | client p95 ms | /metrics p95 ms |")
    print("| --- | --- | --- | --- | --- |")
    for r in results:
        made = len(r.latencies) + sum(r.errors.values())
        counted, p95_metrics = delta(("POST", ROUTES[r.name]))
        print(
            f"| POST {ROUTES[r.name]} | {made} | {counted:.0f} | {p95(r.latencies):.1f} | "
            f"{p95_metrics:.1f} |"
        )
    counted, p95_metrics = delta(("GET", HEALTHZ))
    print(
        f"| GET {HEALTHZ} | {len(healthz)} | {counted:.0f} | {p95(healthz):.2f} | "
        f"{p95_metrics:.1f} |"
    )
    print(f"GET /healthz at concurrency 1: median {statistics.median(healthz):.2f} ms")

    parsed = [json.loads(line) for line in lines if line.strip()]
    access = Counter(
        f"{line['method']} {line['route']}" for line in parsed if line["logger"] == "vouch.access"
    )
    others = Counter(line["logger"] for line in parsed if line["logger"] != "vouch.access")
    print(
        f"\nserver log: {len(lines)} lines, all JSON; {sum(access.values())} access lines "
        f"(one per request, scrapes and sign-ins included); others by logger: "
        + ", ".join(f"{name} {n}" for name, n in others.most_common())
    )
    for name, n in access.most_common(6):
        print(f"  {name}: {n} access lines")


if __name__ == "__main__":
    main()
