"""A topic's wrong-answer rate over time, week by week, from the experts' reviews.

An answer counts as reviewed in a week when an expert reviewed it that week, and as
wrong in that week when one of those reviews rejected or corrected it. Reviews are
append-only, so the figures of a past week never change.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.answers.models import Answer
from app.reviews.models import Review, Verdict

WEEKS = 12
_WRONG_VERDICTS = [str(Verdict.reject), str(Verdict.correct)]


@dataclass(frozen=True)
class WeekRate:
    """One week of one topic: the answers reviewed, and the wrong ones among them."""

    start: datetime
    reviewed: int
    wrong: int

    @property
    def rate(self) -> float | None:
        """wrong / reviewed; None for a week without reviews (no rate, rather than 0 %)."""
        return self.wrong / self.reviewed if self.reviewed else None


def week_starts(now: datetime, weeks: int = WEEKS) -> list[datetime]:
    """The Mondays (00:00 UTC) that begin the last `weeks` weeks, oldest first; the last
    is the current, unfinished week."""
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    monday = today - timedelta(days=today.weekday())
    return [monday - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]


def weekly_series(starts: list[datetime], counts: Mapping[int, tuple[int, int]]) -> list[WeekRate]:
    """One entry per week of `starts`; `counts` maps a week's index to (reviewed, wrong),
    and a week it does not name had no reviews."""
    return [WeekRate(start, *counts.get(i, (0, 0))) for i, start in enumerate(starts)]


def wrong_rate_by_week(
    session: Session, topic_ids: Collection[int], now: datetime, weeks: int = WEEKS
) -> dict[int, list[WeekRate]]:
    """Each topic's last `weeks` weeks (see the module's definition), in one grouped query
    over the reviews of those weeks; every topic asked for gets a full series."""
    if not topic_ids:
        return {}
    starts = week_starts(now, weeks)
    week = case(
        *[(Review.created_at < start, i) for i, start in enumerate(starts[1:])],
        else_=weeks - 1,
    )
    per_review = (
        select(
            Answer.topic_id.label("topic_id"),
            week.label("week"),
            Review.answer_id.label("answer_id"),
            case((Review.verdict.in_(_WRONG_VERDICTS), Review.answer_id)).label("wrong_id"),
        )
        .join(Answer, Review.answer_id == Answer.id)
        .where(
            Answer.topic_id.in_(list(topic_ids)),
            Answer.deleted_at.is_(None),
            Review.created_at >= starts[0],
        )
        # A subquery, so the grouped week is a column: PostgreSQL would not match two
        # copies of the CASE expression whose parameters are bound separately.
        .subquery()
    )
    rows = session.execute(
        select(
            per_review.c.topic_id,
            per_review.c.week,
            func.count(func.distinct(per_review.c.answer_id)),
            func.count(func.distinct(per_review.c.wrong_id)),
        ).group_by(per_review.c.topic_id, per_review.c.week)
    )
    counts: dict[int, dict[int, tuple[int, int]]] = {topic_id: {} for topic_id in topic_ids}
    for topic_id, index, reviewed, wrong in rows:
        counts[topic_id][int(index)] = (int(reviewed), int(wrong))
    return {topic_id: weekly_series(starts, by_week) for topic_id, by_week in counts.items()}
