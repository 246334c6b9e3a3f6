"""A private, throw-away PostgreSQL server for tests and benchmarks."""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
from pathlib import Path

import psycopg
from psycopg import sql

from app import postgres_tools
from app.postgres_tools import PostgresNotFound as PostgresNotFound

DATABASE = "vouch_test"
SERVER_USER = "nobody"  # PostgreSQL refuses to run as root, so root hands the server to this user.


class PostgresStartError(RuntimeError):
    """The ephemeral server could not be initialised or started."""


def find_bindir() -> Path:
    """The folder holding initdb and pg_ctl ($VOUCH_PG_BINDIR first), or PostgresNotFound."""
    return postgres_tools.find_bindir("initdb", os.environ.get("VOUCH_PG_BINDIR"))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


class EphemeralPostgres:
    """A PostgreSQL server in its own temp folder: 127.0.0.1 only, trust auth, no durability
    (unless asked for).

    Use as `with EphemeralPostgres() as pg: create_engine(pg.url)`; the server and its folder
    are gone after the block (or at interpreter exit, whichever comes first).
    """

    def __init__(self, bindir: Path | None = None, durable: bool = False) -> None:
        """`durable`: PostgreSQL's default fsync and synchronous commit (the write
        benchmark's setting); the tests run without them."""
        self._bindir = bindir
        self._durable = durable
        self._dir: Path | None = None
        self._port: int | None = None
        self._running = False

    @property
    def port(self) -> int:
        """The TCP port the server listens on (kept after stop() for diagnostics)."""
        if self._port is None:
            raise RuntimeError("EphemeralPostgres has not been started")
        return self._port

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the `vouch_test` database."""
        return self._url(DATABASE)

    @property
    def directory(self) -> Path | None:
        """The temp folder holding data, log and socket; None when not started or stopped."""
        return self._dir

    def _url(self, name: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def _as_server_user(self, argv: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return argv
        if runuser := shutil.which("runuser"):
            return [runuser, "-u", SERVER_USER, "--", *argv]
        user = pwd.getpwnam(SERVER_USER)
        if setpriv := shutil.which("setpriv"):
            ids = [f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
            return [setpriv, *ids, "--", *argv]
        if su := shutil.which("su"):
            return [su, "-s", "/bin/sh", SERVER_USER, "-c", shlex.join(argv)]
        raise PostgresStartError("running as root needs runuser, setpriv or su to drop privileges")

    def _run(self, argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
        # cwd: the server user may not be allowed into the caller's working directory.
        argv = self._as_server_user(argv)
        return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=60)

    def _hand_to_server_user(self, base: Path) -> None:
        user = pwd.getpwnam(SERVER_USER)
        for parent in base.parents:
            if not parent.stat().st_mode & stat.S_IXOTH and parent.stat().st_uid != user.pw_uid:
                raise PostgresStartError(
                    f"{parent} is not traversable by {SERVER_USER}; set TMPDIR to e.g. /tmp"
                )
        os.chown(base, user.pw_uid, user.pw_gid)

    def start(self) -> EphemeralPostgres:
        """Create, initialise and start the server with database `vouch_test`; return self.

        Calling it on a started instance does nothing. On failure everything is cleaned up and
        PostgresStartError carries the tail of the server log.
        """
        if self._dir is not None:
            return self
        bindir = self._bindir = self._bindir or find_bindir()
        base = self._dir = Path(tempfile.mkdtemp(prefix="vouch-pg-"))
        atexit.register(self.stop)
        data, log = base / "data", base / "log"
        try:
            if os.geteuid() == 0:
                self._hand_to_server_user(base)
            initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
            init = self._run([*initdb, "--encoding=UTF8", "--locale=C", "--no-sync"], base)
            if init.returncode != 0:
                raise PostgresStartError(f"initdb failed:\n{init.stdout}\n{init.stderr}")
            self._running = True  # from here on stop() must try to halt a server
            for _ in range(3):  # another process may grab the free port before the server does
                self._port = _free_port()
                started = self._pg_ctl_start(base)
                if started.returncode == 0 or "already in use" not in _tail(log):
                    break
            if started.returncode != 0:
                raise PostgresStartError(
                    f"pg_ctl start failed: {started.stderr.strip()}\nserver log:\n{_tail(log)}"
                )
            self.create_database(DATABASE)
        except BaseException:
            self.stop()
            raise
        return self

    def _pg_ctl_start(self, base: Path) -> subprocess.CompletedProcess[str]:
        opts = (
            f"-p {self.port} -k {shlex.quote(str(base))} -c listen_addresses=127.0.0.1"
            " -c max_connections=200"
        )
        if not self._durable:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        pg_ctl = Path(self._bindir or find_bindir(), "pg_ctl")
        ctl = [str(pg_ctl), "-D", str(base / "data"), "-l", str(base / "log"), "-t", "30"]
        return self._run([*ctl, "-o", opts, "-w", "start"], base)

    def pause(self) -> None:
        """Stop the server as an operator would (`pg_ctl stop -m fast`: sessions are ended,
        what was committed stays), keeping its folder and port for `resume()`."""
        base = self._require_dir()
        data, pg_ctl = base / "data", Path(self._bindir or find_bindir(), "pg_ctl")
        halted = self._run([str(pg_ctl), "-D", str(data), "-m", "fast", "-w", "stop"], base)
        if halted.returncode != 0:
            raise PostgresStartError(f"pg_ctl stop failed: {halted.stderr.strip()}")

    def resume(self) -> None:
        """Start a paused server again on the same port."""
        base = self._require_dir()
        started = self._pg_ctl_start(base)
        if started.returncode != 0:
            raise PostgresStartError(
                f"pg_ctl start failed: {started.stderr.strip()}\nserver log:\n{_tail(base / 'log')}"
            )

    def _require_dir(self) -> Path:
        if self._dir is None:
            raise RuntimeError("EphemeralPostgres has not been started")
        return self._dir

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create database `name` (empty, or a copy of `template`); return its SQLAlchemy URL."""
        if not self._running:
            raise RuntimeError("EphemeralPostgres is not running")
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template is not None:
                statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            conn.execute(statement)
        return self._url(name)

    def drop_database(self, name: str) -> None:
        """Drop database `name`, closing any connection still open to it."""
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def stop(self) -> None:
        """Kill the server immediately and delete its folder; safe to call any number of times."""
        base, self._dir = self._dir, None
        if base is None:
            return
        atexit.unregister(self.stop)
        if self._running:
            self._running = False
            data, pg_ctl = base / "data", Path(self._bindir or find_bindir(), "pg_ctl")
            halt = self._run([str(pg_ctl), "-D", str(data), "-m", "immediate", "stop"], base)
            if halt.returncode != 0:
                # Last resort so no orphan postmaster outlives its deleted data folder.
                with contextlib.suppress(OSError, ValueError, IndexError):
                    pid = int((data / "postmaster.pid").read_text().split()[0])
                    os.kill(pid, signal.SIGQUIT)
        shutil.rmtree(base, ignore_errors=True)

    def __enter__(self) -> EphemeralPostgres:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
