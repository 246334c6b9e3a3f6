from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AnyHttpUrl,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from app.questions.schemas import Body
from app.reviews.models import Verdict
from app.schemas import MAX_ID, RequestModel, ResponseModel, UserSummary

Rationale = Annotated[str, StringConstraints(min_length=1, max_length=5_000)]
_url = TypeAdapter(Annotated[AnyHttpUrl, Field(max_length=2_000)])


def _reference(value: object) -> int | str:
    """A resource id (a JSON integer, not `true` or `"1"`) or an http(s) URL."""
    if type(value) is int and 1 <= value <= MAX_ID:
        return value
    if isinstance(value, str):
        try:
            return str(_url.validate_python(value))
        except ValidationError:
            pass
    raise ValueError("must be a resource id of this topic or an http(s) URL")


# One plain validator, so a bad entry is reported once, as `body.references.<index>`.
Reference = Annotated[int | str, PlainValidator(_reference, json_schema_input_type=int | str)]


class ReviewCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"verdict": "endorse"},
                {
                    "verdict": "correct",
                    "rationale": "Reinstatement needs the arrears paid first.",
                    "correction": "Within 60 days, and only once the arrears are paid.",
                },
            ]
        }
    )

    verdict: Verdict
    rationale: Rationale | None = None
    correction: Body | None = None
    references: list[Reference] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _required_by_verdict(self) -> "ReviewCreate":
        if self.verdict in (Verdict.correct, Verdict.reject) and self.rationale is None:
            raise ValueError(f"a rationale is required to {self.verdict}")
        if self.verdict == Verdict.correct and self.correction is None:
            raise ValueError("a correction is required to correct")
        if self.verdict != Verdict.correct and self.correction is not None:
            raise ValueError("a correction is only given with the verdict correct")
        return self


class ReviewOut(ResponseModel):
    id: int
    answer_id: int
    reviewer: UserSummary
    verdict: str
    rationale: str | None
    correction: str | None
    references: list[dict[str, Any]]
    answer_revision: int
    created_at: datetime


class FlagCreate(RequestModel):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2_000)]


class FlagOut(ResponseModel):
    id: int
    answer_id: int
    reason: str
    created_at: datetime


class QueueItem(ResponseModel):
    answer_id: int
    question_id: int
    question_title: str
    topic: str
    author: UserSummary
    body: str
    state: str
    open_flags: int
    reason: str
    created_at: datetime
