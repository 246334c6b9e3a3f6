"""Self-test of the throw-away PostgreSQL server used by tests and benchmarks."""

from __future__ import annotations

import socket
import time
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, text

if TYPE_CHECKING:
    from tests.support.postgres import EphemeralPostgres, PostgresNotFound, find_bindir
else:
    try:
        from tests.support.postgres import EphemeralPostgres, PostgresNotFound, find_bindir
    except ImportError:  # plain `pytest` puts tests/ on sys.path while tests/ is not a package
        from support.postgres import EphemeralPostgres, PostgresNotFound, find_bindir

try:
    find_bindir()
    _MISSING = ""
except PostgresNotFound as exc:
    _MISSING = str(exc)

pytestmark = pytest.mark.skipif(bool(_MISSING), reason=_MISSING or "binaries found")


def _query_one(url: str, query: str) -> object:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(query)).scalar_one()
    finally:
        engine.dispose()


def test_ephemeral_postgres_lifecycle() -> None:
    started = time.perf_counter()
    pg = EphemeralPostgres().start()
    try:
        assert time.perf_counter() - started < 10, "start-up should take a few seconds at most"
        assert pg.url == f"postgresql+psycopg://postgres@127.0.0.1:{pg.port}/vouch_test"
        version = str(_query_one(pg.url, "select version()"))
        assert version.startswith("PostgreSQL ")
        assert int(str(_query_one(pg.url, "show server_version_num"))) >= 150000, version
        assert _query_one(pg.url, "select current_database()") == "vouch_test"

        other = pg.create_database("harness_other")
        assert other.endswith(f":{pg.port}/harness_other")
        assert _query_one(other, "select current_database()") == "harness_other"
        folder = pg.directory
        assert folder is not None and folder.is_dir()
    finally:
        pg.stop()

    pg.stop()  # a second stop is a no-op
    assert pg.directory is None
    assert not folder.exists()
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", pg.port), 2):
        pass


def test_context_manager_cleans_up() -> None:
    with EphemeralPostgres() as pg:
        folder = pg.directory
        assert _query_one(pg.url, "select 1") == 1
    assert folder is not None and not folder.exists()
    assert pg.directory is None
