"""Database plumbing: declarative base, engine factory, sessions and column types."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import (
    DateTime,
    Engine,
    Executable,
    MetaData,
    Row,
    Table,
    create_engine,
    event,
    insert,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.selectable import GenerativeSelect
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite waits this long for a competing writer before reporting "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 30_000


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend.

    SQLite has no time zones, so values are stored there as naive UTC and given
    their zone back when read.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use an aware UTC value")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; on SQLite: WAL, a busy timeout, foreign keys, explicit BEGIN.

    Sessions bound to `write_engine(engine)` start SQLite transactions with
    `BEGIN IMMEDIATE`, so concurrent writers queue on the busy timeout instead of
    failing when a read lock cannot be upgraded.
    """
    sa_url = make_url(url)
    if sa_url.get_backend_name() != "sqlite":
        # No ping per checkout: it is a round trip on every request. A connection found
        # dead (the server restarted) fails its request with a 503 and takes the pool's
        # older connections with it, so the next requests run on new ones. Connections
        # are renewed after half an hour, before a firewall forgets an idle one.
        kwargs.setdefault("pool_pre_ping", False)
        kwargs.setdefault("pool_recycle", 1800)
        return create_engine(url, **kwargs)

    database = sa_url.database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    connect_args = kwargs.pop("connect_args", {})
    connect_args.setdefault("check_same_thread", False)
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    engine = create_engine(url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" hook below decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def write_engine(engine: Engine) -> Engine:
    """The same engine, flagged so SQLite transactions take the write lock up front."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(sqlite_begin="IMMEDIATE")
    return engine


def _read_only(engine_kwargs: dict[str, Any]) -> dict[str, Any]:
    """`engine_kwargs` for a PostgreSQL pool of autocommit, read-only connections."""
    connect_args = dict(engine_kwargs.get("connect_args", {}))
    options = connect_args.get("options", "")
    connect_args["options"] = f"{options} -c default_transaction_read_only=on".strip()
    return {
        **engine_kwargs,
        "connect_args": connect_args,
        "pool_pre_ping": False,
        "isolation_level": "AUTOCOMMIT",
    }


class Database:
    """An engine with the two session factories the service uses."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.engine = create_db_engine(url, **engine_kwargs)
        self.write_sessions = sessionmaker(write_engine(self.engine), expire_on_commit=False)
        # Reads (GET requests, one-statement checks) on PostgreSQL: a pool of its own in
        # autocommit, without BEGIN, COMMIT or a ping per checkout. Each statement sees
        # what was committed when it started, as it would inside a READ COMMITTED
        # transaction, and the server refuses any write made through it. A connection
        # found dead is dropped with the pool's others; `read_one` tries again on a new one.
        self._reader = (
            self.engine
            if self.engine.dialect.name == "sqlite"
            else create_db_engine(url, **_read_only(engine_kwargs))
        )
        self.read_sessions = sessionmaker(self._reader, expire_on_commit=False)
        # Whether read sessions run outside transactions (PostgreSQL's autocommit pool).
        self.reads_autocommit = self._reader is not self.engine

    def session(self, *, write: bool = True) -> Session:
        return (self.write_sessions if write else self.read_sessions)()

    def read_one(self, statement: Executable, params: dict[str, Any]) -> Row[Any] | None:
        """The one row (or none) `statement` selects, read outside any session."""
        try:
            return self._read_one(statement, params)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            # The pool dropped the dead connection and every older one: retry on a new one.
            return self._read_one(statement, params)

    def _read_one(self, statement: Executable, params: dict[str, Any]) -> Row[Any] | None:
        with self._reader.connect() as connection:
            return connection.execute(statement, params).one_or_none()

    def dispose(self) -> None:
        self.engine.dispose()
        self._reader.dispose()


Query = TypeVar("Query", bound=GenerativeSelect)


def dialect_insert(session: Session, table: Any) -> Any:
    """An INSERT of the session's own dialect, for its `ON CONFLICT` clauses (PostgreSQL
    and SQLite both have them)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_new(session: Session, objects: Sequence[Base]) -> None:
    """Store new objects of one mapped class by Core, not the ORM's unit of work, and set
    their ids: for thousands of rows (an import), where the unit of work costs more than
    the insert. On PostgreSQL the ids are taken from the table's sequence first and the
    rows sent by `COPY` (a multi-row INSERT of hundreds of rows is parsed, on both sides,
    anew each time); elsewhere one multi-row INSERT … RETURNING. The objects stay out of
    the session (nothing of theirs is flushed later: relationships are not followed); an
    unset column takes its default."""
    if not objects:
        return
    table = cast(Table, type(objects[0]).__table__)
    columns = [c for c in table.columns if not c.primary_key]

    def value(obj: Base, column: Any) -> Any:
        found = getattr(obj, column.key)
        if found is None and column.default is not None:
            default = column.default
            return default.arg(None) if default.is_callable else default.arg
        return found

    rows = [{c.key: value(obj, c) for c in columns} for obj in objects]
    if session.get_bind().dialect.name == "postgresql":
        ids = copy_new(session, table, rows)
    else:
        returning = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        ids = list(session.execute(returning, rows).scalars())
    for obj, new_id in zip(objects, ids, strict=True):
        obj.id = new_id  # type: ignore[attr-defined]


def copy_new(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """PostgreSQL: new rows of `table` (keyed by column) by `copy_rows`, each with an id
    taken from the table's sequence beforehand (in one statement); returns the ids in the
    order of `rows`."""
    ids = sorted(
        session.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"
            ),
            {"table": table.name, "n": len(rows)},
        ).scalars()
    )
    copy_rows(session, table, [{"id": new_id} | row for new_id, row in zip(ids, rows, strict=True)])
    return ids


def copy_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: rows of `table`, each keyed by the same columns, by `COPY … FROM
    STDIN` in the session's transaction: for hundreds of rows, where a multi-row INSERT's
    text is parsed anew, on both sides, every time. Values go through each column type's
    bind processing, as an INSERT's would."""
    connection = session.connection()
    dialect = connection.dialect
    keys = list(rows[0])
    processors = [table.c[key].type._cached_bind_processor(dialect) for key in keys]
    quote = dialect.identifier_preparer
    names = ", ".join(quote.quote(table.c[key].name) for key in keys)
    statement = f"COPY {quote.format_table(table)} ({names}) FROM STDIN"
    cursor = cast(Any, connection.connection.driver_connection).cursor()
    with cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(
                [
                    row[key] if process is None else process(row[key])
                    for key, process in zip(keys, processors, strict=True)
                ]
            )


def store_new(session: Session, objects: Sequence[Base], *, in_session: bool = True) -> None:
    """Store new objects of one class now: through the session (flushed, and kept in it),
    or without `in_session` by `insert_new`."""
    if in_session:
        session.add_all(objects)
        session.flush()
    else:
        insert_new(session, objects)


def unclaimed(session: Session, query: Query) -> Query:
    """`query` taking only rows no other worker's transaction holds: `FOR UPDATE SKIP
    LOCKED` on PostgreSQL; on SQLite the write transaction serialises the workers."""
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


@contextmanager
def session_scope(db: Database) -> Iterator[Session]:
    """A write session that commits when the block succeeds and rolls back otherwise."""
    with db.session() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
