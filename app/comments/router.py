from fastapi import APIRouter, status

from app.answers.service import get_answer
from app.comments.schemas import CommentCreate, CommentOut
from app.comments.service import add_comment
from app.deps import AuditCtx, Contributor, SessionDep
from app.questions.service import get_question
from app.schemas import ObjectId

router = APIRouter(tags=["comments"])


@router.post(
    "/questions/{question_id}/comments",
    response_model=CommentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Comment on a question",
)
def comment_on_question(
    session: SessionDep,
    user: Contributor,
    ctx: AuditCtx,
    question_id: ObjectId,
    body: CommentCreate,
) -> CommentOut:
    question = get_question(session, question_id)
    return CommentOut.model_validate(add_comment(session, ctx, user, question.id, body.body))


@router.post(
    "/answers/{answer_id}/comments",
    response_model=CommentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Comment on an answer",
)
def comment_on_answer(
    session: SessionDep,
    user: Contributor,
    ctx: AuditCtx,
    answer_id: ObjectId,
    body: CommentCreate,
) -> CommentOut:
    answer = get_answer(session, answer_id)
    comment = add_comment(session, ctx, user, answer.question_id, body.body, answer_id=answer.id)
    return CommentOut.model_validate(comment)
