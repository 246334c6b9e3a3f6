"""`vouch serve`: the API on one process, or on several that each listen for themselves.

With several processes sharing one listening socket (uvicorn's `--workers`), whichever
process wakes first accepts every connection waiting: a client that opens its
connections together (a load balancer, a benchmark's 16) lands them all on one process,
and the others stay idle. Here each process opens its own socket on the same port with
`SO_REUSEPORT`, and the kernel spreads new connections between them.
"""

import logging
import multiprocessing
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from typing import Any

import uvicorn

from app.config import get_settings
from app.limits.connections import GuardedHttpProtocol

APP = "app.main:create_app"
log = logging.getLogger("vouch.serve")


def options() -> dict[str, Any]:
    """How the API is served, by one process or several: the app from its factory, the
    client's address from a proxy's X-Forwarded-For, and the abuse limits on connections
    (`app.limits.connections`: head and body timeouts, head caps; uvicorn's keep-alive
    timeout, concurrency limit and graceful shutdown), from the settings."""
    settings = get_settings()
    return {
        "factory": True,
        "proxy_headers": True,
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


def _serve_one(host: str, port: int, log_level: str) -> None:
    """One worker process: its own socket on the shared port, and uvicorn on it (which
    shuts down gracefully on SIGTERM or SIGINT)."""
    own = _bound(host, port, reuse_port=True)
    uvicorn.Server(_config(host, port, log_level)).run(sockets=[own])


def serve(host: str, port: int, workers: int, log_level: str) -> None:
    if workers > 1 and hasattr(socket, "SO_REUSEPORT"):
        _supervise(host, port, workers, log_level)
        return
    # One process; or, where the system lacks SO_REUSEPORT, uvicorn's own workers.
    uvicorn.run(APP, host=host, port=port, workers=workers, log_level=log_level, **options())


def _supervise(host: str, port: int, workers: int, log_level: str) -> None:
    """Start `workers` processes, start again any that dies, and stop them all on SIGTERM
    or SIGINT."""
    logging.basicConfig(level=log_level.upper())
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
        process = context.Process(target=_serve_one, args=(host, port, log_level))
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
