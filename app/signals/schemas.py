from datetime import datetime
from typing import Annotated

from pydantic import StringConstraints

from app.schemas import RequestModel, ResponseModel


class SignalNote(RequestModel):
    note: Annotated[str, StringConstraints(min_length=1, max_length=5_000)]


class SignalStep(ResponseModel):
    status: str
    note: str
    actor_id: int | None
    wrong_count: int
    reviewed_count: int
    at: datetime


class LearningNeedOut(ResponseModel):
    id: int
    kind: str
    status: str
    topic: str
    question_id: int | None
    question_title: str | None
    wrong_count: int
    reviewed_count: int
    opened_at: datetime
    updated_at: datetime
    history: list[SignalStep]
