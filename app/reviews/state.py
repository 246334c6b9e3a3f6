"""The validation state machine of an answer, as a pure function of its reviews.

Rules (SPEC "Validation state of an answer"):

- Only reviews of the answer's current revision count: editing the body returns the
  answer to `unreviewed`, because earlier verdicts were about the old text.
- The latest review wins: `reject` → `rejected`, `correct` → `corrected`.
- `endorse` → `endorsed` once the distinct experts who endorsed since the last reject or
  correct reach the topic's `required_endorsements`; before that `awaiting_endorsement`.
- An endorsed answer is `stale` once its last endorsement is older than the topic's
  `review_interval_days` (never, when that is unset).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.answers.models import ValidationState
from app.reviews.models import Verdict

WRONG_STATES = frozenset({ValidationState.rejected, ValidationState.corrected})
VALIDATED_STATES = frozenset({ValidationState.endorsed, ValidationState.corrected})


@dataclass(frozen=True)
class ReviewFact:
    """What the state machine needs to know of one review."""

    verdict: str
    reviewer_id: int
    at: datetime
    correction: str | None = None


@dataclass(frozen=True)
class Validation:
    state: ValidationState
    correction: str | None
    last_endorsed_at: datetime | None


def validate(reviews: Sequence[ReviewFact], required_endorsements: int) -> Validation:
    """The stored state after `reviews` (oldest first) of the current revision."""
    state = ValidationState.unreviewed
    correction: str | None = None
    endorsers: set[int] = set()
    last_endorsed_at: datetime | None = None
    for review in reviews:
        if review.verdict == Verdict.reject:
            state, correction, endorsers, last_endorsed_at = (
                ValidationState.rejected,
                None,
                set(),
                None,
            )
        elif review.verdict == Verdict.correct:
            state, correction, endorsers = ValidationState.corrected, review.correction, set()
            last_endorsed_at = None
        else:
            endorsers.add(review.reviewer_id)
            if len(endorsers) >= required_endorsements:
                state, last_endorsed_at = ValidationState.endorsed, review.at
            else:
                state = ValidationState.awaiting_endorsement
    return Validation(state, correction, last_endorsed_at)


def stale_at(
    last_endorsed_at: datetime | None, review_interval_days: int | None
) -> datetime | None:
    """When an endorsement goes stale; None when it never does."""
    if last_endorsed_at is None or review_interval_days is None:
        return None
    return last_endorsed_at + timedelta(days=review_interval_days)


def effective_state(state: str, stale_at_: datetime | None, now: datetime) -> str:
    """The state a reader sees: a stored `endorsed` past its stale time reads `stale`."""
    if state == ValidationState.endorsed and stale_at_ is not None and stale_at_ <= now:
        return ValidationState.stale
    return state
