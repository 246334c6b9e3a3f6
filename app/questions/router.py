from typing import Annotated

from fastapi import APIRouter, Query, status
from starlette.convertors import StringConvertor, register_url_convertor

from app.deps import AuditCtx, Contributor, CurrentUser, SessionDep
from app.pagination import CursorParam, Page, PageSize, next_cursor
from app.questions import service
from app.questions.models import QuestionStatus
from app.questions.schemas import (
    QuestionCreate,
    QuestionOut,
    QuestionRevisionOut,
    QuestionSummary,
    QuestionUpdate,
)
from app.questions.thread import Thread, load_thread, question_out
from app.schemas import ObjectId


class QuestionIdSegment(StringConvertor):
    """A question's id in a path: any segment but `similar`, which is a route of its own
    (`GET /questions/similar`), so that `PATCH /questions/similar` is a 405 naming GET,
    not a 422 about an id. Anything else is left for the id's own check (422 naming it)."""

    regex = r"(?!similar(?:/|$))[^/]+"


register_url_convertor("question_id", QuestionIdSegment())

router = APIRouter(prefix="/questions", tags=["questions"])


@router.post(
    "", response_model=QuestionOut, status_code=status.HTTP_201_CREATED, summary="Ask a question"
)
def ask(session: SessionDep, user: Contributor, ctx: AuditCtx, body: QuestionCreate) -> QuestionOut:
    return question_out(service.create_question(session, ctx, user, body))


@router.get("", response_model=Page[QuestionSummary], summary="List questions, newest first")
def list_questions(
    session: SessionDep,
    _user: CurrentUser,
    topic: Annotated[str | None, Query(max_length=64)] = None,
    tag: Annotated[str | None, Query(max_length=32)] = None,
    status: QuestionStatus | None = None,
    author: Annotated[str | None, Query(max_length=64)] = None,
    limit: PageSize = 20,
    cursor: CursorParam = None,
) -> Page[QuestionSummary]:
    rows = service.list_questions(
        session, limit=limit, cursor=cursor, topic=topic, tag=tag, status=status, author=author
    )
    items = [QuestionSummary(**question_out(q).model_dump(exclude={"body"})) for q in rows[:limit]]
    return Page(items=items, next_cursor=next_cursor(rows, limit))


@router.get("/{question_id:question_id}", response_model=Thread, summary="The whole thread")
def thread(session: SessionDep, _user: CurrentUser, question_id: ObjectId) -> Thread:
    return load_thread(session, question_id)


@router.patch("/{question_id:question_id}", response_model=QuestionOut, summary="Edit a question")
def edit(
    session: SessionDep,
    user: Contributor,
    ctx: AuditCtx,
    question_id: ObjectId,
    body: QuestionUpdate,
) -> QuestionOut:
    question = service.get_question(session, question_id)
    return question_out(service.update_question(session, ctx, user, question, body))


@router.delete(
    "/{question_id:question_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete (tombstone)",
)
def delete(session: SessionDep, user: Contributor, ctx: AuditCtx, question_id: ObjectId) -> None:
    question = service.get_question(session, question_id)
    service.delete_question(session, ctx, user, question)


@router.get(
    "/{question_id:question_id}/revisions",
    response_model=Page[QuestionRevisionOut],
    summary="Every version of a question, oldest first",
)
def revisions(
    session: SessionDep,
    _user: CurrentUser,
    question_id: ObjectId,
    limit: PageSize = 20,
    cursor: CursorParam = None,
) -> Page[QuestionRevisionOut]:
    question = service.get_question(session, question_id)
    rows = service.list_revisions(session, question, limit, cursor)
    items = [QuestionRevisionOut.model_validate(r) for r in rows[:limit]]
    return Page(items=items, next_cursor=next_cursor(rows, limit, key="number"))
