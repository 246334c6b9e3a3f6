"""The experts' review queue and the review forms."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from app.answers.models import ValidationState
from app.db import utcnow
from app.deps import SessionDep, SettingsDep
from app.errors import InvalidInput
from app.pagination import CursorParam
from app.reviews import service
from app.reviews.models import Verdict
from app.reviews.queue import QueueDetails, QueueEntry, encode_position, queue_details, review_queue
from app.reviews.schemas import ReviewCreate
from app.reviews.state import effective_state
from app.schemas import ObjectId, UserSummary
from app.users.models import User
from app.web.forms import FORM, FormRefused, errors_of
from app.web.render import plural, redirect, render, when
from app.web.session import PageAuditCtx, PageExpert

router = APIRouter()

QUEUE_PAGE_SIZE = 20
TEMPLATE = "reviews/queue.html"

# The fields of each verdict's form on the page; a message about any other field is shown
# at the top of the form it came from.
FORM_FIELDS: dict[str, tuple[str, ...]] = {
    Verdict.endorse: (),
    Verdict.correct: ("rationale", "correction", "references"),
    Verdict.reject: ("rationale", "references"),
}

# Why an answer is in the queue: (label, badge class).
REASONS = {
    "flagged": ("Flagged as possibly wrong", "flag"),
    "stale": ("Endorsement due for review", "stale"),
    "awaiting": ("Awaiting another endorsement", "awaiting_endorsement"),
    "new": ("New: not yet reviewed", "unreviewed"),
}


@dataclass(frozen=True)
class Refused:
    """A review the page refused: which card and form, what was typed, and the messages."""

    answer_id: int
    verdict: str | None
    values: dict[str, Any]
    errors: dict[str, str]


@dataclass(frozen=True)
class QueueCard:
    """One queued answer as the page shows it: plain values, so a refused form's page can
    still be drawn after its transaction has rolled back."""

    answer_id: int
    question_id: int
    question_title: str
    question_body: str
    topic_name: str
    author: UserSummary
    created_at: datetime
    body: str
    reason: str
    reason_label: str
    reason_badge: str
    detail: str | None
    flag_reasons: list[str]
    state: str
    show_state: bool
    signposts: list[tuple[str, str]]
    next_id: int | None
    # Set on the card whose review was refused: the open form, its messages and values.
    open_form: str | None = None
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    def errors_for(self, verdict: str) -> dict[str, str]:
        return self.errors if self.open_form == verdict else {}

    @property
    def card_error(self) -> str | None:
        """A refused review whose form the page cannot tell (no known verdict)."""
        if self.open_form is None and self.errors:
            return "; ".join(self.errors.values())
        return None

    def value(self, verdict: str, name: str, default: Any = "") -> Any:
        if self.open_form == verdict and name in self.values:
            return self.values[name]
        return default


def _reason(entry: QueueEntry, details: QueueDetails, state: str) -> tuple[str, str | None]:
    """Why the answer waits, and a line that says more."""
    answer = entry.answer
    if entry.reason == "flagged":
        count = len(details.flag_reasons.get(answer.id, [])) or answer.open_flags
        return "flagged", f"{plural(count, 'colleague')} flagged it:"
    if entry.reason == "stale":
        return "stale", f"Last endorsed {when(answer.last_endorsed_at)}"
    if state == ValidationState.awaiting_endorsement:
        endorsers = details.endorsers.get(answer.id, [])
        required = answer.question.topic.required_endorsements
        by = f" (by {', '.join(endorsers)})" if endorsers else ""
        return "awaiting", f"{len(endorsers)} of {required} endorsements so far{by}"
    return "new", None


def _cards(
    entries: list[QueueEntry], details: QueueDetails, now: datetime, refused: Refused | None
) -> list[QueueCard]:
    cards = []
    for i, entry in enumerate(entries):
        answer = entry.answer
        state = effective_state(answer.state, answer.stale_at, now)
        reason, detail = _reason(entry, details, state)
        label, badge = REASONS[reason]
        if reason == "awaiting" and len(details.endorsers.get(answer.id, [])) == 1:
            label = "Awaiting a second endorsement"
        mine = refused is not None and refused.answer_id == answer.id
        cards.append(
            QueueCard(
                answer_id=answer.id,
                question_id=answer.question_id,
                question_title=answer.question.title,
                question_body=answer.question.body,
                topic_name=answer.question.topic.name,
                author=UserSummary.model_validate(answer.author),
                created_at=answer.created_at,
                body=answer.body,
                reason=reason,
                reason_label=label,
                reason_badge=badge,
                detail=detail,
                flag_reasons=details.flag_reasons.get(answer.id, []),
                state=state,
                show_state=reason == "flagged" and state != ValidationState.unreviewed,
                signposts=[
                    (str(r.id), r.title) for r in details.signposts.get(answer.topic_id, [])
                ],
                next_id=entries[i + 1].answer.id if i + 1 < len(entries) else None,
                open_form=refused.verdict if mine and refused else None,
                errors=refused.errors if mine and refused else {},
                values=refused.values if mine and refused else {},
            )
        )
    return cards


def _queue_context(
    session: Session, user: User, cursor: str | None, refused: Refused | None = None
) -> dict[str, Any]:
    now = utcnow()
    entries = review_queue(session, user, now, QUEUE_PAGE_SIZE, cursor)
    shown = entries[:QUEUE_PAGE_SIZE]
    cards = _cards(shown, queue_details(session, shown), now, refused)
    after = encode_position(shown[-1]) if len(entries) > QUEUE_PAGE_SIZE else None
    elsewhere = refused is not None and all(c.answer_id != refused.answer_id for c in cards)
    return {
        "cards": cards,
        "cursor": cursor,
        "topics": [t.name for t in user.expert_topics],
        "next_url": "/reviews?" + urlencode({"cursor": after}) if after else None,
        # A refused review of an answer no longer on this page: its messages go on top.
        "page_errors": list(refused.errors.values()) if refused and elsewhere else [],
    }


@router.get("/reviews")
def queue_page(
    request: Request, session: SessionDep, user: PageExpert, cursor: CursorParam = None
) -> Response:
    return render(request, TEMPLATE, _queue_context(session, user, cursor))


def _reference(value: str) -> int | str:
    """A ticked signpost's id as the number the API takes; anything else as sent."""
    return int(value) if value.isascii() and value.isdecimal() else value


def _placed(errors: dict[str, str], verdict: str | None) -> dict[str, str]:
    """Each message beside the field of the submitted form it is about.

    The verdict's requirements are checked on the whole review (the API reports them on
    `body`); each names the field it wants, so that is where the page shows it."""
    fields = FORM_FIELDS.get(verdict or "", ())
    placed: dict[str, str] = {}
    for name, message in errors.items():
        if name == FORM:
            name = next((f for f in fields if f in message), FORM)
        elif name not in fields:
            name = FORM
        placed[name] = f"{placed[name]}; {message}" if name in placed else message
    return placed


def _confirmation(verdict: str, outcome: service.ReviewOutcome) -> str:
    title = f"“{outcome.question_title}”"
    if verdict == Verdict.correct:
        return f"Corrected the answer to {title}: your correction now shows as the answer."
    if verdict == Verdict.reject:
        return f"Rejected the answer to {title}."
    if outcome.state == ValidationState.awaiting_endorsement:
        return f"Endorsed the answer to {title}; it now awaits another expert's endorsement."
    return f"Endorsed the answer to {title}."


@router.post("/answers/{answer_id}/review")
def review_answer(
    session: SessionDep,
    settings: SettingsDep,
    user: PageExpert,
    ctx: PageAuditCtx,
    answer_id: ObjectId,
    verdict: Annotated[str, Form()] = "",
    rationale: Annotated[str, Form()] = "",
    correction: Annotated[str | None, Form()] = None,
    references: Annotated[list[str] | None, Form()] = None,
    next_answer: Annotated[int | None, Form(ge=1)] = None,
    cursor: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    submitted = {
        "verdict": verdict,
        # A field left blank is a field not given: the verdict's own message explains it.
        "rationale": rationale.strip() or None,
        "correction": (correction or "").strip() or None,
        "references": [_reference(r) for r in references or []],
    }
    try:
        body = ReviewCreate.model_validate(submitted)
        review = service.create_review(session, settings, ctx, user, answer_id, body)
    except (ValidationError, InvalidInput) as exc:
        form = verdict if verdict in FORM_FIELDS else None
        values = {
            "rationale": rationale,
            "correction": correction or "",
            "references": references or [],
        }
        refused = Refused(answer_id, form, values, _placed(errors_of(exc), form))
        raise FormRefused(
            TEMPLATE, _queue_context(session, user, cursor, refused), refused.errors
        ) from None
    outcome = service.review_outcome(session, review)
    url = "/reviews" + ("?" + urlencode({"cursor": cursor}) if cursor else "")
    if next_answer:
        url += f"#answer-{next_answer}"
    return redirect(url, flash=_confirmation(verdict, outcome))
