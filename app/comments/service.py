"""Comments on questions and answers."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.audit.service import AuditContext, Event
from app.comments.models import Comment
from app.db import store_new
from app.notifications.models import NotificationKind
from app.notifications.service import notify
from app.questions.models import Question
from app.users.models import User


def add_comment(
    session: Session,
    ctx: AuditContext,
    author: User,
    question_id: int,
    body: str,
    answer_id: int | None = None,
) -> Comment:
    """Comment on a question, or on one of its answers when `answer_id` is given; the
    asker hears of it."""
    topic_id, asker_id = session.execute(
        select(Question.topic_id, Question.author_id).where(Question.id == question_id)
    ).one()
    notify(
        session,
        NotificationKind.question_commented,
        topic_id=topic_id,
        question_id=question_id,
        answer_id=answer_id,
        actor_id=author.id,
        recipient_id=asker_id,
    )
    comment = Comment(question_id=question_id, answer_id=answer_id, author=author, body=body)
    return add_comments(session, ctx, [comment])[0]


def add_comments(
    session: Session, ctx: AuditContext, comments: list[Comment], *, in_session: bool = True
) -> list[Comment]:
    """Store new comments (question, answer or none, author, body; their time when it is
    not now), each audited as `comment.create`: one flush and one append for all. Without
    `in_session` they are stored by one Core insert and stay out of the session."""
    for comment in comments:
        comment.author_id = comment.author_id or comment.author.id
    store_new(session, comments, in_session=in_session)
    events = [
        Event(
            "comment.create",
            "comment",
            c.id,
            {
                "after": {
                    "question_id": c.question_id,
                    "answer_id": c.answer_id,
                    "body": c.body,
                    "author_id": c.author_id,
                }
            },
        )
        for c in comments
    ]
    audit.record_many(session, ctx, events)
    return comments
