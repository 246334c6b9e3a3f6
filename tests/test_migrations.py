"""The migrations are the schema's source of truth: they build it, match the models, and revert."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from app.db import create_db_engine
from app.migrate import downgrade, upgrade
from app.models import Base
from tests.conftest import DatabaseFactory


def _tables(url: str) -> set[str]:
    engine = create_db_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_from_empty_builds_every_model_table(databases: DatabaseFactory) -> None:
    url = databases.empty_url()
    upgrade(url)
    assert _tables(url) == set(Base.metadata.tables)


def test_models_match_the_migrations(databases: DatabaseFactory) -> None:
    url = databases.empty_url()
    upgrade(url)
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def test_downgrade_to_base_removes_everything_and_upgrade_again_works(
    databases: DatabaseFactory,
) -> None:
    url = databases.empty_url()
    upgrade(url)
    downgrade(url, "base")
    assert _tables(url) == set()
    upgrade(url)
    assert _tables(url) == set(Base.metadata.tables)
