from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from app.db import utcnow
from app.deps import CURATORS, AuditCtx, CurrentUser, SessionDep, require_role
from app.pagination import CursorParam, Page, PageSize, next_cursor
from app.schemas import ObjectId, Slug
from app.signals import service
from app.signals.models import LearningNeed, SignalKind, SignalStatus
from app.signals.schemas import LearningNeedOut, SignalNote, SignalStep
from app.topics.lookup import topic_by_slug
from app.users.models import User

router = APIRouter(prefix="/learning-needs", tags=["learning needs"])

Handler = Annotated[User, require_role(*CURATORS)]


def needs_out(session: Session, needs: list[LearningNeed]) -> list[LearningNeedOut]:
    """Shape signals with their topic slugs and thread titles."""
    slugs, titles = service.labels(session, needs)
    return [
        LearningNeedOut(
            id=n.id,
            kind=n.kind,
            status=n.status,
            topic=slugs[n.topic_id],
            question_id=n.question_id or None,
            question_title=titles.get(n.question_id),
            wrong_count=n.wrong_count,
            reviewed_count=n.reviewed_count,
            opened_at=n.opened_at,
            updated_at=n.updated_at,
            history=[SignalStep.model_validate(step) for step in n.history],
        )
        for n in needs
    ]


@router.get("", response_model=Page[LearningNeedOut], summary="Learning-need signals")
def list_needs(
    session: SessionDep,
    _user: CurrentUser,
    topic: Annotated[Slug | None, Query()] = None,
    status: SignalStatus | None = None,
    kind: SignalKind | None = None,
    limit: PageSize = 20,
    cursor: CursorParam = None,
) -> Page[LearningNeedOut]:
    topic_id = topic_by_slug(session, topic).id if topic else None
    rows = service.list_needs(
        session, limit=limit, cursor=cursor, topic_id=topic_id, status=status, kind=kind
    )
    return Page(items=needs_out(session, rows[:limit]), next_cursor=next_cursor(rows, limit))


def _transition(
    session: Session, user: User, ctx: AuditCtx, need_id: int, step: str, note: str
) -> LearningNeedOut:
    need = service.get_need(session, need_id)
    service.transition(session, ctx, user, need, step, note, utcnow())
    session.refresh(need, ["history"])
    return needs_out(session, [need])[0]


@router.post(
    "/{need_id}/acknowledge",
    response_model=LearningNeedOut,
    summary="Acknowledge a signal (expert of the topic, admin)",
)
def acknowledge(
    session: SessionDep, user: Handler, ctx: AuditCtx, need_id: ObjectId, body: SignalNote
) -> LearningNeedOut:
    return _transition(session, user, ctx, need_id, "acknowledge", body.note)


@router.post(
    "/{need_id}/address",
    response_model=LearningNeedOut,
    summary="Record what was done about a signal (expert of the topic, admin)",
)
def address(
    session: SessionDep, user: Handler, ctx: AuditCtx, need_id: ObjectId, body: SignalNote
) -> LearningNeedOut:
    return _transition(session, user, ctx, need_id, "address", body.note)
