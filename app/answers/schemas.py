from datetime import datetime
from typing import Literal

from app.questions.schemas import Body
from app.schemas import RequestModel, ResponseModel, UserSummary


class AnswerCreate(RequestModel):
    body: Body


class AnswerUpdate(RequestModel):
    body: Body


class VoteCreate(RequestModel):
    value: Literal[1, -1]


class VoteOut(ResponseModel):
    answer_id: int
    value: int
    score: int


class AnswerOut(ResponseModel):
    id: int
    question_id: int
    body: str
    author: UserSummary
    state: str
    score: int
    revision: int
    created_at: datetime
    updated_at: datetime


class AnswerRevisionOut(ResponseModel):
    number: int
    body: str
    editor: UserSummary
    created_at: datetime
