"""Learning-need signals: the list, their lifecycle steps, the wrong-answer chart."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from pydantic import BeforeValidator, ValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from app.audit.service import AuditContext
from app.config import Settings
from app.db import utcnow
from app.deps import SessionDep, SettingsDep
from app.errors import Conflict
from app.pagination import CursorParam, next_cursor
from app.schemas import ObjectId, Slug, UserSummary
from app.signals import service
from app.signals.models import LearningNeed, SignalKind, SignalStatus
from app.signals.schemas import SignalNote
from app.signals.trend import WeekRate, wrong_rate_by_week
from app.topics.lookup import topic_by_slug
from app.topics.models import Topic
from app.topics.service import list_topics
from app.users.models import User
from app.web.forms import FORM, FormRefused, errors_of
from app.web.render import redirect, render
from app.web.session import PageAuditCtx, PageCurator, PageUser

router = APIRouter()

PAGE_SIZE = 20
TEMPLATE = "learning_needs/list.html"

STATUS_LABELS: dict[str, str] = {
    SignalStatus.open: "Open",
    SignalStatus.acknowledged: "Acknowledged",
    SignalStatus.addressed: "Addressed",
}
KIND_LABELS: dict[str, str] = {SignalKind.thread: "Thread", SignalKind.topic: "Topic"}
# The confirmation after each step, given what it was taken on.
CONFIRMATIONS = {
    "acknowledge": "Acknowledged {what}.",
    "address": "Marked {what} as addressed.",
}


def _blank_is_none(value: Any) -> Any:
    """A filter left at "any" arrives as an empty value: no filter."""
    return value or None


@dataclass(frozen=True)
class Filters:
    status: SignalStatus | None
    topic: str | None
    kind: SignalKind | None
    cursor: str | None

    def query(self, **changes: str | None) -> str:
        """This listing's query string (with `changes`), '' when it has none."""
        params = {"status": self.status, "topic": self.topic, "kind": self.kind}
        params |= {"cursor": self.cursor} | changes
        kept = {k: v for k, v in params.items() if v}
        return "?" + urlencode(kept) if kept else ""


def listing_filters(
    status: Annotated[SignalStatus | None, Query(), BeforeValidator(_blank_is_none)] = None,
    topic: Annotated[Slug | None, Query(), BeforeValidator(_blank_is_none)] = None,
    kind: Annotated[SignalKind | None, Query(), BeforeValidator(_blank_is_none)] = None,
    cursor: CursorParam = None,
) -> Filters:
    return Filters(status, topic, kind, cursor or None)


FiltersDep = Annotated[Filters, Depends(listing_filters)]


@dataclass(frozen=True)
class TopicLabel:
    """A topic as the page names it. The page holds plain values only, never rows: a refused
    form's page is drawn after its transaction has rolled back."""

    id: int
    slug: str
    name: str

    @classmethod
    def of(cls, topic: Topic) -> "TopicLabel":
        return cls(topic.id, topic.slug, topic.name)


# ---- The chart: a topic's weekly wrong-answer rate as inline SVG (numbers only) ----

WIDTH, HEIGHT = 520, 240
LEFT, RIGHT, TOP, BOTTOM = 58, 34, 26, 36


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    count: str  # "2/5"
    label: str  # "Week of 3 Mar: 2 of 5 reviewed answers wrong (40%)"


@dataclass(frozen=True)
class Chart:
    topic: TopicLabel
    weeks: list[WeekRate]
    path: str
    points: list[ChartPoint]
    x_labels: list[tuple[float, str, bool]]  # x, text, whether a narrow screen may drop it
    y_ticks: list[tuple[float, str]]
    threshold_y: float
    threshold: str
    summary: str
    rows: list[
        tuple[str, int, int, str]
    ]  # the same numbers as a table: week, reviewed, wrong, rate
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    bottom: int = HEIGHT - BOTTOM


def _day(value: datetime) -> str:
    return f"{value.day} {value:%b}"


def _percent(rate: float) -> str:
    return f"{rate:.0%}"


def wrong_rate_chart(topic: TopicLabel, weeks: list[WeekRate], threshold: float) -> Chart:
    """The geometry of one topic's chart: weeks along, 0 to 100 % up, a gap where a week had
    no reviews, and the topic threshold."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(weeks) - 1, 1)

    def x(i: int) -> float:
        return round(LEFT + i * step, 1)

    def y(rate: float) -> float:
        return round(TOP + (1 - rate) * plot_h, 1)

    points: list[ChartPoint] = []
    path: list[str] = []
    previous = False
    for i, week in enumerate(weeks):
        rate = week.rate
        if rate is None:
            previous = False
            continue
        path.append(f"{'L' if previous else 'M'}{x(i)},{y(rate)}")
        previous = True
        points.append(
            ChartPoint(
                x(i),
                y(rate),
                f"{week.wrong}/{week.reviewed}",
                f"Week of {_day(week.start)}: {week.wrong} of {week.reviewed} reviewed "
                f"answers wrong ({_percent(rate)})",
            )
        )
    reviewed = [w for w in weeks if w.reviewed]
    if reviewed:
        latest = reviewed[-1]
        summary = (
            f"Wrong-answer rate of {topic.name}, week by week over the last {len(weeks)} weeks; "
            f"latest week with reviews: week of {_day(latest.start)}, {latest.wrong} of "
            f"{latest.reviewed} wrong ({_percent(latest.wrong / latest.reviewed)}); "
            f"threshold {_percent(threshold)}."
        )
    else:
        summary = f"No answers of {topic.name} were reviewed in the last {len(weeks)} weeks."
    return Chart(
        topic=topic,
        weeks=weeks,
        path=" ".join(path),
        points=points,
        # Every other week, ending on the current one; a narrow screen shows every fourth.
        x_labels=[
            (x(i), _day(w.start), (len(weeks) - 1 - i) % 4 != 0)
            for i, w in enumerate(weeks)
            if (len(weeks) - 1 - i) % 2 == 0
        ],
        y_ticks=[(y(r), _percent(r)) for r in (0, 0.25, 0.5, 0.75, 1)],
        threshold_y=y(threshold),
        threshold=_percent(threshold),
        summary=summary,
        rows=[
            (
                _day(w.start),
                w.reviewed,
                w.wrong,
                _percent(w.rate) if w.rate is not None else "no reviews",
            )
            for w in weeks
        ],
    )


# ---- The listing ----


@dataclass(frozen=True)
class Step:
    label: str
    actor: UserSummary | None
    at: datetime
    note: str
    counts: str


@dataclass(frozen=True)
class NeedCard:
    id: int
    kind: str
    status: str
    question_id: int
    kind_label: str
    status_label: str
    topic: TopicLabel
    question_title: str | None
    counts: str
    history: list[Step]
    can_acknowledge: bool
    can_address: bool
    # Set on the card whose step was refused: which form, what was typed, the messages.
    refused_step: str | None = None
    note: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    def errors_for(self, step: str) -> dict[str, str]:
        return self.errors if self.refused_step == step else {}

    def note_for(self, step: str) -> str:
        return self.note if self.refused_step == step else ""

    @property
    def card_error(self) -> str | None:
        """A refused step whose form the card no longer offers (it was taken meanwhile)."""
        offered = {"acknowledge": self.can_acknowledge, "address": self.can_address}
        if self.refused_step and not offered.get(self.refused_step) and self.errors:
            return "; ".join(self.errors.values())
        return None


@dataclass(frozen=True)
class Refused:
    need_id: int
    step: str
    note: str
    errors: dict[str, str]


def _counts(need: LearningNeed, wrong: int, reviewed: int, settings: Settings) -> str:
    where = (
        "on this thread"
        if need.kind == SignalKind.thread
        else f"in the last {settings.topic_window_days} days"
    )
    return f"{wrong} wrong of {reviewed} reviewed answers {where}"


def _history(need: LearningNeed, actors: dict[int, User]) -> list[Step]:
    """The signal's steps as they were stored; an "open" after the first is a reopening."""
    steps = []
    for i, step in enumerate(need.history):
        label = STATUS_LABELS.get(step.status, step.status)
        if step.status == SignalStatus.open:
            label = "Reopened" if i else "Opened"
        actor = actors.get(step.actor_id) if step.actor_id else None
        steps.append(
            Step(
                label,
                UserSummary.model_validate(actor) if actor else None,
                step.at,
                step.note,
                f"{step.wrong_count} of {step.reviewed_count} reviewed answers wrong",
            )
        )
    return steps


def _may_step(need: LearningNeed, step: str) -> bool:
    allowed_from, _ = service.TRANSITIONS[step]
    return need.status in allowed_from


def _cards(
    needs: list[LearningNeed],
    labels: service.NeedLabels,
    user: User,
    settings: Settings,
    refused: Refused | None,
) -> list[NeedCard]:
    cards = []
    for need in needs:
        may = service.may_handle(user, need.topic_id)
        mine = refused is not None and refused.need_id == need.id
        cards.append(
            NeedCard(
                id=need.id,
                kind=need.kind,
                status=need.status,
                question_id=need.question_id,
                kind_label=KIND_LABELS.get(need.kind, need.kind),
                status_label=STATUS_LABELS.get(need.status, need.status),
                topic=TopicLabel.of(labels.topics[need.topic_id]),
                question_title=labels.titles.get(need.question_id),
                counts=_counts(need, need.wrong_count, need.reviewed_count, settings),
                history=_history(need, labels.actors),
                can_acknowledge=may and _may_step(need, "acknowledge"),
                can_address=may and _may_step(need, "address"),
                refused_step=refused.step if mine and refused else None,
                note=refused.note if mine and refused else "",
                errors=refused.errors if mine and refused else {},
            )
        )
    return cards


def _chart_topics(
    selected: Topic | None, labels: service.NeedLabels, user: User
) -> list[TopicLabel]:
    """The topic filtered on; else the listed signals' topics and the viewer's own."""
    if selected is not None:
        return [TopicLabel.of(selected)]
    topics = {**labels.topics, **{t.id: t for t in user.expert_topics}}
    return sorted(map(TopicLabel.of, topics.values()), key=lambda t: t.name.lower())


def _listing_context(
    session: Session,
    settings: Settings,
    user: User,
    filters: Filters,
    refused: Refused | None = None,
) -> dict[str, Any]:
    selected = topic_by_slug(session, filters.topic) if filters.topic else None
    rows = service.list_needs(
        session,
        limit=PAGE_SIZE,
        cursor=filters.cursor,
        topic_id=selected.id if selected else None,
        status=filters.status,
        kind=filters.kind,
    )
    needs = rows[:PAGE_SIZE]
    labels = service.page_labels(session, needs)
    chart_topics = _chart_topics(selected, labels, user)
    series = wrong_rate_by_week(session, [t.id for t in chart_topics], utcnow())
    after = next_cursor(rows, PAGE_SIZE)
    return {
        "cards": _cards(needs, labels, user, settings, refused),
        "charts": [
            wrong_rate_chart(t, series[t.id], settings.topic_wrong_rate) for t in chart_topics
        ],
        "filters": filters,
        "here": filters.query(),
        "next_url": "/learning-needs" + filters.query(cursor=after) if after else None,
        "statuses": list(STATUS_LABELS.items()),
        "kinds": list(KIND_LABELS.items()),
        "topics": [(t.slug, t.name) for t in list_topics(session, 100, None)],
        "filtered": bool(filters.status or filters.topic or filters.kind),
        "page_errors": [],
        "window_days": settings.topic_window_days,
        "min_reviewed": settings.topic_min_reviewed,
    }


@router.get("/learning-needs")
def learning_needs(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: PageUser,
    filters: FiltersDep,
) -> Response:
    return render(request, TEMPLATE, _listing_context(session, settings, user, filters))


def _step(
    session: Session,
    settings: Settings,
    user: User,
    ctx: AuditContext,
    filters: Filters,
    need_id: int,
    step: str,
    note: str,
) -> Response:
    """Take a signal's step like the API does; a refused note or a step already past (409)
    shows the message in that signal's form, with the note kept."""
    need = service.get_need(session, need_id)
    try:
        body = SignalNote.model_validate({"note": note})
        service.transition(session, ctx, user, need, step, body.note, utcnow())
    except (ValidationError, Conflict) as exc:
        errors = errors_of(exc) if isinstance(exc, ValidationError) else {FORM: exc.detail}
        status = 409 if isinstance(exc, Conflict) else 422
        refused = Refused(need_id, step, note, errors)
        context = _listing_context(session, settings, user, filters, refused)
        if all(card.id != need_id for card in context["cards"]):
            context["page_errors"] = list(errors.values())
        raise FormRefused(TEMPLATE, context, errors, status=status) from None
    _, titles = service.labels(session, [need])
    title = titles.get(need.question_id)
    what = f"the learning need on “{title}”" if title else "the topic's learning need"
    return redirect(
        f"/learning-needs{filters.query()}#need-{need_id}",
        flash=CONFIRMATIONS[step].format(what=what),
    )


@router.post("/learning-needs/{need_id}/acknowledge")
def acknowledge(
    session: SessionDep,
    settings: SettingsDep,
    user: PageCurator,
    ctx: PageAuditCtx,
    filters: FiltersDep,
    need_id: ObjectId,
    note: Annotated[str, Form()] = "",
) -> Response:
    return _step(session, settings, user, ctx, filters, need_id, "acknowledge", note)


@router.post("/learning-needs/{need_id}/address")
def address(
    session: SessionDep,
    settings: SettingsDep,
    user: PageCurator,
    ctx: PageAuditCtx,
    filters: FiltersDep,
    need_id: ObjectId,
    note: Annotated[str, Form()] = "",
) -> Response:
    return _step(session, settings, user, ctx, filters, need_id, "address", note)
