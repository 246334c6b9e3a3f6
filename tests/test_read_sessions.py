"""Read sessions (every GET request's) on PostgreSQL: autocommit connections that the
server keeps read-only, so a read path that writes fails loudly instead of writing
outside a transaction."""

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import DBAPIError

from app.db import Database
from app.topics.models import Topic


def test_a_read_session_refuses_writes(db: Database, backend: str) -> None:
    if backend != "postgres":
        pytest.skip("SQLite read sessions are ordinary deferred transactions")
    refused = pytest.raises(DBAPIError, match="read-only transaction")
    with db.session(write=False) as session, refused:
        session.execute(insert(Topic).values(slug="claims", name="Claims", description=""))
    with db.session(write=False) as session:
        assert session.execute(select(func.count()).select_from(Topic)).scalar_one() == 0
