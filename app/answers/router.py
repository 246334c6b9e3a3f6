from fastapi import APIRouter, status

from app.answers import service
from app.answers.schemas import (
    AnswerCreate,
    AnswerOut,
    AnswerRevisionOut,
    AnswerUpdate,
    VoteCreate,
    VoteOut,
)
from app.deps import AuditCtx, Contributor, CurrentUser, SessionDep
from app.pagination import CursorParam, Page, PageSize, next_cursor
from app.questions.service import get_question_ref
from app.schemas import ObjectId

router = APIRouter(tags=["answers"])


@router.post(
    "/questions/{question_id}/answers",
    response_model=AnswerOut,
    status_code=status.HTTP_201_CREATED,
    summary="Answer a question",
)
def answer(
    session: SessionDep,
    user: Contributor,
    ctx: AuditCtx,
    question_id: ObjectId,
    body: AnswerCreate,
) -> AnswerOut:
    question = get_question_ref(session, question_id)
    return AnswerOut.model_validate(service.create_answer(session, ctx, user, question, body))


@router.patch("/answers/{answer_id}", response_model=AnswerOut, summary="Edit an answer")
def edit(
    session: SessionDep, user: Contributor, ctx: AuditCtx, answer_id: ObjectId, body: AnswerUpdate
) -> AnswerOut:
    answer = service.get_answer(session, answer_id)
    return AnswerOut.model_validate(service.update_answer(session, ctx, user, answer, body))


@router.delete(
    "/answers/{answer_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete (tombstone)"
)
def delete(session: SessionDep, user: Contributor, ctx: AuditCtx, answer_id: ObjectId) -> None:
    service.delete_answer(session, ctx, user, service.get_answer(session, answer_id))


@router.get(
    "/answers/{answer_id}/revisions",
    response_model=Page[AnswerRevisionOut],
    summary="Every version of an answer, oldest first",
)
def revisions(
    session: SessionDep,
    _user: CurrentUser,
    answer_id: ObjectId,
    limit: PageSize = 20,
    cursor: CursorParam = None,
) -> Page[AnswerRevisionOut]:
    rows = service.list_revisions(session, service.get_answer(session, answer_id), limit, cursor)
    items = [AnswerRevisionOut.model_validate(r) for r in rows[:limit]]
    return Page(items=items, next_cursor=next_cursor(rows, limit, key="number"))


@router.post(
    "/answers/{answer_id}/votes", response_model=VoteOut, summary="Vote +1 or -1; again replaces"
)
def vote(
    session: SessionDep, user: Contributor, ctx: AuditCtx, answer_id: ObjectId, body: VoteCreate
) -> VoteOut:
    answer = service.get_answer(session, answer_id)
    score = service.cast_vote(session, ctx, user, answer, body.value)
    return VoteOut(answer_id=answer.id, value=body.value, score=score)
