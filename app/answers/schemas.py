from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BeforeValidator, ConfigDict

from app.answers.models import Answer
from app.questions.schemas import Body
from app.reviews.state import effective_state
from app.schemas import RequestModel, ResponseModel, UserSummary


class AnswerCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"body": "Yes, within 60 days, once arrears are paid."}]}
    )

    body: Body


class AnswerUpdate(RequestModel):
    body: Body


def _integer_only(value: object) -> object:
    # Without this, Literal[1] also takes `true` and `1.0` as an up-vote.
    if type(value) is not int:
        raise ValueError("must be the integer 1 or -1")
    return value


class VoteCreate(RequestModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"value": 1}]})

    value: Annotated[Literal[1, -1], BeforeValidator(_integer_only)]


class VoteOut(ResponseModel):
    answer_id: int
    value: int
    score: int


class AnswerOut(ResponseModel):
    """An answer; when an expert corrected it, `correction` is the authoritative text."""

    id: int
    question_id: int
    body: str
    author: UserSummary
    state: str
    correction: str | None
    validated_at: datetime | None
    open_flags: int
    score: int
    revision: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def at(cls, answer: Answer, now: datetime, **extra: Any) -> Self:
        """The answer as a reader sees it at `now` (an old endorsement reads `stale`);
        `extra` fills the fields a subclass adds (a thread's comments and reviews)."""
        fields = {name: getattr(answer, name) for name in AnswerOut.model_fields}
        fields["author"] = UserSummary.model_validate(answer.author)
        fields["state"] = effective_state(answer.state, answer.stale_at, now)
        return cls.model_validate({**fields, **extra})


class AnswerRevisionOut(ResponseModel):
    number: int
    body: str
    editor: UserSummary
    created_at: datetime
