"""Finding topics by slug, shared by every domain that names a topic."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import InvalidInput, NotFound
from app.topics.models import Topic


def topic_by_slug(session: Session, slug: str) -> Topic:
    """The topic with this slug; 404 when there is none."""
    topic = session.execute(select(Topic).where(Topic.slug == slug)).scalar_one_or_none()
    if topic is None:
        raise NotFound(f"No topic with slug {slug!r}.")
    return topic


def topics_named_in_body(session: Session, slugs: Sequence[str], field: str) -> list[Topic]:
    """The topics a request body names, in order; 422 naming any unknown slug."""
    if not slugs:
        return []
    found = {
        t.slug: t for t in session.execute(select(Topic).where(Topic.slug.in_(slugs))).scalars()
    }
    unknown = [slug for slug in slugs if slug not in found]
    if unknown:
        raise InvalidInput(
            f"Unknown topic: {', '.join(unknown)}.",
            errors=[{"field": field, "message": f"unknown topic {s!r}"} for s in unknown],
        )
    return [found[slug] for slug in slugs]
