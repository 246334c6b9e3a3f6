"""Test harness: a fresh database per test, built from the migrations, on SQLite or PostgreSQL.

`pytest --db postgres` (or VOUCH_TEST_DB=postgres) starts a private PostgreSQL
server for the session; the default is SQLite. The schema is migrated once into a
template, and each test gets a copy of it.
"""

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.auth import passwords
from app.config import Settings, get_settings
from app.db import Database
from app.main import create_app
from app.migrate import upgrade
from search.local_server import LocalMeilisearch
from tests.factories import People
from tests.search.harness import search_settings, start_meilisearch
from tests.support.postgres import EphemeralPostgres
from tests.support.smtp import SmtpServer
from tests.support.webhook_receiver import Receiver

TEMPLATE_DB = "vouch_template"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgres"),
        default=os.environ.get("VOUCH_TEST_DB", "sqlite"),
        help="database backend for the suite (default sqlite; env VOUCH_TEST_DB)",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"vouch database backend: {config.getoption('--db')}"


class DatabaseFactory:
    """Hands out fresh, fully migrated databases."""

    def __init__(self, backend: str, workdir: Path) -> None:
        self.backend = backend
        self.workdir = workdir
        self._counter = itertools.count(1)
        self._pg: EphemeralPostgres | None = None
        if backend == "postgres":
            self._pg = EphemeralPostgres().start()
            upgrade(self._pg.create_database(TEMPLATE_DB))
        else:
            self._template = workdir / "template.db"
            upgrade(f"sqlite:///{self._template}")

    def empty_url(self) -> str:
        """A database with no schema at all (for migration tests)."""
        n = next(self._counter)
        if self._pg is not None:
            return self._pg.create_database(f"vouch_empty_{n}")
        return f"sqlite:///{self.workdir / f'empty-{n}.db'}"

    def migrated_url(self) -> str:
        n = next(self._counter)
        if self._pg is not None:
            return self._pg.create_database(f"vouch_test_{n}", template=TEMPLATE_DB)
        path = self.workdir / f"test-{n}.db"
        shutil.copyfile(self._template, path)
        return f"sqlite:///{path}"

    def release(self, url: str) -> None:
        """Drop a test database once its test is done, so a long run does not fill the disk."""
        if self._pg is not None:
            self._pg.drop_database(url.rsplit("/", 1)[1])
        else:
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)

    def close(self) -> None:
        if self._pg is not None:
            self._pg.stop()


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--db"))


@pytest.fixture(scope="session")
def databases(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(backend, tmp_path_factory.mktemp("databases"))
    yield factory
    factory.close()


@pytest.fixture(scope="session")
def meili_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalMeilisearch]:
    """A real Meilisearch for the session, started by the first test marked `search`."""
    yield from start_meilisearch(tmp_path_factory.mktemp("meilisearch"))


@pytest.fixture
def settings(databases: DatabaseFactory, request: pytest.FixtureRequest) -> Iterator[Settings]:
    test_settings = Settings(
        environment="test",
        database_url=databases.migrated_url(),
        secret_key="test-secret",
        # High enough that tests logging many people in never trip it; the rate-limit
        # tests build their own settings.
        login_attempts_per_minute=10_000,
        # Likewise for writes: every write still counts (the statement runs in every
        # test), but no test writing in bulk reaches the limit.
        write_rate_per_minute=100_000,
        # Cheap hashes keep people-making fast; production keeps the strong default.
        argon2_time_cost=1,
        argon2_memory_kib=64,
        # Tests marked `search` get an index of their own; tests drain the outbox themselves.
        **search_settings(request),
        search_worker_in_process=False,
        notification_worker_in_process=False,
        # Webhook receivers in the tests are on this machine; the bad-URL tests turn the
        # default refusal of private and loopback targets back on.
        webhook_allow_private=True,
        _env_file=None,  # type: ignore[call-arg]
    )
    yield test_settings
    databases.release(test_settings.database_url)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    passwords.configure(settings.argon2_time_cost, settings.argon2_memory_kib)
    database = Database(settings.database_url)
    yield database
    database.dispose()


@pytest.fixture
def client(settings: Settings, db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings, db), base_url="http://testserver/api/v1") as test_client:
        yield test_client


@pytest.fixture
def people(client: TestClient, db: Database) -> People:
    return People(client, db)


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The command line (`vouch ...` through typer's runner) pointed at the test database."""
    monkeypatch.setenv("VOUCH_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("VOUCH_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("VOUCH_ARGON2_MEMORY_KIB", "64")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on a free port, keeping what it receives."""
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A local HTTP server that keeps the webhook calls it receives."""
    server = Receiver().start()
    yield server
    server.stop()
