"""Curating signposts: reliable sources per topic."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.audit.service import AuditContext
from app.errors import Forbidden
from app.pagination import decode_cursor
from app.resources.models import Resource
from app.resources.schemas import ResourceCreate
from app.topics.models import Topic
from app.users.models import Role, User


def may_curate(user: User, topic: Topic) -> bool:
    """Whether `user` may add signposts to `topic`: its experts and admins.

    `user` must have their expert topics loaded (the signed-in user has)."""
    return Role.admin in user.roles or user.is_expert_of(topic.id)


def add_resource(
    session: Session, ctx: AuditContext, user: User, topic: Topic, data: ResourceCreate
) -> Resource:
    if not may_curate(user, topic):
        raise Forbidden("Only experts of this topic and admins curate its resources.")
    resource = Resource(
        topic_id=topic.id,
        title=data.title,
        url=str(data.url),
        description=data.description,
        created_by_id=user.id,
    )
    session.add(resource)
    session.flush()
    audit.record(
        session,
        ctx,
        "resource.create",
        target_type="resource",
        target_id=resource.id,
        payload={
            "after": {
                "topic": topic.slug,
                "title": resource.title,
                "url": resource.url,
                "description": resource.description,
            }
        },
    )
    return resource


def list_resources(
    session: Session, topic_id: int, limit: int | None = None, cursor: str | None = None
) -> list[Resource]:
    """A topic's resources, oldest first; all of them when `limit` is None."""
    query = select(Resource).where(Resource.topic_id == topic_id).order_by(Resource.id)
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(Resource.id > after)
    if limit is not None:
        query = query.limit(limit + 1)
    return list(session.execute(query).scalars())
