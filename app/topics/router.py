from fastapi import APIRouter, status

from app.deps import Admin, AuditCtx, CurrentUser, SessionDep
from app.pagination import CursorParam, Page, PageSize, next_cursor
from app.topics import service
from app.topics.lookup import topic_by_slug
from app.topics.schemas import TopicCreate, TopicOut, TopicUpdate

router = APIRouter(prefix="/topics", tags=["topics"])


@router.get("", response_model=Page[TopicOut], summary="List topics")
def list_topics(
    session: SessionDep, _user: CurrentUser, limit: PageSize = 100, cursor: CursorParam = None
) -> Page[TopicOut]:
    rows = service.list_topics(session, limit, cursor)
    items = [TopicOut.model_validate(t) for t in rows[:limit]]
    return Page(items=items, next_cursor=next_cursor(rows, limit))


@router.post(
    "",
    response_model=TopicOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a topic (admin)",
)
def create_topic(session: SessionDep, _admin: Admin, ctx: AuditCtx, body: TopicCreate) -> TopicOut:
    return TopicOut.model_validate(service.create_topic(session, ctx, body))


@router.patch("/{slug}", response_model=TopicOut, summary="Change a topic's settings (admin)")
def update_topic(
    session: SessionDep, _admin: Admin, ctx: AuditCtx, slug: str, body: TopicUpdate
) -> TopicOut:
    topic = topic_by_slug(session, slug)
    return TopicOut.model_validate(service.update_topic(session, ctx, topic, body))
