"""Question pages: the home listing (recent, unanswered, validated)."""

from enum import StrEnum
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app.deps import CONTRIBUTORS, SessionDep
from app.pagination import CursorParam, next_cursor
from app.questions import service
from app.questions.models import QuestionStatus
from app.topics.service import list_topics
from app.web.render import render
from app.web.session import PageUser

router = APIRouter()

HOME_PAGE_SIZE = 20


class View(StrEnum):
    recent = "recent"
    unanswered = "unanswered"
    validated = "validated"


VIEW_LABELS = {
    View.recent: "Recent",
    View.unanswered: "Unanswered",
    View.validated: "Validated",
}


def _url(**params: str | None) -> str:
    kept = {k: v for k, v in params.items() if v}
    return "/?" + urlencode(kept) if kept else "/"


@router.get("/")
def home(
    request: Request,
    session: SessionDep,
    user: PageUser,
    view: View = View.recent,
    topic: Annotated[str | None, Query(max_length=64)] = None,
    tag: Annotated[str | None, Query(max_length=32)] = None,
    status: QuestionStatus | None = None,
    cursor: CursorParam = None,
) -> Response:
    topic, tag = topic or None, tag or None
    if view == View.validated:
        status = QuestionStatus.resolved
    rows = service.list_questions(
        session,
        limit=HOME_PAGE_SIZE,
        cursor=cursor,
        topic=topic,
        tag=tag,
        status=status,
        unanswered=view == View.unanswered,
    )
    questions = rows[:HOME_PAGE_SIZE]
    filters = {"topic": topic, "tag": tag, "status": status if view != View.validated else None}
    after = next_cursor(rows, HOME_PAGE_SIZE)
    return render(
        request,
        "questions/home.html",
        {
            "can_ask": user.has_role(*CONTRIBUTORS),
            "questions": questions,
            "answer_counts": service.answer_counts(session, [q.id for q in questions]),
            "view": view,
            "views": [
                (v, label, _url(view=v if v != View.recent else None, topic=topic, tag=tag))
                for v, label in VIEW_LABELS.items()
            ],
            "filters": filters,
            "topics": [(t.slug, t.name) for t in list_topics(session, 100, None)],
            "statuses": [(s.value, s.value.title()) for s in QuestionStatus],
            "next_url": _url(view=view, cursor=after, **filters) if after else None,
        },
    )
