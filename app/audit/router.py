"""The compliance API: export, verification, checkpoint and record reconstruction."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from app.audit import export
from app.audit.records import RecordType, reconstruct
from app.audit.schemas import CheckpointOut, ExportQuery, RecordOut, VerifyOut, VerifyQuery
from app.audit.service import checkpoint, verify_chain
from app.db import session_scope
from app.deps import AuditCtx, ComplianceOfficer, SessionDep, get_database
from app.schemas import ObjectId

router = APIRouter(prefix="/audit", tags=["audit"])


def _export_session(request: Request) -> Iterator[Session]:
    """A write session for the export's own audit event, committed before the body streams.

    An export is a GET, whose request session is a reader: on SQLite a deferred
    transaction that cannot always be upgraded to a writer under contention.
    """
    with session_scope(get_database(request)) as session:
        yield session


ExportSession = Annotated[Session, Depends(_export_session, scope="function")]


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "One event per line (NDJSON) or row (CSV): the hashed fields and "
            "`hash`. `X-Audit-Export-Seq` is the seq of the export's own audit event, the "
            "last one the export may hold.",
            "content": {"application/x-ndjson": {}, "text/csv": {}},
        }
    },
    summary="Export audit events, streamed (compliance)",
)
def export_events(
    request: Request,
    _officer: ComplianceOfficer,
    ctx: AuditCtx,
    session: ExportSession,
    query: Annotated[ExportQuery, Query()],
) -> StreamingResponse:
    criteria = query.criteria()
    through = export.start_export(session, ctx, criteria, query.format)
    engine = get_database(request).engine
    chunks = (data for _, data in export.export_batches(engine, criteria, through, query.format))
    filename = f"vouch-audit-{through}.{query.format.value}"
    return StreamingResponse(
        chunks,
        media_type=export.MEDIA_TYPES[query.format],
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Audit-Export-Seq": str(through),
        },
    )


@router.get("/verify", response_model=VerifyOut, summary="Recompute the chain (compliance)")
def verify(
    session: SessionDep, _officer: ComplianceOfficer, query: Annotated[VerifyQuery, Query()]
) -> VerifyOut:
    report = verify_chain(session, against=query.against())
    return VerifyOut(**report.as_dict())


@router.get(
    "/checkpoint", response_model=CheckpointOut, summary="The chain's head, to keep elsewhere"
)
def head(session: SessionDep, _officer: ComplianceOfficer) -> CheckpointOut:
    point = checkpoint(session)
    return CheckpointOut(seq=point.seq, hash=point.hash, occurred_at=point.occurred_at)


@router.get(
    "/records/{target_type}/{target_id}",
    response_model=RecordOut,
    summary="Every version of a question or answer, deleted or not (compliance)",
)
def record(
    session: SessionDep, _officer: ComplianceOfficer, target_type: RecordType, target_id: ObjectId
) -> RecordOut:
    return reconstruct(session, target_type, target_id)
