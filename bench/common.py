"""Shared pieces of the benchmarks: a private PostgreSQL, the API in a subprocess, timing."""

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.live_server import free_port, listening_sockets  # noqa: E402
from tests.support.postgres import EphemeralPostgres  # noqa: E402


@contextmanager
def postgres(durable: bool = False) -> Iterator[str]:
    """A throw-away PostgreSQL for the run; yields its SQLAlchemy URL. Without `durable`,
    fsync and synchronous commit are off (the other benchmarks measure the API, not the
    disk); with it, PostgreSQL's defaults."""
    with EphemeralPostgres(durable=durable) as pg:
        yield pg.url


@contextmanager
def api_server(
    database_url: str, workers: int = 1, log: IO[bytes] | None = None, **env: str
) -> Iterator[str]:
    """`vouch serve --workers N` in a subprocess (so the load generator does not share its
    GIL); the production image runs 2. `log`: a file for its standard error (its log)."""
    port = free_port()
    environment = {
        **os.environ,
        "VOUCH_DATABASE_URL": database_url,
        "VOUCH_LOG_LEVEL": "WARNING",
        "VOUCH_LOGIN_ATTEMPTS_PER_MINUTE": "100000",
        # Off: a benchmark client writes hundreds of times a minute as one person, which
        # is what the per-user write limit exists to refuse (docs/security.md).
        "VOUCH_WRITE_RATE_PER_MINUTE": "0",
        # Notifications are fanned out by `vouch worker`, as compose.yaml deploys it.
        "VOUCH_NOTIFICATION_WORKER_IN_PROCESS": "false",
        **env,
    }
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "vouch"),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        cwd=ROOT,
        env=environment,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the API did not start")
            time.sleep(0.1)
        # Every process listening (each on its own socket), so that connections opened
        # from now on are spread over all of them.
        while workers > 1 and listening_sockets(port) < workers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{workers} API processes did not all start listening")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def timed(call: Callable[[], object], repeat: int) -> list[float]:
    """Wall-clock milliseconds of `repeat` sequential calls."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def summary(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return (
        f"{name:<44} n={len(samples):<5} median={statistics.median(samples):7.2f} ms"
        f"  p95={p95:7.2f} ms"
    )
