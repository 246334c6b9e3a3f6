"""Answer pages: answering, editing, deleting, votes, flags, comments, revision history.

Each calls the service the API's router calls; a refused form shows the thread (or the
edit page) again with the message beside the field and what was typed kept.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from starlette.responses import Response

from app.answers import service
from app.answers.models import Answer
from app.answers.schemas import AnswerCreate, AnswerUpdate, VoteCreate
from app.comments.schemas import CommentCreate
from app.comments.service import add_comment
from app.deps import SessionDep
from app.errors import Conflict
from app.pagination import CursorParam
from app.questions.revisions import HISTORY_PAGE, answer_history, overlapping
from app.questions.service import check_may_edit, get_question
from app.reviews.schemas import FlagCreate
from app.reviews.service import flag_answer
from app.schemas import ObjectId
from app.web.forms import FORM, FormRefused, edit_outcome, errors_of
from app.web.questions import THREAD, thread_context
from app.web.render import STATE_LABELS, is_htmx, redirect, render
from app.web.session import PageAuditCtx, PageContributor, PageUser

router = APIRouter()

EDIT = "answers/edit.html"


def _at(question_id: int, answer_id: int) -> str:
    return f"/questions/{question_id}#answer-{answer_id}"


@router.post("/questions/{question_id}/answers")
def answer(
    request: Request,
    session: SessionDep,
    user: PageContributor,
    ctx: PageAuditCtx,
    question_id: ObjectId,
    body: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "post",
) -> Response:
    question = get_question(session, question_id)
    if action == "preview":
        if is_htmx(request):
            return render(request, THREAD, {"preview": body}, block="preview")
        context = thread_context(
            session, user, question.id, form="answer", values={"answer": body}, preview=body
        )
        return render(request, THREAD, context)
    try:
        data = AnswerCreate.model_validate({"body": body})
    except ValidationError as exc:
        context = thread_context(session, user, question.id, form="answer", values={"answer": body})
        raise FormRefused(THREAD, context, errors_of(exc)) from None
    created = service.create_answer(session, ctx, user, question, data)
    return redirect(
        _at(question.id, created.id),
        flash="Your answer is posted. An expert of the topic will review it.",
    )


def _edit_context(
    answer: Answer, question_title: str, body: str, preview: str | None = None
) -> dict[str, Any]:
    return {
        "answer_id": answer.id,
        "question_id": answer.question_id,
        "question_title": question_title,
        # Saving a change returns a reviewed answer to unreviewed: say so before it happens.
        "review_resets": STATE_LABELS[answer.state] if answer.state != "unreviewed" else None,
        "values": {"body": body},
        "preview": preview,
        "errors": {},
    }


@router.get("/answers/{answer_id}/edit")
def edit_form(
    request: Request, session: SessionDep, user: PageContributor, answer_id: ObjectId
) -> Response:
    found = service.get_answer(session, answer_id)
    check_may_edit(user, found.author_id)
    question = get_question(session, found.question_id)
    return render(request, EDIT, _edit_context(found, question.title, found.body))


@router.post("/answers/{answer_id}/edit")
def edit(
    request: Request,
    session: SessionDep,
    user: PageContributor,
    ctx: PageAuditCtx,
    answer_id: ObjectId,
    body: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "save",
) -> Response:
    found = service.get_answer(session, answer_id)
    check_may_edit(user, found.author_id)
    if action == "preview" and is_htmx(request):
        return render(request, EDIT, {"preview": body}, block="preview")
    question = get_question(session, found.question_id)
    if action == "preview":
        return render(request, EDIT, _edit_context(found, question.title, body, preview=body))
    revision = found.revision
    context = _edit_context(found, question.title, body)
    try:
        service.update_answer(
            session, ctx, user, found, AnswerUpdate.model_validate({"body": body})
        )
    except ValidationError as exc:
        raise FormRefused(EDIT, context, errors_of(exc)) from None
    return redirect(
        _at(found.question_id, found.id),
        flash=edit_outcome(found.revision != revision),
    )


@router.post("/answers/{answer_id}/delete")
def delete(
    session: SessionDep, user: PageContributor, ctx: PageAuditCtx, answer_id: ObjectId
) -> Response:
    found = service.get_answer(session, answer_id)
    service.delete_answer(session, ctx, user, found)
    return redirect(f"/questions/{found.question_id}#answers", flash="The answer is deleted.")


def _vote_value(value: str) -> int | str:
    # A form sends text; the API's model takes the integers 1 and -1 only.
    return int(value) if value in ("1", "-1") else value


@router.post("/answers/{answer_id}/vote")
def vote(
    session: SessionDep,
    user: PageContributor,
    ctx: PageAuditCtx,
    answer_id: ObjectId,
    value: Annotated[str, Form()] = "",
) -> Response:
    found = service.get_answer(session, answer_id)
    try:
        data = VoteCreate.model_validate({"value": _vote_value(value)})
    except ValidationError:
        context = thread_context(session, user, found.question_id, form="vote")
        raise FormRefused(THREAD, context, {FORM: "A vote is up (1) or down (-1)."}) from None
    service.cast_vote(session, ctx, user, found, data.value)
    word = "up" if data.value == 1 else "down"
    return redirect(_at(found.question_id, found.id), flash=f"You voted this answer {word}.")


@router.post("/answers/{answer_id}/flag")
def flag(
    session: SessionDep,
    user: PageContributor,
    ctx: PageAuditCtx,
    answer_id: ObjectId,
    reason: Annotated[str, Form()] = "",
) -> Response:
    found = service.get_answer(session, answer_id)
    key = f"flag-{found.id}"
    try:
        data = FlagCreate.model_validate({"reason": reason})
        flag_answer(session, ctx, user, found.id, data.reason)
    except (ValidationError, Conflict) as exc:
        errors = errors_of(exc) if isinstance(exc, ValidationError) else {"reason": exc.detail}
        context = thread_context(session, user, found.question_id, form=key, values={key: reason})
        raise FormRefused(
            THREAD, context, errors, status=409 if isinstance(exc, Conflict) else 422
        ) from None
    return redirect(
        _at(found.question_id, found.id),
        flash="Thank you: the answer is flagged, and goes to the front of the experts' queue.",
    )


@router.post("/answers/{answer_id}/comments")
def comment(
    session: SessionDep,
    user: PageContributor,
    ctx: PageAuditCtx,
    answer_id: ObjectId,
    body: Annotated[str, Form()] = "",
) -> Response:
    found = service.get_answer(session, answer_id)
    try:
        data = CommentCreate.model_validate({"body": body})
    except ValidationError as exc:
        key = f"comment-answer-{found.id}"
        context = thread_context(session, user, found.question_id, form=key, values={key: body})
        raise FormRefused(THREAD, context, errors_of(exc)) from None
    created = add_comment(session, ctx, user, found.question_id, data.body, answer_id=found.id)
    return redirect(f"/questions/{found.question_id}#comment-{created.id}", flash="Comment posted.")


@router.get("/answers/{answer_id}/revisions")
def revisions(
    request: Request,
    session: SessionDep,
    _user: PageUser,
    answer_id: ObjectId,
    cursor: CursorParam = None,
) -> Response:
    found = service.get_answer(session, answer_id)
    question = get_question(session, found.question_id)
    rows = service.list_revisions(session, found, HISTORY_PAGE + 1, overlapping(cursor))
    history = answer_history(rows, cursor)
    next_url = (
        f"/answers/{found.id}/revisions?cursor={history.next_cursor}"
        if history.next_cursor
        else None
    )
    return render(
        request,
        "answers/revisions.html",
        {"answer": found, "question": question, "history": history, "next_url": next_url},
    )
