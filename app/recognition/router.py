from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from app.db import utcnow
from app.deps import CurrentUser, SessionDep
from app.errors import InvalidInput
from app.pagination import CursorParam, PageSize, decode_cursor, next_cursor
from app.recognition import service
from app.recognition.schemas import Contributor, Digest, DigestAnswer, Leaderboard, LeaderboardEntry
from app.schemas import Slug, UserSummary, UTCTimestamp
from app.topics.lookup import topic_by_slug

router = APIRouter(tags=["recognition"])

DEFAULT_DIGEST_DAYS = 7


@router.get("/leaderboard", response_model=Leaderboard, summary="Reputation ranking")
def leaderboard(
    session: SessionDep,
    _user: CurrentUser,
    topic: Annotated[Slug | None, Query(description="A topic slug; overall when absent.")] = None,
    limit: PageSize = 20,
) -> Leaderboard:
    topic_id = topic_by_slug(session, topic).id if topic else None
    rows = service.leaderboard(session, topic_id, limit)
    return Leaderboard(
        topic=topic,
        entries=[
            LeaderboardEntry(rank=i, user=UserSummary.model_validate(user), reputation=points)
            for i, (user, points) in enumerate(rows, start=1)
        ],
    )


@router.get("/digest", response_model=Digest, summary="Answers validated since a date")
def digest(
    session: SessionDep,
    _user: CurrentUser,
    since: Annotated[
        UTCTimestamp | None, Query(description="ISO 8601; default a week ago.")
    ] = None,
    limit: PageSize = 20,
    cursor: CursorParam = None,
) -> Digest:
    since = since or utcnow() - timedelta(days=DEFAULT_DIGEST_DAYS)
    if since > utcnow():
        raise InvalidInput(
            "`since` is in the future.",
            errors=[{"field": "query.since", "message": "in the future"}],
        )
    rows = service.validated_since(session, since, limit, decode_cursor(cursor))
    return Digest(
        since=since,
        answers=[
            DigestAnswer(
                answer_id=a.id,
                question_id=a.question_id,
                question_title=a.question.title,
                topic=a.question.topic.slug,
                author=UserSummary.model_validate(a.author),
                state=a.state,
                body=a.body,
                correction=a.correction,
                validated_at=a.validated_at or since,
            )
            for a in rows[:limit]
        ],
        top_contributors=[
            Contributor(user=UserSummary.model_validate(user), points=points)
            for user, points in service.top_contributors(session, since)
        ],
        next_cursor=next_cursor(rows, limit),
    )
