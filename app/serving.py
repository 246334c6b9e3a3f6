"""`vouch serve`: the API on one process, or on several that each listen for themselves.

With several processes sharing one listening socket (uvicorn's `--workers`), whichever
process wakes first accepts every connection waiting: a client that opens its
connections together (a load balancer, a benchmark's 16) lands them all on one process,
and the others stay idle. Here each process opens its own socket on the same port with
`SO_REUSEPORT`, and the kernel spreads new connections between them.

The processes share their metrics through a folder the supervisor makes for the run
(`PROMETHEUS_MULTIPROC_DIR`), so that /metrics from any of them counts the requests of
all; and each process sends its log lines through the app's formatter
(`app/observability/logs.py`).
"""

import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.process import BaseProcess
from typing import Any, Literal

import uvicorn
from prometheus_client import multiprocess

from app.config import get_settings
from app.limits.connections import GuardedHttpProtocol
from app.observability.logs import configure_logging
from app.observability.metrics import MULTIPROC_ENV

APP = "app.main:create_app"
log = logging.getLogger("vouch.serve")

LogFormat = Literal["auto", "json", "text"]


def options() -> dict[str, Any]:
    """How the API is served, by one process or several: the app from its factory, the
    client's address from a proxy's X-Forwarded-For, logging left to the app (uvicorn's
    access log off: the app writes one line per request itself), and the abuse limits on
    connections (`app.limits.connections`: head and body timeouts, head caps; uvicorn's
    keep-alive timeout, concurrency limit and graceful shutdown), from the settings."""
    settings = get_settings()
    return {
        "factory": True,
        "proxy_headers": True,
        "log_config": None,
        "access_log": False,
        "http": GuardedHttpProtocol,
        "timeout_keep_alive": settings.keep_alive_seconds,
        "limit_concurrency": settings.max_concurrency,
        "timeout_graceful_shutdown": settings.graceful_shutdown_seconds,
    }


def _config(host: str, port: int, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(APP, host=host, port=port, log_level=log_level, **options())


def _bound(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _serve_one(host: str, port: int, log_level: str, log_format: LogFormat) -> None:
    """One worker process: its own socket on the shared port, and uvicorn on it (which
    shuts down gracefully on SIGTERM or SIGINT)."""
    configure_logging(log_level, log_format)
    own = _bound(host, port, reuse_port=True)
    uvicorn.Server(_config(host, port, log_level)).run(sockets=[own])


def serve(host: str, port: int, workers: int, log_level: str, log_format: LogFormat) -> None:
    configure_logging(log_level, log_format)
    if workers > 1 and hasattr(socket, "SO_REUSEPORT"):
        with shared_metrics() as directory:
            _supervise(host, port, workers, log_level, log_format, directory)
        return
    if workers == 1:
        uvicorn.run(APP, host=host, port=port, log_level=log_level, **options())
        return
    # Where the system lacks SO_REUSEPORT: uvicorn's own workers.
    with shared_metrics():
        uvicorn.run(APP, host=host, port=port, workers=workers, log_level=log_level, **options())


@contextmanager
def shared_metrics() -> Iterator[str]:
    """A fresh, empty folder for the worker processes' metric files, named in the
    environment they inherit; removed with everything in it at the end."""
    directory = tempfile.mkdtemp(prefix="vouch-metrics-")
    os.environ[MULTIPROC_ENV] = directory
    try:
        yield directory
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(directory, ignore_errors=True)


def _supervise(
    host: str, port: int, workers: int, log_level: str, log_format: LogFormat, metrics_dir: str
) -> None:
    """Start `workers` processes, start again any that dies, and stop them all on SIGTERM
    or SIGINT."""
    # The port is free, or this fails now, clearly: a socket without SO_REUSEPORT cannot
    # join another server's group of sockets (its processes would share our connections).
    try:
        _bound(host, port, reuse_port=False).close()
    except OSError as exc:
        raise SystemExit(f"error: cannot listen on {host}:{port}: {exc.strerror}") from exc
    context = multiprocessing.get_context("spawn")
    stopping = False

    def stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def start() -> BaseProcess:
        process = context.Process(target=_serve_one, args=(host, port, log_level, log_format))
        process.start()
        return process

    processes = [start() for _ in range(workers)]
    log.info("serving on http://%s:%d with %d processes", host, port, workers)
    while not stopping:
        time.sleep(0.5)
        for n, process in enumerate(processes):
            if not stopping and not process.is_alive():
                log.warning(
                    "worker process %s ended (%s); starting another", process.pid, process.exitcode
                )
                # Its counters stay (they are the requests it answered); what the client
                # library keeps only for live processes goes.
                multiprocess.mark_process_dead(process.pid, metrics_dir)
                processes[n] = start()
    for process in processes:
        if process.is_alive() and process.pid is not None:
            process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
    deadline = time.monotonic() + 30
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()
