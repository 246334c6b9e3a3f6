"""Question pages: the home listing, asking (with live similar-question hints), the
thread, editing and deleting a question, its comments and its revision history."""

import logging
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from app.answers import service as answer_service
from app.comments.schemas import CommentCreate
from app.comments.service import add_comment
from app.deps import CONTRIBUTORS, SessionDep
from app.errors import InvalidInput
from app.pagination import CursorParam, next_cursor
from app.questions import service
from app.questions.models import QuestionStatus
from app.questions.revisions import HISTORY_PAGE, overlapping, question_history
from app.questions.schemas import QuestionCreate, QuestionUpdate
from app.questions.thread import load_thread_page
from app.questions.trust import trust_order, verdict_of
from app.schemas import ObjectId
from app.search_api.schemas import SimilarQuestion, SimilarQuestions
from app.topics.service import list_topics
from app.users.models import User
from app.web.cards import AnswerCard
from app.web.forms import FormRefused, edit_outcome, errors_of, split_tags
from app.web.render import is_htmx, redirect, render
from app.web.session import PageAuditCtx, PageContributor, PageUser
from search import query as search
from search.client import SearchUnavailable

log = logging.getLogger("vouch.web")

router = APIRouter()

HOME_PAGE_SIZE = 20
THREAD = "questions/thread.html"
ASK = "questions/ask.html"
EDIT = "questions/edit.html"
# Fewer characters than this give no similar-question hints: too little to match on.
MIN_HINT_LENGTH = 4


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


# ---- Asking ----


@dataclass(frozen=True)
class Hints:
    """Similar questions for a title being typed; `available` False when search is down."""

    title: str = ""
    items: list[SimilarQuestion] = field(default_factory=list)
    available: bool = True


def _similar(request: Request, title: str) -> Hints:
    title = title.strip()[:200]
    if len(title) < MIN_HINT_LENGTH:
        return Hints(title)
    try:
        found = SimilarQuestions.model_validate_json(
            search.similar_threads(request.app.state.searcher, title)
        )
    except SearchUnavailable as exc:
        log.warning("similar-question hints unavailable: %s", exc)
        return Hints(title, available=False)
    return Hints(title, found.items)


def _ask_context(
    session: Session,
    values: dict[str, str],
    *,
    hints: Hints | None = None,
    preview: str | None = None,
) -> dict[str, Any]:
    return {
        "values": values,
        "topics": [(t.slug, t.name) for t in list_topics(session, 100, None)],
        "hints": hints or Hints(),
        "preview": preview,
        "errors": {},
    }


@router.get("/ask")
def ask_form(
    request: Request,
    session: SessionDep,
    _user: PageContributor,
    title: Annotated[str, Query(max_length=200)] = "",
    topic: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    hints = _similar(request, title) if title else None
    context = _ask_context(session, {"title": title, "topic": topic}, hints=hints)
    return render(request, ASK, context)


@router.get("/ask/similar")
def similar_hints(
    request: Request,
    session: SessionDep,
    _user: PageContributor,
    title: Annotated[str, Query(max_length=1000)] = "",
) -> Response:
    """The hints under the title field (htmx, as the title is typed); without htmx, the
    ask page with that title."""
    hints = _similar(request, title)
    if is_htmx(request):
        return render(request, ASK, {"hints": hints}, block="similar")
    return render(request, ASK, _ask_context(session, {"title": title}, hints=hints))


@router.post("/ask")
def ask(
    request: Request,
    session: SessionDep,
    user: PageContributor,
    ctx: PageAuditCtx,
    title: Annotated[str, Form()] = "",
    body: Annotated[str, Form()] = "",
    topic: Annotated[str, Form()] = "",
    tags: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "ask",
) -> Response:
    values = {"title": title, "body": body, "topic": topic, "tags": tags}
    if action == "preview":
        if is_htmx(request):
            return render(request, ASK, {"preview": body}, block="preview")
        context = _ask_context(session, values, hints=_similar(request, title), preview=body)
        return render(request, ASK, context)
    try:
        data = QuestionCreate.model_validate(
            {"title": title, "body": body, "topic": topic, "tags": split_tags(tags)}
        )
        question = service.create_question(session, ctx, user, data)
    except (ValidationError, InvalidInput) as exc:
        raise FormRefused(ASK, _ask_context(session, values), errors_of(exc)) from None
    return redirect(
        f"/questions/{question.id}",
        flash="Your question is posted. Colleagues can answer it now, and experts of the "
        "topic will validate the answers.",
    )


# ---- The thread ----


def thread_context(
    session: Session,
    user: User,
    question_id: int,
    *,
    form: str | None = None,
    values: dict[str, str] | None = None,
    preview: str | None = None,
) -> dict[str, Any]:
    """What the thread page shows `user`. `form` names a refused form (`answer`,
    `question-comment`, `comment-answer-<id>`, `flag-<id>`) and `values` what was typed
    into it, by the same key; `preview` the previewed answer."""
    page = load_thread_page(session, question_id, reader_id=user.id)
    thread = page.thread
    may_write = user.has_role(*CONTRIBUTORS)
    answers = trust_order(thread.answers)
    mine = page.my_votes if may_write else {}
    cards = [
        AnswerCard(
            answer=a,
            verdict=verdict_of(a, page.topic.required_endorsements),
            may_edit=may_write and service.may_edit(user, a.author.id),
            may_vote=may_write and answer_service.may_vote(user, a.author.id),
            may_flag=may_write and a.author.id != user.id,
            may_comment=may_write,
            my_vote=mine.get(a.id, 0),
        )
        for a in answers
    ]
    return {
        "thread": thread,
        "question": thread.question,
        "topic": page.topic,
        "cards": cards,
        "may_write": may_write,
        "may_edit_question": may_write and service.may_edit(user, thread.question.author.id),
        "form": form,
        "values": values or {},
        "preview": preview,
        "errors": {},
    }


@router.get("/questions/{question_id}")
def thread(
    request: Request, session: SessionDep, user: PageUser, question_id: ObjectId
) -> Response:
    return render(request, THREAD, thread_context(session, user, question_id))


@router.post("/questions/{question_id}/comments")
def comment_on_question(
    session: SessionDep,
    user: PageContributor,
    ctx: PageAuditCtx,
    question_id: ObjectId,
    body: Annotated[str, Form()] = "",
) -> Response:
    question = service.get_question(session, question_id)
    try:
        data = CommentCreate.model_validate({"body": body})
    except ValidationError as exc:
        key = "question-comment"
        context = thread_context(session, user, question.id, form=key, values={key: body})
        raise FormRefused(THREAD, context, errors_of(exc)) from None
    comment = add_comment(session, ctx, user, question.id, data.body)
    return redirect(f"/questions/{question.id}#comment-{comment.id}", flash="Comment posted.")


# ---- Editing and deleting a question ----


def _edit_context(
    question_id: int, values: dict[str, str], preview: str | None = None
) -> dict[str, Any]:
    return {"question_id": question_id, "values": values, "preview": preview, "errors": {}}


@router.get("/questions/{question_id}/edit")
def edit_form(
    request: Request, session: SessionDep, user: PageContributor, question_id: ObjectId
) -> Response:
    question = service.get_question(session, question_id)
    service.check_may_edit(user, question.author_id)
    values = {"title": question.title, "body": question.body, "tags": " ".join(question.tags)}
    return render(request, EDIT, _edit_context(question.id, values))


@router.post("/questions/{question_id}/edit")
def edit(
    request: Request,
    session: SessionDep,
    user: PageContributor,
    ctx: PageAuditCtx,
    question_id: ObjectId,
    title: Annotated[str, Form()] = "",
    body: Annotated[str, Form()] = "",
    tags: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "save",
) -> Response:
    question = service.get_question(session, question_id)
    service.check_may_edit(user, question.author_id)
    values = {"title": title, "body": body, "tags": tags}
    if action == "preview":
        if is_htmx(request):
            return render(request, EDIT, {"preview": body}, block="preview")
        return render(request, EDIT, _edit_context(question.id, values, preview=body))
    revision = question.revision
    try:
        data = QuestionUpdate.model_validate(
            {"title": title, "body": body, "tags": split_tags(tags)}
        )
        service.update_question(session, ctx, user, question, data)
    except ValidationError as exc:
        raise FormRefused(EDIT, _edit_context(question.id, values), errors_of(exc)) from None
    return redirect(
        f"/questions/{question.id}",
        flash=edit_outcome(question.revision != revision),
    )


@router.post("/questions/{question_id}/delete")
def delete(
    session: SessionDep, user: PageContributor, ctx: PageAuditCtx, question_id: ObjectId
) -> Response:
    question = service.get_question(session, question_id)
    service.delete_question(session, ctx, user, question)
    return redirect("/", flash=f"The question “{question.title}” is deleted.")


@router.get("/questions/{question_id}/revisions")
def revisions(
    request: Request,
    session: SessionDep,
    _user: PageUser,
    question_id: ObjectId,
    cursor: CursorParam = None,
) -> Response:
    question = service.get_question(session, question_id)
    rows = service.list_revisions(session, question, HISTORY_PAGE + 1, overlapping(cursor))
    history = question_history(rows, cursor)
    next_url = (
        f"/questions/{question.id}/revisions?cursor={history.next_cursor}"
        if history.next_cursor
        else None
    )
    return render(
        request,
        "questions/revisions.html",
        {"question": question, "history": history, "next_url": next_url},
    )
