"""Digest and leaderboard pages: what experts validated lately, and who earned the most.

Both call the recognition service the API's `/digest` and `/leaderboard` call.
"""

import html
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode

import nh3
from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ValidationError, field_validator
from starlette.responses import Response

from app.answers.models import Answer, ValidationState
from app.db import utcnow
from app.deps import SessionDep
from app.pagination import CursorParam, PageSize, decode_cursor, next_cursor
from app.recognition import service
from app.recognition.router import DEFAULT_DIGEST_DAYS
from app.reviews.state import effective_state
from app.topics.lookup import topic_by_slug
from app.topics.service import list_topics
from app.web.forms import FormRefused, errors_of
from app.web.render import markdown, render
from app.web.session import PageUser

router = APIRouter()

DIGEST_TEMPLATE = "recognition/digest.html"
LEADERBOARD_SIZE = 50
EXCERPT_CHARS = 280


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A markdown text as a short plain-text excerpt (markup removed, cut at a word)."""
    plain = html.unescape(nh3.clean(str(markdown(text)), tags=set()))
    plain = " ".join(plain.split())
    if len(plain) <= limit:
        return plain
    return plain[: limit - 1].rsplit(" ", 1)[0] + "…"


class DigestSince(BaseModel):
    """The digest form's date: the day (UTC) from which validations are listed. The API
    refuses a `since` in the future; so does the page."""

    since: date | None = None

    @field_validator("since")
    @classmethod
    def _not_in_the_future(cls, value: date | None) -> date | None:
        if value is not None and value > utcnow().date():
            raise ValueError("is in the future: choose today or an earlier day")
        return value


@dataclass(frozen=True)
class DigestItem:
    answer: Answer
    state: str
    #: The expert's correction when the answer was corrected, else the answer itself.
    excerpt: str
    is_correction: bool


def _digest_item(answer: Answer, now: datetime) -> DigestItem:
    corrected = answer.state == ValidationState.corrected and bool(answer.correction)
    text = answer.correction if corrected and answer.correction else answer.body
    return DigestItem(
        answer, effective_state(answer.state, answer.stale_at, now), excerpt(text), corrected
    )


@router.get("/digest")
def digest(
    request: Request,
    session: SessionDep,
    user: PageUser,
    since: Annotated[str | None, Query(max_length=40)] = None,
    limit: PageSize = 20,
    cursor: CursorParam = None,
) -> Response:
    now = utcnow()
    default_day = (now - timedelta(days=DEFAULT_DIGEST_DAYS)).date()
    try:
        day = DigestSince.model_validate({"since": since or None}).since or default_day
    except ValidationError as exc:
        context = {"since_value": since, "today": now.date().isoformat()}
        raise FormRefused(DIGEST_TEMPLATE, context, errors_of(exc)) from None
    start = datetime.combine(day, time(), UTC)
    rows = service.validated_since(session, start, limit, decode_cursor(cursor))
    after = next_cursor(rows, limit)
    kept = {"since": day.isoformat()} | ({"limit": str(limit)} if limit != 20 else {})
    return render(
        request,
        DIGEST_TEMPLATE,
        {
            "since_value": day.isoformat(),
            "since_label": f"{day.day} {day:%B %Y}",
            "today": now.date().isoformat(),
            "items": [_digest_item(a, now) for a in rows[:limit]],
            "contributors": service.top_contributors(session, start),
            "next_url": "/digest?" + urlencode(kept | {"cursor": after}) if after else None,
            "first_page": cursor is None,
        },
    )


@router.get("/leaderboard")
def leaderboard(
    request: Request,
    session: SessionDep,
    user: PageUser,
    topic: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    chosen = topic_by_slug(session, topic) if topic else None
    rows = service.leaderboard(session, chosen.id if chosen else None, LEADERBOARD_SIZE)
    topics = list_topics(session, 100, None)
    return render(
        request,
        "recognition/leaderboard.html",
        {
            "topic": chosen,
            "topics": [(t.slug, t.name) for t in topics],
            "entries": [
                (rank, person, points, person.id == user.id)
                for rank, (person, points) in enumerate(rows, start=1)
            ],
        },
    )
