"""The thread page: a question with its answers and comments in a fixed number of queries."""

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.answers.models import Answer
from app.answers.schemas import AnswerOut
from app.comments.models import Comment
from app.comments.schemas import CommentOut
from app.questions.models import Question
from app.questions.schemas import QuestionOut
from app.questions.service import get_question
from app.schemas import ResponseModel, UserSummary


class ThreadAnswer(AnswerOut):
    comments: list[CommentOut]


class Thread(ResponseModel):
    question: QuestionOut
    answers: list[ThreadAnswer]
    comments: list[CommentOut]


def question_out(question: Question) -> QuestionOut:
    return QuestionOut(
        id=question.id,
        title=question.title,
        body=question.body,
        topic=question.topic.slug,
        tags=question.tags,
        status=question.status,
        author=UserSummary.model_validate(question.author),
        revision=question.revision,
        created_at=question.created_at,
        updated_at=question.updated_at,
    )


def load_thread(session: Session, question_id: int) -> Thread:
    """The whole thread; the number of SQL queries does not grow with its size."""
    question = get_question(session, question_id)
    answers = session.execute(
        select(Answer)
        .options(joinedload(Answer.author))
        .where(Answer.question_id == question.id, Answer.deleted_at.is_(None))
        .order_by(Answer.id)
    ).scalars()
    comments = session.execute(
        select(Comment)
        .options(joinedload(Comment.author))
        .where(Comment.question_id == question.id)
        .order_by(Comment.id)
    ).scalars()
    by_answer: dict[int | None, list[CommentOut]] = {}
    for comment in comments:
        by_answer.setdefault(comment.answer_id, []).append(CommentOut.model_validate(comment))
    return Thread(
        question=question_out(question),
        answers=[
            ThreadAnswer(
                **AnswerOut.model_validate(a).model_dump(), comments=by_answer.get(a.id, [])
            )
            for a in answers
        ],
        comments=by_answer.get(None, []),
    )
