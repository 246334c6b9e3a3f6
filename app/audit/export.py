"""Exporting the audit trail as NDJSON or CSV, streamed in constant memory.

Each line (NDJSON) or row (CSV) holds exactly the hashed fields of an event
plus its `hash`, with `occurred_at` in the chain's one time format and the
JSON fields as stored, so an exported file can be re-hashed and verified
offline (`app/audit/offline.py`).
"""

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, func, select
from sqlalchemy.orm import Session

from app.audit import reading
from app.audit import service as audit
from app.audit.chain import HASHED_FIELDS, format_timestamp
from app.audit.models import AuditEvent
from app.audit.service import AuditContext

COLUMNS = (*HASHED_FIELDS, "hash")
# Seqs per database round trip and per chunk sent: big enough that per-batch
# overhead vanishes, small enough that a batch is a few megabytes at most.
EXPORT_BATCH = 2_000


class ExportFormat(StrEnum):
    ndjson = "ndjson"
    csv = "csv"


MEDIA_TYPES = {ExportFormat.ndjson: "application/x-ndjson", ExportFormat.csv: "text/csv"}


@dataclass(frozen=True)
class ExportFilter:
    """Which events to export; every criterion is optional and they all must hold.

    `since` is inclusive and `until` exclusive; `actor` is a username.
    """

    since: datetime | None = None
    until: datetime | None = None
    actor: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        table = AuditEvent.__table__.c
        found: list[ColumnElement[bool]] = []
        if self.since is not None:
            found.append(table.occurred_at >= self.since)
        if self.until is not None:
            found.append(table.occurred_at < self.until)
        for value, column in (
            (self.actor, table.actor_username),
            (self.action, table.action),
            (self.target_type, table.target_type),
            (self.target_id, table.target_id),
        ):
            if value is not None:
                found.append(column == value)
        return found

    def as_payload(self) -> dict[str, str]:
        """The criteria that were set, as recorded in the export's own audit event."""
        fields = {
            "since": None if self.since is None else format_timestamp(self.since),
            "until": None if self.until is None else format_timestamp(self.until),
            "actor": self.actor,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
        }
        return {name: value for name, value in fields.items() if value is not None}


def start_export(
    session: Session, ctx: AuditContext, criteria: ExportFilter, fmt: ExportFormat
) -> int:
    """Audit the export itself; returns its seq, the last one the export may include.

    Events are appended in `seq` order under the head lock, so once this event
    is committed every event up to it is too: the export is a fixed, complete
    range however long streaming takes and whatever is appended meanwhile.
    """
    event = audit.record_now(
        session,
        ctx,
        "audit.export",
        payload={"filter": criteria.as_payload(), "format": fmt.value},
    )
    return event.seq


def count_events(session: Session, criteria: ExportFilter, through: int) -> int:
    """How many events an export up to seq `through` will hold (for progress bars)."""
    table = AuditEvent.__table__.c
    query = select(func.count()).where(table.seq <= through, *criteria.conditions())
    return int(session.execute(query).scalar_one())


def export_batches(
    engine: Engine, criteria: ExportFilter, through: int, fmt: ExportFormat
) -> Iterator[tuple[int, bytes]]:
    """The export file as chunks `(events in it, bytes)`; CSV starts with its header row.

    Events are read window by window (`reading.windows`), each on a connection
    of its own: a consumer that stops early (a client disconnecting
    mid-export) leaves no open transaction or borrowed connection behind, and
    a long export holds no snapshot that would keep PostgreSQL from vacuuming
    or SQLite from checkpointing its WAL.
    """
    encode = _ndjson if fmt is ExportFormat.ndjson else _csv
    if fmt is ExportFormat.csv:
        yield 0, _csv_text([COLUMNS])
    where = criteria.conditions()
    with engine.connect() as conn:
        first, last = _seq_range(conn, where, through)
    for rows in reading.windows(engine, first=first, last=last, size=EXPORT_BATCH, where=where):
        if rows:
            yield len(rows), encode(rows)


def _seq_range(conn: Connection, where: list[ColumnElement[bool]], through: int) -> tuple[int, int]:
    """The first and last seq an export holds (the indexes answer), or an empty range."""
    seq = AuditEvent.__table__.c.seq
    query = select(func.min(seq), func.max(seq)).where(seq >= 1, seq <= through, *where)
    first, last = conn.execute(query).one()
    return (first, last) if first is not None else (1, 0)


def _ndjson(rows: Sequence[Any]) -> bytes:
    return "".join([reading.export_line(row) for row in rows]).encode()


def _csv(rows: Sequence[Any]) -> bytes:
    return _csv_text(reading.csv_values(row) for row in rows)


def _csv_text(rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()
