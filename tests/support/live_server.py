"""Serving the app over real HTTP: in a background thread, for tests that need concurrency,
or as `vouch serve` in a subprocess."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

import httpx
import uvicorn
from fastapi import FastAPI


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


LISTEN, ESTABLISHED = "0A", "01"  # states as /proc/net/tcp writes them


def tcp_sockets(port: int, state: str) -> list[str]:
    """The inodes of the TCP sockets on local `port` in `state` (Linux; none where
    /proc/net/tcp is not)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
                found.append(fields[9])
    return found


def listening_sockets(port: int) -> int:
    """How many sockets listen on local TCP `port`: one per process of `vouch serve
    --workers N`, each with its own."""
    return len(tcp_sockets(port, LISTEN))


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """Run `app` under uvicorn on a free port; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def wait_for(check: Callable[[], bool], what: str, seconds: float = 60) -> None:
    """Poll `check` until it holds; fail the test after `seconds`."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).is_success
    except httpx.HTTPError:
        return False


@contextmanager
def vouch_serve(
    database_url: str, workers: int, env: dict[str, str], stderr: IO[bytes] | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """`vouch serve --workers N` in a subprocess on a free port, its workers stopped and
    search unreachable, with `env` on top; yields the process and the port once every
    worker listens. Stopped at the end if it still runs: SIGTERM, then SIGKILL to its
    whole process group (a supervisor killed alone would leave its workers running)."""
    port = free_port()
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith("VOUCH_")},
        "VOUCH_DATABASE_URL": database_url,
        "VOUCH_MEILI_URL": "http://127.0.0.1:9",
        "VOUCH_SEARCH_WORKER_IN_PROCESS": "false",
        "VOUCH_NOTIFICATION_WORKER_IN_PROCESS": "false",
        "VOUCH_LOG_LEVEL": "WARNING",
        **env,
    }
    vouch = Path(sys.executable).parent / "vouch"
    process = subprocess.Popen(
        [str(vouch), "serve", "--port", str(port), "--workers", str(workers)],
        env=environment,
        stdin=subprocess.DEVNULL,
        stderr=stderr,
        start_new_session=True,
    )
    try:
        wait_for(lambda: answers(f"http://127.0.0.1:{port}/api/v1/healthz"), "the API to start")
        wait_for(lambda: listening_sockets(port) == workers, "every worker to listen")
        yield process, port
    finally:
        if process.poll() is None:
            process.terminate()
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
