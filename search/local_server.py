"""Run a private Meilisearch process on 127.0.0.1 for development and tests."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import httpx

from search.binary import ensure_meilisearch

MASTER_KEY_FILE = "master.key"
LOG_FILE = "meilisearch.log"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def load_or_create_master_key(data_dir: Path) -> str:
    """Return the master key stored in `data_dir/master.key`, creating it (mode 0600) if absent.

    The first call makes a random key; every later call, from any process, returns that same key.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / MASTER_KEY_FILE
    if not path.exists():
        # mkstemp makes the file 0600; os.link publishes it whole and fails if another
        # process got there first, so nobody ever reads a half-written or second key.
        fd, tmp_name = tempfile.mkstemp(dir=data_dir, prefix=".master-", suffix=".key")
        try:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(32) + "\n")
            with contextlib.suppress(FileExistsError):
                os.link(tmp_name, path)
        finally:
            os.unlink(tmp_name)
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"{path} is empty: delete it to have a new key generated")
    return key


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalMeilisearch:
    """A Meilisearch process whose database, dumps, snapshots and log all live in `data_dir`.

    Use as `with LocalMeilisearch(path) as meili: ...` or call `start()` and `stop()`.
    Without `master_key`, the key kept in `data_dir/master.key` is used (created if absent).
    Without `port`, a free port is picked at `start()`.
    """

    def __init__(
        self, data_dir: Path, port: int | None = None, master_key: str | None = None
    ) -> None:
        # Absolute: the server runs with data_dir as its working directory.
        self.data_dir = Path(data_dir).resolve()
        self._port = port
        self._master_key = master_key
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL of the server, e.g. `http://127.0.0.1:7700`; known once a port is set."""
        if self._port is None:
            raise RuntimeError("no port yet: call start() first")
        return f"http://127.0.0.1:{self._port}"

    @property
    def master_key(self) -> str:
        """The master key the server is (or will be) started with."""
        if self._master_key is None:
            self._master_key = load_or_create_master_key(self.data_dir)
        return self._master_key

    @property
    def log_path(self) -> Path:
        """The file that receives the server's stdout and stderr."""
        return self.data_dir / LOG_FILE

    def start(self) -> None:
        """Launch the server and return once `GET /health` reports `available`.

        Raises `RuntimeError` carrying the end of the log if it exits or is not
        healthy within 30 seconds (the process is stopped in that case).
        """
        if self._process is not None:
            raise RuntimeError("this LocalMeilisearch is already running")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        binary = ensure_meilisearch()
        if self._port is None:
            self._port = free_port()
        args = [
            str(binary),
            *("--db-path", str(self.data_dir / "data.ms")),
            *("--http-addr", f"127.0.0.1:{self._port}"),
            *("--dump-dir", str(self.data_dir / "dumps")),
            *("--snapshot-dir", str(self.data_dir / "snapshots")),
            *("--env", "development"),
            "--no-analytics",
        ]
        # Meilisearch also reads MEILI_* variables and ./config.toml; drop both so the
        # instance is exactly what we ask for. The key goes in MEILI_MASTER_KEY rather than
        # --master-key because any local user can read a process's arguments, not its env.
        env = {k: v for k, v in os.environ.items() if not k.startswith("MEILI_")}
        env["MEILI_MASTER_KEY"] = self.master_key
        self._log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            args,
            cwd=self.data_dir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            # Its own session: a Ctrl-C meant for the caller must not kill the server before
            # the caller has finished with it; stop() ends it.
            start_new_session=True,
        )
        try:
            self._wait_until_healthy()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Terminate the server (killing it if it lingers past 10 s); safe to call twice."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _wait_until_healthy(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        # trust_env=False: a proxy from the environment must not sit between us and loopback.
        with httpx.Client(trust_env=False, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if (code := self._process.poll()) is not None:
                    raise RuntimeError(f"meilisearch exited with status {code}\n{self._log_tail()}")
                try:
                    response = client.get(f"{self.url}/health")
                    if response.status_code == 200 and response.json().get("status") == "available":
                        return
                except (httpx.HTTPError, ValueError):
                    pass
                time.sleep(0.1)
        raise RuntimeError(
            f"meilisearch not healthy at {self.url} after {START_TIMEOUT_S:.0f}s\n"
            + self._log_tail()
        )

    def _log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "--- end of meilisearch log ---\n" + "\n".join(text.splitlines()[-lines:])


def run_beside(data_dir: Path, command: list[str], port: int | None = None) -> int:
    """Run `command` with a local Meilisearch beside it; stop the server when it exits.

    The command sees `VOUCH_MEILI_URL` and `VOUCH_MEILI_KEY` pointing at the server.
    Returns the command's exit status.
    """
    with LocalMeilisearch(data_dir, port=port) as server:
        print(f"meilisearch {server.url} (data and master key in {data_dir})", flush=True)
        env = {**os.environ, "VOUCH_MEILI_URL": server.url, "VOUCH_MEILI_KEY": server.master_key}
        # The command gets its own process group, and we hand it each SIGINT or SIGTERM
        # exactly once, whether it came from a terminal's Ctrl-C or from `kill`.
        child = subprocess.Popen(command, env=env, process_group=0)

        def forward(signum: int, _frame: object) -> None:
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signum)

        previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            return child.wait()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    """`python -m search.local_server DATA_DIR [--port N] -- COMMAND ...`"""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m search.local_server",
        description="Run COMMAND beside a private Meilisearch kept in DATA_DIR.",
    )
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--port", type=int, default=None, help="default: a free port")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="after --")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    return run_beside(args.data_dir, command, args.port)


if __name__ == "__main__":
    raise SystemExit(main())
