"""PostgreSQL's side of a backup: pg_dump of one exported snapshot, pg_restore of it."""

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from app.db import Database
from app.postgres_tools import find_bindir


class ToolFailed(RuntimeError):
    """pg_dump or pg_restore exited with an error; the message holds what it said."""


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """`url` as libpq takes it, without its password, and the environment that carries it
    (so it does not show in the process list)."""
    sa_url = make_url(url)
    env = dict(os.environ)
    if sa_url.password:
        env["PGPASSWORD"] = str(sa_url.password)
    plain = sa_url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


@contextmanager
def snapshot(db: Database) -> Iterator[tuple[Connection, str]]:
    """A read-only REPEATABLE READ transaction and the id of its exported snapshot: what
    the connection reads and what pg_dump --snapshot dumps are the same instant."""
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with conn.begin():
            snapshot_id = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            yield conn, str(snapshot_id)


def _run(
    argv: list[str], env: dict[str, str], watch: Path | None, advance: Callable[[int], None]
) -> None:
    with subprocess.Popen(
        argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    ) as process:
        seen = 0
        while process.poll() is None:
            time.sleep(0.2)
            if watch is not None and watch.exists():
                size = watch.stat().st_size
                advance(size - seen)
                seen = size
        assert process.stderr is not None
        said = process.stderr.read().decode(errors="replace").strip()
    if process.returncode != 0:
        last = said.splitlines()[-1] if said else f"exit code {process.returncode}"
        raise ToolFailed(f"{Path(argv[0]).name} failed: {last}")


def program(name: str, bindir: str = "") -> Path:
    """The path of PostgreSQL's `name` (pg_dump, pg_restore); PostgresNotFound if none."""
    return find_bindir(name, bindir or None) / name


def dump(
    url: str,
    snapshot_id: str,
    target: Path,
    bindir: str = "",
    advance: Callable[[int], None] = lambda n: None,
) -> None:
    """pg_dump the database at `url` as it is in `snapshot_id`, custom format, to `target`."""
    libpq, env = _libpq(url)
    argv = [
        str(program("pg_dump", bindir)),
        "--format=custom",
        f"--snapshot={snapshot_id}",
        "--no-password",
    ]
    _run([*argv, f"--file={target}", f"--dbname={libpq}"], env, target, advance)


def restore(url: str, source: Path, bindir: str = "") -> None:
    """pg_restore `source` into the (empty) database at `url`, all or nothing."""
    libpq, env = _libpq(url)
    argv = [str(program("pg_restore", bindir)), "--no-owner", "--no-privileges", "--exit-on-error"]
    argv += ["--single-transaction", "--no-password", f"--dbname={libpq}", str(source)]
    _run(argv, env, None, lambda n: None)


def table_count(conn: Connection) -> int:
    """Tables, views and sequences outside PostgreSQL's own schemas: 0 in an empty database."""
    return int(
        conn.execute(
            text(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
                " AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
                " AND n.nspname NOT LIKE 'pg_toast%'"
            )
        ).scalar_one()
    )
