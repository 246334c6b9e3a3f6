"""Running the `vouch` command line as a real process, against a test's settings."""

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.config import Settings
from tests.support import served
from tests.support.served import VOUCH


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str

    @property
    def report(self) -> dict[str, Any]:
        """The JSON report a verify command prints as its first line."""
        return dict(json.loads(self.stdout.splitlines()[0]))


def vouch_env(settings: Settings, database_url: str | None = None) -> dict[str, str]:
    """The environment of a `vouch` process on `settings` (or another database), with the
    test's Meilisearch."""
    return served.vouch_env(
        settings,
        VOUCH_DATABASE_URL=database_url or settings.database_url,
        **served.search_env(settings),
        VOUCH_PG_BINDIR=os.environ.get("VOUCH_PG_BINDIR", ""),
    )


def run_vouch(env: dict[str, str], cwd: Path, *args: str | Path) -> Ran:
    """`vouch ARGS...` in `cwd` (where no .env lies), to its end."""
    done = subprocess.run(
        [str(VOUCH), *map(str, args)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


def run_in_process(env: dict[str, str], *args: str | Path) -> Ran:
    """`vouch ARGS...` through typer's runner in this process, with `env` as its
    environment: the same command, without the start-up of a process."""
    from typer.testing import CliRunner

    from app.cli import app as cli
    from app.config import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, [str(arg) for arg in args], env=env)
    finally:
        get_settings.cache_clear()
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)
