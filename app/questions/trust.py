"""What tells a thread's reader which answer to trust: the order answers are shown in,
and each answer's verdict as facts (who endorsed it and when, who corrected or rejected
it and why), read from the reviews of its current revision."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.answers.models import ValidationState
from app.questions.thread import ThreadAnswer
from app.reviews.models import Verdict
from app.reviews.schemas import ReviewOut
from app.schemas import UserSummary

# Lower shows first: validated, then still open to review, then rejected.
_TRUST_GROUP = {
    ValidationState.endorsed: 0,
    ValidationState.corrected: 0,
    ValidationState.awaiting_endorsement: 1,
    ValidationState.stale: 1,
    ValidationState.unreviewed: 1,
    ValidationState.rejected: 2,
}


def trust_order(answers: Sequence[ThreadAnswer]) -> list[ThreadAnswer]:
    """Answers in the order a reader should weigh them.

    Expert-validated answers (endorsed or corrected) first; then those awaiting a verdict
    (awaiting endorsement, stale, unreviewed); rejected answers last. Within a group, the
    higher score first, and on equal scores the older answer first.
    """
    return sorted(
        answers,
        key=lambda a: (_TRUST_GROUP.get(ValidationState(a.state), 1), -a.score, a.created_at, a.id),
    )


@dataclass(frozen=True)
class AnswerVerdict:
    """The experts' verdict on an answer as it stands, for a reader.

    `reviewer`, `at`, `rationale` and `references` are those of the correction or rejection
    that decided the state (None when there is none: endorsements only, or no review);
    `endorsers` are the experts who endorsed it since (names in order), `endorsed_at` the
    latest of those endorsements, `required` how many the topic asks for.
    """

    state: str
    required: int
    endorsers: list[UserSummary] = field(default_factory=list)
    endorsed_at: datetime | None = None
    reviewer: UserSummary | None = None
    at: datetime | None = None
    rationale: str | None = None
    references: list[dict[str, Any]] = field(default_factory=list)

    @property
    def endorsements(self) -> int:
        return len(self.endorsers)


def _since_last_verdict(reviews: list[ReviewOut], revision: int) -> list[ReviewOut]:
    """The reviews of `revision` from its last correct or reject on (that one included):
    the ones its state follows from."""
    current = [r for r in reviews if r.answer_revision == revision]
    for i in range(len(current) - 1, -1, -1):
        if current[i].verdict != Verdict.endorse:
            return current[i:]
    return current


def verdict_of(answer: ThreadAnswer, required_endorsements: int) -> AnswerVerdict:
    """The verdict behind `answer.state`, from the reviews the thread loaded with it."""
    reviews = _since_last_verdict(answer.reviews, answer.revision)
    decisive = reviews[0] if reviews and reviews[0].verdict != Verdict.endorse else None
    endorsements = [r for r in reviews if r.verdict == Verdict.endorse]
    return AnswerVerdict(
        state=answer.state,
        required=required_endorsements,
        endorsers=list({r.reviewer.id: r.reviewer for r in endorsements}.values()),
        endorsed_at=endorsements[-1].created_at if endorsements else None,
        reviewer=decisive.reviewer if decisive else None,
        at=decisive.created_at if decisive else None,
        rationale=decisive.rationale if decisive else None,
        references=decisive.references if decisive else [],
    )
