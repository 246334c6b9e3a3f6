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


def test_upgrade_keeps_existing_content(databases: DatabaseFactory) -> None:
    """A database holding content from the first release migrates to head with it intact
    (the validation migration rebuilds `answers`, which other tables reference)."""
    url = databases.empty_url()
    upgrade(url, "0002")
    engine = create_db_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO topics (id, slug, name, description, required_endorsements, "
                "created_at) VALUES (1, 'claims', 'Claims', '', 1, '2026-01-01 00:00:00')"
            )
            conn.exec_driver_sql(
                "INSERT INTO users (id, username, display_name, password_hash, roles, active, "
                "reputation, created_at) VALUES (1, 'rep', 'Rep', 'x', '[\"rep\"]', true, 0, "
                "'2026-01-01 00:00:00')"
            )
            conn.exec_driver_sql(
                "INSERT INTO questions (id, topic_id, author_id, title, body, status, revision, "
                "created_at, updated_at) VALUES (1, 1, 1, 'An old question here', 'Body', "
                "'open', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
            conn.exec_driver_sql(
                "INSERT INTO answers (id, question_id, author_id, body, state, score, revision, "
                "created_at, updated_at) VALUES (1, 1, 1, 'An old answer', 'unreviewed', 0, 1, "
                "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
            conn.exec_driver_sql(
                "INSERT INTO answer_revisions (id, answer_id, number, body, editor_id, created_at) "
                "VALUES (1, 1, 1, 'An old answer', 1, '2026-01-01 00:00:00')"
            )
            conn.exec_driver_sql(
                "INSERT INTO comments (id, question_id, answer_id, author_id, body, created_at) "
                "VALUES (1, 1, 1, 1, 'A comment', '2026-01-01 00:00:00')"
            )
        upgrade(url)
        with engine.connect() as conn:
            answer = conn.exec_driver_sql("SELECT topic_id, open_flags FROM answers").one()
            revisions = conn.exec_driver_sql("SELECT count(*) FROM answer_revisions").scalar()
            comments = conn.exec_driver_sql("SELECT count(*) FROM comments").scalar()
    finally:
        engine.dispose()
    assert tuple(answer) == (1, 0)
    assert (revisions, comments) == (1, 1)
