"""`vouch serve` and `vouch worker` as real processes, for the tests that kill them."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

import httpx
import pytest

from app.config import Settings
from tests.support.live_server import free_port, listening_sockets

VOUCH = Path(sys.executable).parent / "vouch"


def wait_for(check: Callable[[], bool], what: str, seconds: float = 60) -> float:
    """Wait until `check()` holds; return the seconds it took (fails the test past
    `seconds`)."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > seconds:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)
    return time.monotonic() - started


def healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/v1/healthz", timeout=2).is_success
    except httpx.HTTPError:
        return False


def base_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a `vouch` process on `database_url`, with no setting of this
    shell's own, search unreachable and the workers off unless `extra` says otherwise."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("VOUCH_")},
        "VOUCH_DATABASE_URL": database_url,
        "VOUCH_MEILI_URL": "http://127.0.0.1:9",
        "VOUCH_SEARCH_WORKER_IN_PROCESS": "false",
        "VOUCH_NOTIFICATION_WORKER_IN_PROCESS": "false",
        "VOUCH_LOG_LEVEL": "WARNING",
        **extra,
    }


def vouch_env(settings: Settings, **extra: str) -> dict[str, str]:
    """`base_env` on the test's database, with the test's secret and its cheap, generous
    settings (password hashing, login and write limits)."""
    return base_env(
        settings.database_url,
        VOUCH_SECRET_KEY=settings.secret_key,
        VOUCH_LOGIN_ATTEMPTS_PER_MINUTE=str(settings.login_attempts_per_minute),
        VOUCH_WRITE_RATE_PER_MINUTE=str(settings.write_rate_per_minute),
        VOUCH_ARGON2_TIME_COST=str(settings.argon2_time_cost),
        VOUCH_ARGON2_MEMORY_KIB=str(settings.argon2_memory_kib),
        **extra,
    )


def search_env(settings: Settings) -> dict[str, str]:
    """The settings that point a `vouch` process at the test's own Meilisearch index."""
    return {
        "VOUCH_MEILI_URL": settings.meili_url,
        "VOUCH_MEILI_KEY": settings.meili_key,
        "VOUCH_MEILI_INDEX": settings.meili_index,
    }


def worker_env(settings: Settings, smtp_port: int, **extra: str) -> dict[str, str]:
    """The environment of a `vouch worker` on the test's database and Meilisearch index,
    sending email to the test's mail server on `smtp_port`, logging errors only."""
    return vouch_env(
        settings,
        **search_env(settings),
        VOUCH_SMTP_HOST="127.0.0.1",
        VOUCH_SMTP_PORT=str(smtp_port),
        VOUCH_LOG_LEVEL="ERROR",
        **extra,
    )


class VouchProcess:
    """A `vouch` command in its own process group, started again on demand."""

    def __init__(
        self, argv: list[str], env: dict[str, str], stderr: IO[bytes] | None = None
    ) -> None:
        self.argv = argv
        self.env = env
        self.stderr = stderr
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(VOUCH), *self.argv],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stderr=self.stderr,
            start_new_session=True,
        )

    def stop(self) -> None:
        """SIGTERM, as a service manager stops it; then SIGKILL to what is left of its
        process group (a supervisor killed alone would leave its workers running)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=30)
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def kill(self) -> None:
        """SIGKILL to the whole process group: no handler runs, nothing is flushed."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class VouchServer(VouchProcess):
    """`vouch serve` on a free port."""

    def __init__(
        self, env: dict[str, str], workers: int = 1, stderr: IO[bytes] | None = None
    ) -> None:
        self.port = free_port()
        self.workers = workers
        argv = ["serve", "--port", str(self.port), "--workers", str(workers)]
        super().__init__(argv, env, stderr)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def start_and_wait(self) -> float:
        """Start the server; return the seconds until it answered."""
        self.start()

        def up() -> bool:
            if not self.alive():
                pytest.fail(f"vouch {' '.join(self.argv)} ended before it answered")
            return healthy(self.port)

        return wait_for(up, "the API to start")


@contextmanager
def vouch_serve(
    database_url: str, workers: int, env: dict[str, str], stderr: IO[bytes] | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """`vouch serve --workers N` on `database_url` (`base_env` with `env` on top); yields
    the process and its port once every worker listens, and stops it at the end."""
    server = VouchServer(base_env(database_url, **env), workers, stderr)
    try:
        server.start_and_wait()
        wait_for(lambda: listening_sockets(server.port) == workers, "every worker to listen")
        assert server.process is not None
        yield server.process, server.port
    finally:
        server.stop()


def workers_of(pid: int) -> list[int]:
    """The server's worker processes: its children, less multiprocessing's resource
    tracker."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        if parent == pid and b"resource_tracker" not in command:
            found.append(int(entry.name))
    return found
