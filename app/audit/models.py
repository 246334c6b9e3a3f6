"""The audit chain: append-only events, each hashed over its predecessor."""

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Dialect, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from app.audit.chain import GENESIS_HASH, canonical_json
from app.db import Base, UTCDateTime

__all__ = ["GENESIS_HASH", "AuditEvent", "AuditHead", "CanonicalJSON"]


class CanonicalJSON(TypeDecorator[Any]):
    """JSON stored as its canonical text: the very bytes the chain hashes for it.

    Verification can then hash the stored text as it is, instead of parsing and
    re-serialising every event (see `app/audit/reading.py`). Reading it back is
    ordinary JSON.
    """

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any]:
        if dialect.driver == "psycopg":
            from psycopg.types.json import Json

            return lambda value: Json(value, dumps=canonical_json)
        return canonical_json


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_target", "target_type", "target_id"),)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_username: Mapped[str | None] = mapped_column(String(64))
    actor_roles: Mapped[list[str]] = mapped_column(CanonicalJSON)
    action: Mapped[str] = mapped_column(String(64), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    client_ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(CanonicalJSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """The single row holding the chain's head; locking it serialises appends.

    `prev_hash` is the hash the last event appended on PostgreSQL was chained to: the
    append moves the head and reads it back in one statement (`app/audit/service.py`).
    Nothing verifies against it; the events carry their own `prev_hash`.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str | None] = mapped_column(String(64))
