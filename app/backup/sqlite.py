"""SQLite's side of a backup: the online backup API, from a live file and back."""

import sqlite3
from pathlib import Path

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from app.db import Database


def database_path(url: str) -> Path:
    name = make_url(url).database
    if not name or name == ":memory:":
        raise ValueError("an in-memory SQLite database cannot be backed up or restored into")
    return Path(name)


def copy_out(db: Database, target: Path) -> None:
    """Copy the live database to `target` in one step of the backup API: it reads one
    consistent state of the file while writers go on (WAL), and a step that is not
    the whole file would start over whenever one of them commits."""
    with db.engine.connect() as conn:
        source = conn.connection.driver_connection
        assert isinstance(source, sqlite3.Connection)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy, pages=-1)
            # One self-contained file: no -wal beside it.
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()


def copy_in(source: Path, url: str) -> None:
    """Write the backed-up file `source` into the database at `url` with the backup API."""
    target = database_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    backup = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    live = sqlite3.connect(target)
    try:
        backup.backup(live, pages=-1)
    finally:
        backup.close()
        live.close()


def table_count(conn: Connection) -> int:
    """Tables, views and indexes in the file: 0 in an empty database."""
    return int(
        conn.execute(
            text("SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
        ).scalar_one()
    )
