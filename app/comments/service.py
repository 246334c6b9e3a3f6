"""Comments on questions and answers."""

from sqlalchemy.orm import Session

from app.audit import service as audit
from app.audit.service import AuditContext
from app.comments.models import Comment
from app.users.models import User


def add_comment(
    session: Session,
    ctx: AuditContext,
    author: User,
    question_id: int,
    body: str,
    answer_id: int | None = None,
) -> Comment:
    """Comment on a question, or on one of its answers when `answer_id` is given."""
    comment = Comment(question_id=question_id, answer_id=answer_id, author=author, body=body)
    session.add(comment)
    session.flush()
    audit.record(
        session,
        ctx,
        "comment.create",
        target_type="comment",
        target_id=comment.id,
        payload={
            "after": {
                "question_id": question_id,
                "answer_id": answer_id,
                "body": body,
                "author_id": author.id,
            }
        },
    )
    return comment
