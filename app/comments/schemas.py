from datetime import datetime
from typing import Annotated

from pydantic import StringConstraints

from app.schemas import RequestModel, ResponseModel, UserSummary

CommentBody = Annotated[str, StringConstraints(min_length=1, max_length=5_000)]


class CommentCreate(RequestModel):
    body: CommentBody


class CommentOut(ResponseModel):
    id: int
    question_id: int
    answer_id: int | None
    body: str
    author: UserSummary
    created_at: datetime
