"""Editing the audit trail behind the product's back, as someone with database access could.

On PostgreSQL the write-once trigger is disabled for the tampering transaction
only (the harness connects as a superuser); it is back on when it commits.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, delete, insert, select, text, update

from app.audit.chain import GENESIS_HASH, event_hash
from app.audit.models import AuditEvent, AuditHead
from app.db import Database

TRIGGER = "audit_events_write_once"
EVENTS = AuditEvent.__table__
OFFSET = 1_000_000_000  # moves seqs out of the way, so shifting them never collides


@contextmanager
def tampering(db: Database) -> Iterator[Connection]:
    with db.engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            conn.execute(text(f"ALTER TABLE audit_events DISABLE TRIGGER {TRIGGER}"))
        yield conn
        if postgres:
            conn.execute(text(f"ALTER TABLE audit_events ENABLE TRIGGER {TRIGGER}"))


def _row(conn: Connection, seq: int) -> dict[str, Any]:
    return dict(conn.execute(select(EVENTS).where(EVENTS.c.seq == seq)).one()._mapping)


def forged_after(previous: dict[str, Any], *, links: bool = True) -> dict[str, Any]:
    """An event that follows `previous`: hashed correctly, and linked to it when `links`."""
    fields = {
        **previous,
        "seq": previous["seq"] + 1,
        "actor_username": "mallory",
        "action": "user.roles_change",
        "payload": {"before": {"roles": ["rep"]}, "after": {"roles": ["admin"]}},
        "prev_hash": previous["hash"] if links else "f" * 64,
    }
    fields["hash"] = event_hash(fields)
    return fields


def edit_payload(db: Database, seq: int) -> None:
    with tampering(db) as conn:
        conn.execute(update(EVENTS).where(EVENTS.c.seq == seq).values(payload={"forged": True}))


def delete_event(db: Database, seq: int) -> None:
    with tampering(db) as conn:
        conn.execute(delete(EVENTS).where(EVENTS.c.seq == seq))


def insert_forged(db: Database, seq: int, *, links: bool = True) -> None:
    """Make room at `seq` by renumbering the events from it on, and put a forged event there."""
    with tampering(db) as conn:
        forged = forged_after(_row(conn, seq - 1), links=links)
        conn.execute(update(EVENTS).where(EVENTS.c.seq >= seq).values(seq=EVENTS.c.seq + OFFSET))
        conn.execute(
            update(EVENTS).where(EVENTS.c.seq >= OFFSET).values(seq=EVENTS.c.seq - OFFSET + 1)
        )
        conn.execute(insert(EVENTS).values(**forged))
        conn.execute(update(AuditHead.__table__).values(seq=AuditHead.__table__.c.seq + 1))


def swap_events(db: Database, first: int, second: int) -> None:
    """Exchange the positions (seqs) of two events."""
    with tampering(db) as conn:
        for old, new in ((first, -1), (second, first), (-1, second)):
            conn.execute(update(EVENTS).where(EVENTS.c.seq == old).values(seq=new))


def _rehash_from(events: list[dict[str, Any]], i: int) -> None:
    """Change `events[i]` and recompute its hash and every later one's, linking each to
    the one before (the first event to the genesis)."""
    events[i]["payload"] = {"rewritten": True}
    previous_hash = events[i - 1]["hash"] if i else GENESIS_HASH
    for event in events[i:]:
        event["prev_hash"] = previous_hash
        event["hash"] = previous_hash = event_hash(event)


def rewrite_from(db: Database, seq: int) -> None:
    """Change the event at `seq` and recompute every hash from there on, head included:
    a chain consistent in itself, which only a kept checkpoint can tell from the real one."""
    with tampering(db) as conn:
        rows = [
            dict(r._mapping)
            for r in conn.execute(select(EVENTS).where(EVENTS.c.seq >= seq - 1).order_by("seq"))
        ]
        at = 1 if rows[0]["seq"] < seq else 0
        _rehash_from(rows, at)
        for row in rows[at:]:
            conn.execute(
                update(EVENTS)
                .where(EVENTS.c.seq == row["seq"])
                .values(payload=row["payload"], prev_hash=row["prev_hash"], hash=row["hash"])
            )
        conn.execute(update(AuditHead.__table__).values(hash=rows[-1]["hash"]))


# The same on an exported NDJSON file, given as its lines.


def _index(lines: list[str], seq: int) -> int:
    return next(i for i, line in enumerate(lines) if json.loads(line)["seq"] == seq)


def file_edit_payload(lines: list[str], seq: int) -> list[str]:
    i = _index(lines, seq)
    event = json.loads(lines[i])
    event["payload"] = {"forged": True}
    return [*lines[:i], json.dumps(event), *lines[i + 1 :]]


def file_delete(lines: list[str], seq: int) -> list[str]:
    i = _index(lines, seq)
    return [*lines[:i], *lines[i + 1 :]]


def file_insert_forged(lines: list[str], seq: int) -> list[str]:
    """A correctly linked and hashed event claiming `seq`, put before the real one."""
    i = _index(lines, seq)
    forged = forged_after(json.loads(lines[i - 1]))
    return [*lines[:i], json.dumps(forged), *lines[i:]]


def file_rewrite_from(lines: list[str], seq: int) -> list[str]:
    """`rewrite_from` on an export: the event at `seq` changed, every later hash recomputed."""
    i = _index(lines, seq)
    events = [json.loads(line) for line in lines]
    _rehash_from(events, i)
    return [*lines[:i], *(json.dumps(event) for event in events[i:])]


def file_swap(lines: list[str], first: int, second: int) -> list[str]:
    i, j = _index(lines, first), _index(lines, second)
    swapped = list(lines)
    swapped[i], swapped[j] = lines[j], lines[i]
    return swapped
