"""Creating, changing and listing topics."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.audit.service import AuditContext
from app.errors import Conflict
from app.pagination import decode_cursor
from app.topics.models import Topic
from app.topics.schemas import TopicCreate, TopicUpdate

EDITABLE = ("name", "description", "required_endorsements", "review_interval_days")


def snapshot(topic: Topic) -> dict[str, Any]:
    return {"slug": topic.slug, **{name: getattr(topic, name) for name in EDITABLE}}


def create_topic(session: Session, ctx: AuditContext, data: TopicCreate) -> Topic:
    if session.execute(select(Topic.id).where(Topic.slug == data.slug)).first():
        raise Conflict(f"A topic with slug {data.slug!r} exists.")
    topic = Topic(**data.model_dump())
    session.add(topic)
    session.flush()
    audit.record(
        session,
        ctx,
        "topic.create",
        target_type="topic",
        target_id=topic.id,
        payload={"after": snapshot(topic)},
    )
    return topic


def update_topic(session: Session, ctx: AuditContext, topic: Topic, data: TopicUpdate) -> Topic:
    changes = {
        name: value
        for name, value in data.model_dump(exclude_unset=True).items()
        if getattr(topic, name) != value
    }
    # `null` is meaningful only for the review interval; elsewhere it means "unchanged".
    changes = {k: v for k, v in changes.items() if v is not None or k == "review_interval_days"}
    if not changes:
        return topic
    before = {name: getattr(topic, name) for name in changes}
    for name, value in changes.items():
        setattr(topic, name, value)
    session.flush()
    audit.record(
        session,
        ctx,
        "topic.update",
        target_type="topic",
        target_id=topic.id,
        payload={"before": before, "after": changes},
    )
    return topic


def list_topics(session: Session, limit: int, cursor: str | None) -> list[Topic]:
    after = decode_cursor(cursor)
    query = select(Topic).order_by(Topic.id).limit(limit + 1)
    if after is not None:
        query = query.where(Topic.id > after)
    return list(session.execute(query).scalars())


def all_topics(session: Session) -> list[Topic]:
    """Every topic, by name: the choices of a form that picks topics."""
    return list(session.execute(select(Topic).order_by(Topic.name, Topic.id)).scalars())
