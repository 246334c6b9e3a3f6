from typing import Annotated

from fastapi import APIRouter, status

from app.db import utcnow
from app.deps import AuditCtx, Contributor, SessionDep, SettingsDep, require_role
from app.pagination import CursorParam, Page, PageSize
from app.reviews import service
from app.reviews.queue import encode_position, review_queue
from app.reviews.schemas import FlagCreate, FlagOut, QueueItem, ReviewCreate, ReviewOut
from app.reviews.state import effective_state
from app.schemas import ObjectId, UserSummary
from app.users.models import Role, User

router = APIRouter(tags=["validation"])

Expert = Annotated[User, require_role(Role.expert)]


@router.post(
    "/answers/{answer_id}/reviews",
    response_model=ReviewOut,
    status_code=status.HTTP_201_CREATED,
    summary="Endorse, correct or reject an answer (expert of the topic)",
)
def review(
    session: SessionDep,
    settings: SettingsDep,
    expert: Expert,
    ctx: AuditCtx,
    answer_id: ObjectId,
    body: ReviewCreate,
) -> ReviewOut:
    created = service.create_review(session, settings, ctx, expert, answer_id, body)
    created.reviewer = expert
    return ReviewOut.model_validate(created)


@router.post(
    "/answers/{answer_id}/flags",
    response_model=FlagOut,
    status_code=status.HTTP_201_CREATED,
    summary="Flag an answer as possibly wrong",
)
def flag(
    session: SessionDep, user: Contributor, ctx: AuditCtx, answer_id: ObjectId, body: FlagCreate
) -> FlagOut:
    return FlagOut.model_validate(service.flag_answer(session, ctx, user, answer_id, body.reason))


@router.get(
    "/reviews/queue",
    response_model=Page[QueueItem],
    summary="Answers to review in my topics: flagged first, then stale, then oldest",
)
def queue(
    session: SessionDep, expert: Expert, limit: PageSize = 20, cursor: CursorParam = None
) -> Page[QueueItem]:
    now = utcnow()
    entries = review_queue(session, expert, now, limit, cursor)
    items = [
        QueueItem(
            answer_id=e.answer.id,
            question_id=e.answer.question_id,
            question_title=e.answer.question.title,
            topic=e.answer.question.topic.slug,
            author=UserSummary.model_validate(e.answer.author),
            body=e.answer.body,
            state=effective_state(e.answer.state, e.answer.stale_at, now),
            open_flags=e.answer.open_flags,
            reason=e.reason,
            created_at=e.answer.created_at,
        )
        for e in entries[:limit]
    ]
    cursor_out = encode_position(entries[limit - 1]) if len(entries) > limit else None
    return Page(items=items, next_cursor=cursor_out)
