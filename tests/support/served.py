"""`vouch serve` and `vouch worker` as real processes, for the tests that kill them."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from tests.support.live_server import free_port

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


def vouch_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a `vouch` process on the test's database, with no setting of
    this shell's own, the workers off unless `extra` turns them on."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("VOUCH_")},
        "VOUCH_DATABASE_URL": settings.database_url,
        "VOUCH_SECRET_KEY": settings.secret_key,
        "VOUCH_MEILI_URL": "http://127.0.0.1:9",
        "VOUCH_SEARCH_WORKER_IN_PROCESS": "false",
        "VOUCH_NOTIFICATION_WORKER_IN_PROCESS": "false",
        "VOUCH_LOGIN_ATTEMPTS_PER_MINUTE": str(settings.login_attempts_per_minute),
        "VOUCH_WRITE_RATE_PER_MINUTE": str(settings.write_rate_per_minute),
        "VOUCH_ARGON2_TIME_COST": str(settings.argon2_time_cost),
        "VOUCH_ARGON2_MEMORY_KIB": str(settings.argon2_memory_kib),
        "VOUCH_LOG_LEVEL": "WARNING",
        **extra,
    }


class VouchProcess:
    """A `vouch` command in its own process group, started again on demand."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.argv = argv
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(VOUCH), *self.argv],
            env=self.env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL to the whole process group: no handler runs, nothing is flushed."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class VouchServer(VouchProcess):
    """`vouch serve` on a free port."""

    def __init__(self, env: dict[str, str], workers: int = 1) -> None:
        self.port = free_port()
        super().__init__(["serve", "--port", str(self.port), "--workers", str(workers)], env)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def start_and_wait(self) -> float:
        """Start the server; return the seconds until it answered."""
        self.start()
        return wait_for(lambda: self.alive() and healthy(self.port), "the API to start")
